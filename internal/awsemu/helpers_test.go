package awsemu_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/trailguard/trailguard/internal/awsemu"
)

var ctx = context.Background()

const (
	acctA  = "111122223333"
	acctB  = "444455556666"
	mgmt   = "999988887777"
	member = "123412341234"
)

// env is an emulator on a loopback server, reached over HTTP by the real
// SDK clients.
type env struct {
	emu *awsemu.Emulator
	srv *httptest.Server
}

func newEnv(t *testing.T) *env {
	t.Helper()
	emu, srv := awsemu.Start()
	t.Cleanup(srv.Close)
	return &env{emu: emu, srv: srv}
}

// cfg is an SDK configuration for the given keys and region. Retries are
// off so that injected faults and throttling reach the test as they are.
func (e *env) cfg(c awsemu.Credentials, region string) aws.Config {
	return aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken),
		BaseEndpoint: aws.String(e.srv.URL),
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
	}
}

func (e *env) ct(c awsemu.Credentials, region string) *cloudtrail.Client {
	return cloudtrail.NewFromConfig(e.cfg(c, region))
}

func (e *env) sts(c awsemu.Credentials, region string) *sts.Client {
	return sts.NewFromConfig(e.cfg(c, region))
}

func (e *env) ec2(c awsemu.Credentials, region string) *ec2.Client {
	return ec2.NewFromConfig(e.cfg(c, region))
}

func (e *env) org(c awsemu.Credentials) *organizations.Client {
	return organizations.NewFromConfig(e.cfg(c, "us-east-1"))
}

func (e *env) s3(c awsemu.Credentials, region string) *s3.Client {
	return s3.NewFromConfig(e.cfg(c, region), func(o *s3.Options) { o.UsePathStyle = true })
}

// s3VirtualHost is an S3 client using virtual-hosted style: requests go to
// <bucket>.localhost:<port>, which its transport dials at the emulator. The
// hosts it sent requests to are appended to hosts.
func (e *env) s3VirtualHost(c awsemu.Credentials, region string, hosts *[]string) *s3.Client {
	addr := e.srv.Listener.Addr().String()
	_, port, _ := net.SplitHostPort(addr)
	cfg := e.cfg(c, region)
	cfg.BaseEndpoint = aws.String("http://localhost:" + port)
	cfg.HTTPClient = &http.Client{Transport: recordHosts{hosts, &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	}}}
	return s3.NewFromConfig(cfg)
}

type recordHosts struct {
	hosts *[]string
	next  http.RoundTripper
}

func (r recordHosts) RoundTrip(req *http.Request) (*http.Response, error) {
	*r.hosts = append(*r.hosts, req.URL.Host)
	return r.next.RoundTrip(req)
}

// bucket creates an S3 bucket for the account through the API, with a
// policy that lets CloudTrail deliver to it.
func (e *env) bucket(t *testing.T, c awsemu.Credentials, region, name string) {
	t.Helper()
	e.bareBucket(t, c, region, name)
	if _, err := e.s3(c, region).PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(name), Policy: aws.String(cloudTrailPolicy(name))}); err != nil {
		t.Fatalf("bucket policy %s: %v", name, err)
	}
}

// bareBucket creates an S3 bucket with no policy.
func (e *env) bareBucket(t *testing.T, c awsemu.Credentials, region, name string) {
	t.Helper()
	in := &s3.CreateBucketInput{Bucket: aws.String(name)}
	if region != "us-east-1" {
		in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(region)}
	}
	if _, err := e.s3(c, region).CreateBucket(ctx, in); err != nil {
		t.Fatalf("create bucket %s: %v", name, err)
	}
}

func (e *env) kms(c awsemu.Credentials, region string) *kms.Client {
	return kms.NewFromConfig(e.cfg(c, region))
}

// cloudTrailKey creates a KMS key whose policy lets CloudTrail use it, and
// returns its id.
func (e *env) cloudTrailKey(t *testing.T, c awsemu.Credentials, region string) string {
	t.Helper()
	out, err := e.kms(c, region).CreateKey(ctx, &kms.CreateKeyInput{Policy: aws.String(`{"Version":"2012-10-17","Statement":[` +
		`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + c.AccountID + `:root"},"Action":"kms:*","Resource":"*"},` +
		`{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"kms:GenerateDataKey*","Resource":"*",` +
		`"Condition":{"StringLike":{"kms:EncryptionContext:aws:cloudtrail:arn":"arn:aws:cloudtrail:*:` + c.AccountID + `:trail/*"}}}]}`)})
	if err != nil {
		t.Fatalf("create key: %v", err)
	}
	return aws.ToString(out.KeyMetadata.KeyId)
}

// cloudTrailPolicy lets CloudTrail deliver to a bucket, for any trail.
func cloudTrailPolicy(bucket string) string {
	return `{"Version":"2012-10-17","Statement":[` +
		`{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:GetBucketAcl","Resource":"arn:aws:s3:::` + bucket + `"},` +
		`{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::` + bucket + `/*"}]}`
}

// trail creates a trail through the API, with a fresh bucket.
func (e *env) trail(t *testing.T, c awsemu.Credentials, region, name string, multi bool) string {
	t.Helper()
	bucket := "logs-" + c.AccountID + "-" + name
	e.bucket(t, c, region, bucket)
	out, err := e.ct(c, region).CreateTrail(ctx, &cloudtrail.CreateTrailInput{
		Name: aws.String(name), S3BucketName: aws.String(bucket), IsMultiRegionTrail: aws.Bool(multi),
	})
	if err != nil {
		t.Fatalf("create trail %s: %v", name, err)
	}
	return aws.ToString(out.TrailARN)
}

// orgTrail seeds a logging multi-region organization trail of mgmt in
// us-east-1, with member in mgmt's organization.
func (e *env) orgTrail(t *testing.T, multi bool) (mgmtCreds, memberCreds awsemu.Credentials, arn string) {
	t.Helper()
	mgmtCreds, memberCreds = e.emu.AddAccount(mgmt), e.emu.AddAccount(member)
	e.emu.SetOrganization(mgmt, member)
	arn, err := e.emu.PutTrail(mgmt, awsemu.TrailSpec{
		Name: "org-trail", HomeRegion: "us-east-1", S3BucketName: "org-logs",
		IsMultiRegion: multi, IsOrganizationTrail: true, IncludeGlobalServiceEvents: true, Logging: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return mgmtCreds, memberCreds, arn
}

// wantErr fails unless err is (or wraps) a T: the SDK decoded the
// emulator's error to that modeled type.
func wantErr[T error](t *testing.T, err error) T {
	t.Helper()
	var target T
	if !errors.As(err, &target) {
		t.Fatalf("error %v (%T), want %T", err, err, target)
	}
	return target
}

// wantCode fails unless err is an API error with that code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var api smithy.APIError
	if !errors.As(err, &api) {
		t.Fatalf("error %v, want API error %s", err, code)
	}
	if api.ErrorCode() != code {
		t.Fatalf("error code %s (%v), want %s", api.ErrorCode(), err, code)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
