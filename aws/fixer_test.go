package aws_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/trailguard/trailguard"
	tgaws "github.com/trailguard/trailguard/aws"
	"github.com/trailguard/trailguard/fix"
	"github.com/trailguard/trailguard/internal/awsemu"
)

const fixBucket = "team-audit-logs"

// s3c is path-style, as the fixer's own client.
func s3c(cfg sdkaws.Config) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
}

// richBucket creates a bucket with a policy, a partial public access
// block, SSE-KMS default encryption and a lifecycle rule.
func richBucket(t *testing.T, cfg sdkaws.Config) {
	t.Helper()
	ctx := context.Background()
	c, b := s3c(cfg), sdkaws.String(fixBucket)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: b}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: b, Policy: sdkaws.String(`{"Version":"2012-10-17","Statement":[{"Sid":"D","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::team-audit-logs/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: b, PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{BlockPublicAcls: sdkaws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: b, ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{
		Rules: []s3types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAwsKms}}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: b, LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{
		Rules: []s3types.LifecycleRule{{ID: sdkaws.String("keep"), Status: s3types.ExpirationStatusEnabled, Filter: &s3types.LifecycleRuleFilter{Prefix: sdkaws.String("")},
			Expiration: &s3types.LifecycleExpiration{Days: sdkaws.Int32(30)}}}}}); err != nil {
		t.Fatal(err)
	}
}

// TestFixer_ReadBucket: over HTTP against the emulator, a definite "does
// not exist" is an answer; every other failure of each read the plan
// depends on is a *fix.ReadError naming the permission it needs.
func TestFixer_ReadBucket(t *testing.T) {
	cases := []struct {
		name      string
		rich      bool
		lifecycle bool
		deny      string
		fault     *awsemu.Fault
		want      fix.BucketFacts
		wantErr   string // the permission a *fix.ReadError names
	}{
		{name: "absent_bucket_is_an_answer", want: fix.BucketFacts{Read: true}},
		{name: "existing_bucket_read_whole", rich: true, lifecycle: true,
			want: fix.BucketFacts{Read: true, Exists: true, Encryption: "aws:kms", Lifecycle: true, PublicAccessBlock: &fix.PublicAccessBlock{BlockPublicAcls: true}}},
		{name: "lifecycle_not_asked_not_read", rich: true, deny: "s3:GetLifecycleConfiguration",
			want: fix.BucketFacts{Read: true, Exists: true, Encryption: "aws:kms", PublicAccessBlock: &fix.PublicAccessBlock{BlockPublicAcls: true}}},
		{name: "head_denied", rich: true, deny: "s3:ListBucket", wantErr: "s3:ListBucket"},
		{name: "absent_but_head_denied", deny: "s3:ListBucket", wantErr: "s3:ListBucket"},
		{name: "policy_denied", rich: true, deny: "s3:GetBucketPolicy", wantErr: "s3:GetBucketPolicy"},
		{name: "public_access_block_denied", rich: true, deny: "s3:GetBucketPublicAccessBlock", wantErr: "s3:GetBucketPublicAccessBlock"},
		{name: "encryption_denied", rich: true, deny: "s3:GetEncryptionConfiguration", wantErr: "s3:GetEncryptionConfiguration"},
		{name: "lifecycle_denied", rich: true, lifecycle: true, deny: "s3:GetLifecycleConfiguration", wantErr: "s3:GetLifecycleConfiguration"},
		{name: "policy_server_error", rich: true, fault: &awsemu.Fault{Operation: "GetBucketPolicy", Code: "ServiceUnavailable", HTTPStatus: 503}, wantErr: "s3:GetBucketPolicy"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			cfg := e.config(acct, nil)
			cfg.RetryMaxAttempts = 1
			if c.rich {
				richBucket(t, cfg)
			}
			if c.deny != "" {
				e.emu.Deny(c.deny)
			}
			if c.fault != nil {
				e.emu.InjectFault(*c.fault)
			}
			got, err := tgaws.NewFixer(cfg).ReadBucket(context.Background(), fixBucket, c.lifecycle)
			if c.wantErr != "" {
				var re *fix.ReadError
				if !errors.As(err, &re) || re.Action != c.wantErr || !strings.Contains(re.Resource, fixBucket) {
					t.Fatalf("err %v, want a read error naming %s", err, c.wantErr)
				}
				if got.Read {
					t.Errorf("facts %+v marked read with an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			policy := got.Policy
			got.Policy = ""
			if c.rich != strings.Contains(policy, `"Sid":"D"`) {
				t.Errorf("policy %q", policy)
			}
			if got.Read != c.want.Read || got.Exists != c.want.Exists || got.Encryption != c.want.Encryption || got.Lifecycle != c.want.Lifecycle ||
				(got.PublicAccessBlock == nil) != (c.want.PublicAccessBlock == nil) || (got.PublicAccessBlock != nil && *got.PublicAccessBlock != *c.want.PublicAccessBlock) {
				t.Errorf("facts %+v (block %+v), want %+v (block %+v)", got, got.PublicAccessBlock, c.want, c.want.PublicAccessBlock)
			}
		})
	}
}

// TestFixer_ReadKey: a key that does not exist is an answer; a denied
// describe or policy read is a *fix.ReadError naming the permission.
func TestFixer_ReadKey(t *testing.T) {
	cases := []struct {
		name    string
		create  bool
		deny    string
		wantErr string
	}{
		{name: "absent_key_is_an_answer"},
		{name: "existing_key_read_whole", create: true},
		{name: "describe_denied", create: true, deny: "kms:DescribeKey", wantErr: "kms:DescribeKey"},
		{name: "policy_denied", create: true, deny: "kms:GetKeyPolicy", wantErr: "kms:GetKeyPolicy"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			cfg := e.config(acct, nil)
			cfg.RetryMaxAttempts = 1
			id := "alias/absent"
			if c.create {
				k, err := kms.NewFromConfig(cfg).CreateKey(context.Background(), &kms.CreateKeyInput{Policy: sdkaws.String(`{"Version":"2012-10-17","Statement":[{"Sid":"Admin","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:root"},"Action":"kms:*","Resource":"*"}]}`)})
				if err != nil {
					t.Fatal(err)
				}
				id = sdkaws.ToString(k.KeyMetadata.KeyId)
			}
			if c.deny != "" {
				e.emu.Deny(c.deny)
			}
			got, err := tgaws.NewFixer(cfg).ReadKey(context.Background(), id)
			if c.wantErr != "" {
				var re *fix.ReadError
				if !errors.As(err, &re) || re.Action != c.wantErr || !strings.Contains(re.Resource, id) {
					t.Fatalf("err %v, want a read error naming %s", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !got.Read || got.Exists != c.create || (c.create && (!strings.Contains(got.ARN, id) || !strings.Contains(got.Policy, `"Sid":"Admin"`))) {
				t.Errorf("facts %+v", got)
			}
		})
	}
}

// TestFixer_ReadTrustedAccess: over HTTP against the emulator, CloudTrail's
// trusted access is read as off in a new organization and on once
// enabled; a denied read, or a caller outside any organization, is a
// *fix.ReadError naming organizations:ListAWSServiceAccessForOrganization,
// never a silent "off" that would plan a write.
func TestFixer_ReadTrustedAccess(t *testing.T) {
	cases := []struct {
		name    string
		enable  bool
		deny    bool
		noOrg   bool
		want    bool
		wantErr bool
	}{
		{name: "new_organization_has_it_off"},
		{name: "enabled", enable: true, want: true},
		{name: "read_denied", deny: true, wantErr: true},
		{name: "not_in_an_organization", noOrg: true, wantErr: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			cfg := e.config(mgmt, nil)
			cfg.RetryMaxAttempts = 1
			if !c.noOrg {
				e.emu.SetOrganization(mgmt, member)
			}
			if c.enable {
				e.emu.SetTrustedAccess(mgmt, fix.CloudTrailPrincipal, true)
			}
			if c.deny {
				e.emu.Deny("organizations:ListAWSServiceAccessForOrganization")
			}
			got, err := tgaws.NewFixer(cfg).ReadTrustedAccess(context.Background())
			if c.wantErr {
				var re *fix.ReadError
				if !errors.As(err, &re) || re.Action != "organizations:ListAWSServiceAccessForOrganization" {
					t.Fatalf("err %v, want a read error naming the permission", err)
				}
				return
			}
			if err != nil || got != c.want {
				t.Errorf("trusted access %v, %v; want %v", got, err, c.want)
			}
		})
	}
}

// TestFixer_Run: fix.Run through the SDK fixer, over HTTP, makes each
// failing account pass, and a second run plans nothing.
func TestFixer_Run(t *testing.T) {
	readOnly := multiRegion("reads", "us-east-1")
	readOnly.EventSelectorsJSON = `{"EventSelectors":[{"ReadWriteType":"ReadOnly","IncludeManagementEvents":true}]}`
	local := multiRegion("local", "us-east-1")
	local.IsMultiRegion = false
	stopped := multiRegion("stopped", "us-east-1")
	stopped.Logging = false
	cases := []struct {
		name  string
		specs []awsemu.TrailSpec
		opts  fix.Options
		first fix.Action
	}{
		{"no_trail_new_bucket_key_and_lifecycle", nil, fix.Options{CreateKMSKey: true, TransitionDays: 30, ExpireDays: 400}, fix.ActionCreateBucket},
		{"stopped_trail", []awsemu.TrailSpec{stopped}, fix.Options{}, fix.ActionStartLogging},
		{"read_only_selectors", []awsemu.TrailSpec{readOnly}, fix.Options{}, fix.ActionRecordAllManagementEvents},
		{"single_region_trail", []awsemu.TrailSpec{local}, fix.Options{}, fix.ActionMakeMultiRegion},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			cfg := e.config(acct, nil)
			for _, s := range c.specs {
				e.putTrail(t, acct, s)
			}
			c.opts.Region = cfg.Region
			ctx := context.Background()
			for run := 1; run <= 2; run++ {
				a := tgaws.NewScanner().ScanAccount(ctx, cfg)
				res := trailguard.EvaluateAll([]trailguard.Account{a}, trailguard.Options{})[0]
				r := fix.Run(ctx, tgaws.NewFixer(cfg), a, res, c.opts, true)
				if run == 2 {
					if len(r.Steps) != 0 || r.ExitCode() != 0 {
						t.Errorf("second run planned %+v, exit %d", r.Steps, r.ExitCode())
					}
					break
				}
				if len(r.Steps) == 0 || r.Steps[0].Action != c.first {
					t.Fatalf("steps %+v, want %s first", r.Steps, c.first)
				}
				if r.ExitCode() != 0 || r.Applied == nil || r.Applied.Error != "" || r.Applied.StatusAfter != "PASS" {
					t.Fatalf("exit %d, applied %+v", r.ExitCode(), r.Applied)
				}
			}
		})
	}
}

// TestFixer_Write_knows_every_step_kind: each kind of step the planner
// may make is one the SDK fixer makes (a new kind without its call fails
// here, not in an account), and a kind it does not know is an error.
func TestFixer_Write_knows_every_step_kind(t *testing.T) {
	e := newEnv(t)
	cfg := e.config(acct, nil)
	cfg.RetryMaxAttempts = 1
	f := tgaws.NewFixer(cfg)
	for _, a := range fix.Actions() {
		t.Run(string(a), func(t *testing.T) {
			st := fix.Step{Action: a, Region: "us-east-1", Selectors: trailguard.DefaultSelectors()}
			if _, err := f.Write(context.Background(), st); errors.Is(err, tgaws.ErrUnknownStep) {
				t.Errorf("%s: %v", a, err)
			}
		})
	}
	t.Run("unknown_kind", func(t *testing.T) {
		if _, err := f.Write(context.Background(), fix.Step{Action: "delete-trail", Region: "us-east-1"}); !errors.Is(err, tgaws.ErrUnknownStep) {
			t.Errorf("an unknown step kind gave %v", err)
		}
	})
}
