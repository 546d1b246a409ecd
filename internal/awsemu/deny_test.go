package awsemu_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/trailguard/trailguard/internal/awsemu"
)

func httpStatus(t *testing.T, err error) int {
	t.Helper()
	var re *awshttp.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("error %v carries no HTTP response", err)
	}
	return re.HTTPStatusCode()
}

// Deny refuses the matching IAM actions to every caller of every account,
// in each service's own access-denied shape, and nothing else.
func TestDeny(t *testing.T) {
	e := newEnv(t)
	a, b := e.emu.AddAccount(acctA), e.emu.AddAccount(acctB)
	e.bucket(t, a, "us-east-1", "deny-a")
	e.bucket(t, b, "us-east-1", "deny-b")
	e.emu.Deny("s3:GetBucketPolicy", "KMS:Get*", "cloudtrail:GetTrail?tatus")
	for _, c := range []struct {
		name   string
		call   func() error
		code   string
		status int
	}{
		{"s3_of_one_account", func() error {
			_, err := e.s3(a, "us-east-1").GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("deny-a")})
			return err
		}, "AccessDenied", http.StatusForbidden},
		{"s3_of_another_account", func() error {
			_, err := e.s3(b, "us-east-1").GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("deny-b")})
			return err
		}, "AccessDenied", http.StatusForbidden},
		{"kms_wildcard_any_case", func() error {
			_, err := e.kms(a, "us-east-1").GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: aws.String("alias/none"), PolicyName: aws.String("default")})
			return err
		}, "AccessDeniedException", http.StatusBadRequest},
		{"cloudtrail_question_mark", func() error {
			_, err := e.ct(a, "us-east-1").GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("t")})
			return err
		}, "AccessDeniedException", http.StatusBadRequest},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.call()
			wantCode(t, err, c.code)
			if s := httpStatus(t, err); s != c.status {
				t.Errorf("HTTP %d, want %d", s, c.status)
			}
		})
	}
	t.Run("other_actions_served", func(t *testing.T) {
		if _, err := e.s3(a, "us-east-1").HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("deny-a")}); err != nil {
			t.Error(err)
		}
		if _, err := e.kms(a, "us-east-1").CreateKey(ctx, &kms.CreateKeyInput{}); err != nil {
			t.Error(err)
		}
	})
	t.Run("caller_identity_never_denied", func(t *testing.T) {
		e.emu.Deny("*")
		if _, err := e.sts(a, "us-east-1").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
			t.Error(err)
		}
		e.emu.Deny()
		if _, err := e.s3(a, "us-east-1").GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("deny-a")}); err != nil {
			wantCode(t, err, "NoSuchBucketPolicy") // served again
		}
	})
}

// A fault injected without a status answers with the one AWS gives the
// code in the service's protocol, so the SDK retries (or not) as it would.
func TestFault_status_by_code(t *testing.T) {
	for _, c := range []struct {
		name   string
		fault  string
		call   func(e *env, c awsemu.Credentials) error
		status int
	}{
		{"s3_service_unavailable", "GetBucketPolicy=ServiceUnavailable", func(e *env, c awsemu.Credentials) error {
			_, err := e.s3(c, "us-east-1").GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("faulty")})
			return err
		}, http.StatusServiceUnavailable},
		{"s3_internal_error", "s3:GetBucketEncryption=InternalError", func(e *env, c awsemu.Credentials) error {
			_, err := e.s3(c, "us-east-1").GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String("faulty")})
			return err
		}, http.StatusInternalServerError},
		{"s3_access_denied", "GetPublicAccessBlock=AccessDenied", func(e *env, c awsemu.Credentials) error {
			_, err := e.s3(c, "us-east-1").GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String("faulty")})
			return err
		}, http.StatusForbidden},
		{"s3_slow_down", "HeadBucket=SlowDown", func(e *env, c awsemu.Credentials) error {
			_, err := e.s3(c, "us-east-1").HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("faulty")})
			return err
		}, http.StatusServiceUnavailable},
		{"kms_throttling", "kms:GetKeyPolicy=ThrottlingException", func(e *env, c awsemu.Credentials) error {
			_, err := e.kms(c, "us-east-1").GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: aws.String("k"), PolicyName: aws.String("default")})
			return err
		}, http.StatusBadRequest},
		{"cloudtrail_unavailable", "GetEventSelectors=ServiceUnavailable", func(e *env, c awsemu.Credentials) error {
			_, err := e.ct(c, "us-east-1").GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: aws.String("t")})
			return err
		}, http.StatusServiceUnavailable},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			creds := e.emu.AddAccount(acctA)
			e.bucket(t, creds, "us-east-1", "faulty")
			f, err := awsemu.ParseFault(c.fault)
			if err != nil {
				t.Fatal(err)
			}
			e.emu.InjectFault(f)
			err = c.call(e, creds)
			if err == nil {
				t.Fatal("the fault did not fire")
			}
			if s := httpStatus(t, err); s != c.status {
				t.Errorf("HTTP %d, want %d (%v)", s, c.status, err)
			}
		})
	}
}

func TestParseFault_rejects(t *testing.T) {
	for _, s := range []string{"", "GetBucketPolicy", "=AccessDenied", "GetBucketPolicy=", "nosuch:GetBucketPolicy=X", "Get Bucket=X", "Get=<x>"} {
		if _, err := awsemu.ParseFault(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
	for _, s := range []string{"*", "s3:Get*", "kms:GetKeyPolicy"} {
		if err := awsemu.ValidAction(s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	for _, s := range []string{"", "GetBucketPolicy", "s3:", ":x", "s3:Get Bucket"} {
		if awsemu.ValidAction(s) == nil {
			t.Errorf("%q accepted as an action", s)
		}
	}
}

// S3 refuses a bucket policy whose statements share a Sid, or that is
// larger than 20 KB, as its policy restrictions say.
func TestPutBucketPolicy_restrictions(t *testing.T) {
	e := newEnv(t)
	c := e.emu.AddAccount(acctA)
	e.bucket(t, c, "us-east-1", "policy-rules")
	stmt := `{"Sid":"Same","Effect":"Deny","Principal":"*","Action":"s3:DeleteBucket","Resource":"arn:aws:s3:::policy-rules"}`
	for name, policy := range map[string]string{
		"duplicate_sid": `{"Version":"2012-10-17","Statement":[` + stmt + `,` + stmt + `]}`,
		"too_large":     `{"Version":"2012-10-17","Statement":[` + strings.Replace(stmt, "Same", strings.Repeat("x", 21<<10), 1) + `]}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := e.s3(c, "us-east-1").PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("policy-rules"), Policy: aws.String(policy)})
			wantCode(t, err, "MalformedPolicy")
		})
	}
}

// AllowOnly matches actions as IAM does, as Deny does: * and ? anywhere in
// the pattern, action names in any case; whatever no pattern matches is
// refused, except sts:GetCallerIdentity.
func TestAllowOnly(t *testing.T) {
	getStatus := func(e *env, c awsemu.Credentials) error {
		_, err := e.ct(c, "us-east-1").GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("absent-trail")})
		return err
	}
	for _, tc := range []struct {
		name    string
		allow   []string
		allowed bool
	}{
		{"exact_action", []string{"cloudtrail:GetTrailStatus"}, true},
		{"trailing_star", []string{"cloudtrail:Get*"}, true},
		{"star_inside", []string{"cloudtrail:*Trail*"}, true},
		{"star_alone", []string{"*"}, true},
		{"service_star", []string{"cloudtrail:*"}, true},
		{"question_mark_one_character", []string{"cloudtrail:GetTrail?tatus"}, true},
		{"question_mark_not_zero_characters", []string{"cloudtrail:GetTrail?Status"}, false},
		{"action_name_any_case", []string{"CloudTrail:gettrailstatus"}, true},
		{"other_action", []string{"cloudtrail:DescribeTrails"}, false},
		{"prefix_without_star", []string{"cloudtrail:GetTrail"}, false},
		{"other_service", []string{"s3:GetTrailStatus"}, false},
		{"star_inside_no_match", []string{"cloudtrail:*Selectors"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			a := e.emu.AddAccount(acctA)
			e.emu.AllowOnly(acctA, tc.allow...)
			err := getStatus(e, a)
			if tc.allowed {
				// Allowed: the call reaches the service, which has no such trail.
				wantCode(t, err, "TrailNotFoundException")
			} else {
				wantCode(t, err, "AccessDeniedException")
			}
			if _, err := e.sts(a, "us-east-1").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
				t.Errorf("GetCallerIdentity refused: %v", err)
			}
		})
	}
}
