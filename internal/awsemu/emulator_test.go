package awsemu_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/trailguard/trailguard/internal/awsemu"
)

// callEach calls one cheap operation of every service with the given keys
// and region and returns the errors by service.
func callEach(e *env, c awsemu.Credentials, region string) map[string]error {
	out := map[string]error{}
	_, out["cloudtrail"] = e.ct(c, region).DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{})
	_, out["sts"] = e.sts(c, region).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	_, out["ec2"] = e.ec2(c, region).DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
	_, out["s3"] = e.s3(c, region).ListBuckets(ctx, &s3.ListBucketsInput{})
	_, out["organizations"] = organizations.NewFromConfig(e.cfg(c, region)).DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	return out
}

func TestCredentials(t *testing.T) {
	tests := []struct {
		name   string
		keys   func(e *env) awsemu.Credentials
		region string
		want   map[string]string // service → error code
	}{
		{"unknown_access_key", func(e *env) awsemu.Credentials {
			return awsemu.Credentials{AccessKeyID: "AKIAUNKNOWN000000000", SecretAccessKey: "x"}
		}, "us-east-1", map[string]string{
			"cloudtrail": "UnrecognizedClientException", "sts": "InvalidClientTokenId", "ec2": "AuthFailure",
			"s3": "InvalidAccessKeyId", "organizations": "UnrecognizedClientException",
		}},
		{"expired_credentials", func(e *env) awsemu.Credentials {
			c := e.emu.AddAccount(acctA)
			e.emu.ExpireCredentials(c.AccessKeyID)
			return c
		}, "us-east-1", map[string]string{
			"cloudtrail": "ExpiredTokenException", "sts": "ExpiredToken", "ec2": "RequestExpired",
			"s3": "ExpiredToken", "organizations": "ExpiredTokenException",
		}},
		{"region_not_opted_in", func(e *env) awsemu.Credentials { return e.emu.AddAccount(acctA) }, "af-south-1", map[string]string{
			"cloudtrail": "UnrecognizedClientException", "sts": "InvalidClientTokenId", "ec2": "AuthFailure",
			"s3": "InvalidAccessKeyId", "organizations": "UnrecognizedClientException",
		}},
		{"region_unknown", func(e *env) awsemu.Credentials { return e.emu.AddAccount(acctA) }, "xx-nowhere-1", map[string]string{
			"cloudtrail": "UnrecognizedClientException", "sts": "InvalidClientTokenId", "ec2": "AuthFailure",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			got := callEach(e, tc.keys(e), tc.region)
			for svc, code := range tc.want {
				t.Run(svc, func(t *testing.T) { wantCode(t, got[svc], code) })
			}
		})
	}
	t.Run("region_opted_in", func(t *testing.T) {
		e := newEnv(t)
		c := e.emu.AddAccount(acctA)
		e.emu.SetOptIn(acctA, "af-south-1", "opted-in")
		for svc, err := range callEach(e, c, "af-south-1") {
			if svc != "organizations" && err != nil {
				t.Errorf("%s: %v", svc, err)
			}
		}
		wantErr[*cttypes.TrailNotFoundException](t, func() error {
			_, err := e.ct(c, "af-south-1").GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("none")})
			return err
		}())
	})
	t.Run("unsigned_request", func(t *testing.T) {
		e := newEnv(t)
		req, _ := http.NewRequest("POST", e.srv.URL, strings.NewReader("{}"))
		req.Header.Set("X-Amz-Target", "CloudTrail_20131101.DescribeTrails")
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		resp, err := http.DefaultClient.Do(req)
		must(t, err)
		defer resp.Body.Close()
		var body map[string]string
		must(t, json.NewDecoder(resp.Body).Decode(&body))
		if resp.StatusCode != 400 || body["__type"] != "MissingAuthenticationTokenException" {
			t.Fatalf("%d %v", resp.StatusCode, body)
		}
	})
}

func TestFaults(t *testing.T) {
	t.Run("modeled_error_once", func(t *testing.T) {
		e := newEnv(t)
		c := e.emu.AddAccount(acctA)
		e.emu.InjectFault(awsemu.Fault{Service: "cloudtrail", Operation: "DescribeTrails", Code: "OperationNotPermittedException", Message: "no", Times: 1})
		_, err := e.ct(c, "us-east-1").DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{})
		wantErr[*cttypes.OperationNotPermittedException](t, err)
		_, err = e.ct(c, "us-east-1").DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{})
		must(t, err)
	})
	t.Run("matches_account_and_region", func(t *testing.T) {
		e := newEnv(t)
		a, b := e.emu.AddAccount(acctA), e.emu.AddAccount(acctB)
		e.emu.InjectFault(awsemu.Fault{Account: acctA, Region: "eu-west-1", Code: "AccessDeniedException", Message: "denied"})
		_, err := e.ct(a, "eu-west-1").DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{})
		wantCode(t, err, "AccessDeniedException")
		_, err = e.ct(a, "us-east-1").DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{})
		must(t, err)
		_, err = e.ct(b, "eu-west-1").DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{})
		must(t, err)
		// Every service writes the fault in its own protocol.
		for svc, err := range callEach(e, a, "eu-west-1") {
			t.Run(svc, func(t *testing.T) { wantCode(t, err, "AccessDeniedException") })
		}
		e.emu.ClearFaults()
		_, err = e.ct(a, "eu-west-1").DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{})
		must(t, err)
	})
	t.Run("http_status", func(t *testing.T) {
		e := newEnv(t)
		c := e.emu.AddAccount(acctA)
		e.emu.InjectFault(awsemu.Fault{Service: "ec2", Code: "UnauthorizedOperation", Message: "You are not authorized", HTTPStatus: 403})
		_, err := e.ec2(c, "us-east-1").DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
		wantCode(t, err, "UnauthorizedOperation")
		var re interface{ HTTPStatusCode() int }
		if !asHTTP(err, &re) || re.HTTPStatusCode() != 403 {
			t.Errorf("status of %v", err)
		}
	})
	t.Run("rate_limit", func(t *testing.T) {
		e := newEnv(t)
		c := e.emu.AddAccount(acctA)
		e.emu.SetRateLimit("cloudtrail", 0.001, 2)
		ct := e.ct(c, "us-east-1")
		for i := range 2 {
			_, err := ct.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{})
			if err != nil {
				t.Fatalf("call %d: %v", i, err)
			}
		}
		_, err := ct.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{})
		wantCode(t, err, "ThrottlingException")
		// Buckets are per account and region.
		_, err = e.ct(c, "us-west-2").DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{})
		must(t, err)
		_, err = e.sts(c, "us-east-1").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		must(t, err)
		// The SDK's standard retryer treats it as throttling and retries.
		e.emu.SetRateLimit("cloudtrail", 20, 1)
		cfg := e.cfg(c, "eu-west-1")
		cfg.Retryer = nil
		cfg.RetryMaxAttempts = 5
		retrying := cloudtrail.NewFromConfig(cfg)
		for i := range 3 {
			if _, err := retrying.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{}); err != nil {
				t.Fatalf("call %d with retries: %v", i, err)
			}
		}
	})
}

func asHTTP(err error, target *interface{ HTTPStatusCode() int }) bool {
	for err != nil {
		if h, ok := err.(interface{ HTTPStatusCode() int }); ok {
			*target = h
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

func TestCalls(t *testing.T) {
	e := newEnv(t)
	a, b := e.emu.AddAccount(acctA), e.emu.AddAccount(acctB)
	for range 3 {
		_, _ = e.ct(a, "us-east-1").DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{})
	}
	_, _ = e.ct(b, "us-east-1").GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("nope")})
	_, _ = e.sts(b, "us-east-1").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	_, _ = e.ct(awsemu.Credentials{AccessKeyID: "AKIAUNKNOWN000000000", SecretAccessKey: "x"}, "us-east-1").DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{})

	want := map[string]int{"cloudtrail:DescribeTrails": 4, "cloudtrail:GetTrailStatus": 1, "sts:GetCallerIdentity": 1}
	if got := e.emu.Calls(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Calls %v, want %v", got, want)
	}
	if got := e.emu.AccountCalls(acctA); fmt.Sprint(got) != fmt.Sprint(map[string]int{"cloudtrail:DescribeTrails": 3}) {
		t.Errorf("AccountCalls(A) %v", got)
	}
	if got := e.emu.AccountCalls(acctB); len(got) != 2 {
		t.Errorf("AccountCalls(B) %v", got)
	}
	e.emu.ResetCalls()
	if got := e.emu.Calls(); len(got) != 0 {
		t.Errorf("after reset %v", got)
	}
}

func TestLatency(t *testing.T) {
	e := newEnv(t)
	c := e.emu.AddAccount(acctA)
	e.emu.SetLatency(40 * time.Millisecond)
	start := time.Now()
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			_, err := e.ct(c, "us-east-1").DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if d := time.Since(start); d < 40*time.Millisecond || d > 2*time.Second {
		t.Errorf("5 concurrent calls with 40ms latency took %v", d)
	}
}

// TestConcurrentAccounts drives many accounts at once; run with -race.
func TestConcurrentAccounts(t *testing.T) {
	e := newEnv(t)
	e.emu.SetOrganization(mgmt)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			id := fmt.Sprintf("5000000000%02d", i)
			c := e.emu.AddAccount(id)
			e.emu.SetOrganization(mgmt, id)
			region := []string{"us-east-1", "eu-west-1", "ap-south-1"}[i%3]
			bucket := "logs-" + id
			_, err := e.s3(c, "us-east-1").CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
			if err != nil {
				t.Error(err)
				return
			}
			_, err = e.s3(c, "us-east-1").PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(bucket), Policy: aws.String(cloudTrailPolicy(bucket))})
			if err != nil {
				t.Error(err)
				return
			}
			ct := e.ct(c, region)
			_, err = ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("main"), S3BucketName: aws.String(bucket), IsMultiRegionTrail: aws.Bool(true)})
			if err != nil {
				t.Error(err)
				return
			}
			_, err = ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String("main")})
			if err != nil {
				t.Error(err)
			}
			out, err := e.ct(c, "us-west-1").DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{})
			if err != nil || len(out.TrailList) != 1 {
				t.Errorf("account %s: %v %v", id, err, out)
			}
		})
	}
	wg.Wait()
	if n := e.emu.Calls()["cloudtrail:CreateTrail"]; n != 20 {
		t.Errorf("CreateTrail calls %d", n)
	}
}

// TestRawWire checks details of the wire the SDK tolerates but the AWS CLI
// and other clients may not: content types, request ids, error shapes.
func TestRawWire(t *testing.T) {
	e := newEnv(t)
	c := e.emu.AddAccount(acctA)
	post := func(t *testing.T, scope, target, contentType, body string) (*http.Response, string) {
		req, _ := http.NewRequest("POST", e.srv.URL+"/", strings.NewReader(body))
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+c.AccessKeyID+"/20240101/"+scope+"/aws4_request, SignedHeaders=host, Signature=00")
		req.Header.Set("Content-Type", contentType)
		if target != "" {
			req.Header.Set("X-Amz-Target", target)
		}
		resp, err := http.DefaultClient.Do(req)
		must(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	t.Run("cloudtrail_error_json", func(t *testing.T) {
		resp, body := post(t, "us-east-1/cloudtrail", "CloudTrail_20131101.GetTrailStatus", "application/x-amz-json-1.1", `{"Name":"nope"}`)
		if resp.StatusCode != 400 || resp.Header.Get("Content-Type") != "application/x-amz-json-1.1" || resp.Header.Get("X-Amzn-RequestId") == "" {
			t.Errorf("%d %v", resp.StatusCode, resp.Header)
		}
		if !strings.Contains(body, `"__type":"TrailNotFoundException"`) || !strings.Contains(body, `"message":"Unknown trail: nope for the user: `+acctA+`"`) {
			t.Errorf("body %s", body)
		}
	})
	t.Run("cloudtrail_unknown_operation", func(t *testing.T) {
		_, body := post(t, "us-east-1/cloudtrail", "CloudTrail_20131101.CreateEventDataStore", "application/x-amz-json-1.1", `{}`)
		if !strings.Contains(body, "UnknownOperationException") {
			t.Errorf("body %s", body)
		}
	})
	t.Run("cloudtrail_not_an_object", func(t *testing.T) {
		_, body := post(t, "us-east-1/cloudtrail", "CloudTrail_20131101.DescribeTrails", "application/x-amz-json-1.1", `[1]`)
		if !strings.Contains(body, "SerializationException") {
			t.Errorf("body %s", body)
		}
	})
	t.Run("sts_query_xml", func(t *testing.T) {
		resp, body := post(t, "us-east-1/sts", "", "application/x-www-form-urlencoded", "Action=GetCallerIdentity&Version=2011-06-15")
		if resp.StatusCode != 200 || !strings.Contains(body, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::`+acctA+`:root</Arn>`) ||
			!strings.Contains(body, "<ResponseMetadata><RequestId>") {
			t.Errorf("%d %s", resp.StatusCode, body)
		}
		_, body = post(t, "us-east-1/sts", "", "application/x-www-form-urlencoded", "Action=GetSessionToken&Version=2011-06-15")
		if !strings.Contains(body, "<ErrorResponse") || !strings.Contains(body, "<Type>Sender</Type><Code>InvalidAction</Code>") {
			t.Errorf("body %s", body)
		}
	})
	t.Run("ec2_error_shape", func(t *testing.T) {
		resp, body := post(t, "us-east-1/ec2", "", "application/x-www-form-urlencoded", "Action=RunInstances&Version=2016-11-15")
		if resp.StatusCode != 400 || !strings.Contains(body, "<Response><Errors><Error><Code>InvalidAction</Code>") || !strings.Contains(body, "<RequestID>") {
			t.Errorf("%d %s", resp.StatusCode, body)
		}
	})
	t.Run("unknown_service", func(t *testing.T) {
		resp, _ := post(t, "us-east-1/lambda", "", "application/json", "{}")
		if resp.StatusCode != 400 {
			t.Errorf("status %d", resp.StatusCode)
		}
	})
}

var _ smithy.APIError = (*cttypes.TrailNotFoundException)(nil)
