package awsemu_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/trailguard/trailguard/internal/awsemu"
)

func TestCreateTrail(t *testing.T) {
	create := func(e *env, c awsemu.Credentials, region string, in *cloudtrail.CreateTrailInput) error {
		_, err := e.ct(c, region).CreateTrail(ctx, in)
		return err
	}
	t.Run("new_trail_is_not_logging", func(t *testing.T) {
		e := newEnv(t)
		c := e.emu.AddAccount(acctA)
		e.bucket(t, c, "eu-west-1", "my-logs")
		keyID := e.cloudTrailKey(t, c, "eu-west-1")
		out, err := e.ct(c, "eu-west-1").CreateTrail(ctx, &cloudtrail.CreateTrailInput{
			Name: aws.String("main"), S3BucketName: aws.String("my-logs"), IsMultiRegionTrail: aws.Bool(true),
			EnableLogFileValidation: aws.Bool(true), KmsKeyId: aws.String(keyID),
		})
		must(t, err)
		if got, want := aws.ToString(out.TrailARN), "arn:aws:cloudtrail:eu-west-1:"+acctA+":trail/main"; got != want {
			t.Errorf("ARN %s, want %s", got, want)
		}
		if !aws.ToBool(out.IsMultiRegionTrail) || !aws.ToBool(out.IncludeGlobalServiceEvents) || !aws.ToBool(out.LogFileValidationEnabled) {
			t.Errorf("settings lost: %+v", out)
		}
		if got := aws.ToString(out.KmsKeyId); got != "arn:aws:kms:eu-west-1:"+acctA+":key/"+keyID {
			t.Errorf("KmsKeyId %s", got)
		}
		st, err := e.ct(c, "eu-west-1").GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("main")})
		must(t, err)
		if aws.ToBool(st.IsLogging) || st.StartLoggingTime != nil || aws.ToString(st.TimeLoggingStarted) != "" {
			t.Errorf("new trail status %+v", st)
		}
	})
	t.Run("bucket_does_not_exist", func(t *testing.T) {
		e := newEnv(t)
		c := e.emu.AddAccount(acctA)
		err := create(e, c, "us-east-1", &cloudtrail.CreateTrailInput{Name: aws.String("main"), S3BucketName: aws.String("nowhere")})
		wantErr[*cttypes.S3BucketDoesNotExistException](t, err)
	})
	t.Run("bucket_of_another_account_is_accepted", func(t *testing.T) {
		e := newEnv(t)
		a, b := e.emu.AddAccount(acctA), e.emu.AddAccount(acctB)
		e.bucket(t, b, "us-east-1", "central-logs")
		must(t, create(e, a, "us-east-1", &cloudtrail.CreateTrailInput{Name: aws.String("main"), S3BucketName: aws.String("central-logs")}))
	})
	t.Run("invalid_bucket_name", func(t *testing.T) {
		e := newEnv(t)
		c := e.emu.AddAccount(acctA)
		err := create(e, c, "us-east-1", &cloudtrail.CreateTrailInput{Name: aws.String("main"), S3BucketName: aws.String("Bad_Bucket")})
		wantErr[*cttypes.InvalidS3BucketNameException](t, err)
	})
	for _, name := range []string{"ab", "-abc", "abc-", "_abc", "my--trail", "my-_trail", "my..trail", "192.168.5.4", "has space", "ünïcode", strings.Repeat("a", 129)} {
		t.Run("invalid_name/"+name[:min(len(name), 20)], func(t *testing.T) {
			e := newEnv(t)
			c := e.emu.AddAccount(acctA)
			e.bucket(t, c, "us-east-1", "my-logs")
			err := create(e, c, "us-east-1", &cloudtrail.CreateTrailInput{Name: aws.String(name), S3BucketName: aws.String("my-logs")})
			wantErr[*cttypes.InvalidTrailNameException](t, err)
		})
	}
	for _, name := range []string{"abc", "My.Trail_1-x", "1trail", strings.Repeat("a", 128), "10.0.0.1a"} {
		t.Run("valid_name/"+name[:min(len(name), 20)], func(t *testing.T) {
			e := newEnv(t)
			c := e.emu.AddAccount(acctA)
			e.bucket(t, c, "us-east-1", "my-logs")
			must(t, create(e, c, "us-east-1", &cloudtrail.CreateTrailInput{Name: aws.String(name), S3BucketName: aws.String("my-logs")}))
		})
	}
	t.Run("same_name_same_region_exists", func(t *testing.T) {
		e := newEnv(t)
		c := e.emu.AddAccount(acctA)
		e.trail(t, c, "us-east-1", "main", false)
		err := create(e, c, "us-east-1", &cloudtrail.CreateTrailInput{Name: aws.String("main"), S3BucketName: aws.String("logs-" + acctA + "-main")})
		wantErr[*cttypes.TrailAlreadyExistsException](t, err)
	})
	t.Run("same_name_other_region_single_region_ok", func(t *testing.T) {
		e := newEnv(t)
		c := e.emu.AddAccount(acctA)
		e.trail(t, c, "us-east-1", "main", false)
		must(t, create(e, c, "eu-west-1", &cloudtrail.CreateTrailInput{Name: aws.String("main"), S3BucketName: aws.String("logs-" + acctA + "-main")}))
	})
	t.Run("name_taken_by_shadow_trail", func(t *testing.T) {
		e := newEnv(t)
		c := e.emu.AddAccount(acctA)
		e.trail(t, c, "us-east-1", "main", true)
		err := create(e, c, "eu-west-1", &cloudtrail.CreateTrailInput{Name: aws.String("main"), S3BucketName: aws.String("logs-" + acctA + "-main")})
		wantErr[*cttypes.TrailAlreadyExistsException](t, err)
	})
	t.Run("same_name_other_account_ok", func(t *testing.T) {
		e := newEnv(t)
		e.trail(t, e.emu.AddAccount(acctA), "us-east-1", "main", true)
		e.trail(t, e.emu.AddAccount(acctB), "us-east-1", "main", true)
	})
	t.Run("multi_region_without_global_events", func(t *testing.T) {
		e := newEnv(t)
		c := e.emu.AddAccount(acctA)
		e.bucket(t, c, "us-east-1", "my-logs")
		err := create(e, c, "us-east-1", &cloudtrail.CreateTrailInput{Name: aws.String("main"), S3BucketName: aws.String("my-logs"),
			IsMultiRegionTrail: aws.Bool(true), IncludeGlobalServiceEvents: aws.Bool(false)})
		wantErr[*cttypes.InvalidParameterCombinationException](t, err)
	})
	t.Run("sixth_trail_in_region", func(t *testing.T) {
		e := newEnv(t)
		c := e.emu.AddAccount(acctA)
		e.trail(t, c, "eu-west-1", "elsewhere", true) // its shadow counts in us-east-1
		for _, n := range []string{"tr1", "tr2", "tr3", "tr4"} {
			e.trail(t, c, "us-east-1", n, false)
		}
		err := create(e, c, "us-east-1", &cloudtrail.CreateTrailInput{Name: aws.String("tr5"), S3BucketName: aws.String("logs-" + acctA + "-tr1")})
		wantErr[*cttypes.MaximumNumberOfTrailsExceededException](t, err)
	})
	t.Run("organization_trail", func(t *testing.T) {
		e := newEnv(t)
		m, mem := e.emu.AddAccount(mgmt), e.emu.AddAccount(member)
		alone := e.emu.AddAccount(acctA)
		e.emu.SetOrganization(mgmt, member)
		for _, c := range []awsemu.Credentials{m, mem, alone} {
			e.bucket(t, c, "us-east-1", "logs-"+c.AccountID)
		}
		in := func(c awsemu.Credentials) *cloudtrail.CreateTrailInput {
			return &cloudtrail.CreateTrailInput{Name: aws.String("org"), S3BucketName: aws.String("logs-" + c.AccountID),
				IsMultiRegionTrail: aws.Bool(true), IsOrganizationTrail: aws.Bool(true)}
		}
		wantErr[*cttypes.NotOrganizationMasterAccountException](t, create(e, mem, "us-east-1", in(mem)))
		wantErr[*cttypes.OrganizationsNotInUseException](t, create(e, alone, "us-east-1", in(alone)))
		// Trusted access is off in a new organization, as in AWS, and
		// only the management account may turn it on.
		wantErr[*cttypes.CloudTrailAccessNotEnabledException](t, create(e, m, "us-east-1", in(m)))
		enable := &organizations.EnableAWSServiceAccessInput{ServicePrincipal: aws.String("cloudtrail.amazonaws.com")}
		_, err := e.org(mem).EnableAWSServiceAccess(ctx, enable)
		wantErr[*orgtypes.AccessDeniedException](t, err)
		_, err = e.org(m).EnableAWSServiceAccess(ctx, enable)
		must(t, err)
		must(t, create(e, m, "us-east-1", in(m)))
	})
	t.Run("missing_required_member", func(t *testing.T) {
		e := newEnv(t)
		c := e.emu.AddAccount(acctA)
		// The SDK checks required members itself; an empty name gets through
		// and is refused by the name rules.
		err := create(e, c, "us-east-1", &cloudtrail.CreateTrailInput{Name: aws.String(""), S3BucketName: aws.String("my-logs")})
		wantErr[*cttypes.InvalidTrailNameException](t, err)
	})
}

func TestTrailMutations(t *testing.T) {
	setup := func(t *testing.T) (*env, awsemu.Credentials, string) {
		e := newEnv(t)
		c := e.emu.AddAccount(acctA)
		return e, c, e.trail(t, c, "us-east-1", "main", true)
	}
	ops := map[string]func(ct *cloudtrail.Client, name string) error{
		"StartLogging": func(ct *cloudtrail.Client, n string) error {
			_, err := ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String(n)})
			return err
		},
		"StopLogging": func(ct *cloudtrail.Client, n string) error {
			_, err := ct.StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String(n)})
			return err
		},
		"UpdateTrail": func(ct *cloudtrail.Client, n string) error {
			_, err := ct.UpdateTrail(ctx, &cloudtrail.UpdateTrailInput{Name: aws.String(n), EnableLogFileValidation: aws.Bool(true)})
			return err
		},
		"DeleteTrail": func(ct *cloudtrail.Client, n string) error {
			_, err := ct.DeleteTrail(ctx, &cloudtrail.DeleteTrailInput{Name: aws.String(n)})
			return err
		},
	}
	for op, do := range ops {
		t.Run(op+"/in_home_region", func(t *testing.T) {
			e, c, arn := setup(t)
			must(t, do(e.ct(c, "us-east-1"), arn))
		})
		t.Run(op+"/shadow_by_arn_from_other_region", func(t *testing.T) {
			e, c, arn := setup(t)
			wantErr[*cttypes.InvalidHomeRegionException](t, do(e.ct(c, "eu-west-1"), arn))
		})
		t.Run(op+"/shadow_by_name_from_other_region", func(t *testing.T) {
			e, c, _ := setup(t)
			wantErr[*cttypes.InvalidHomeRegionException](t, do(e.ct(c, "eu-west-1"), "main"))
		})
		t.Run(op+"/unknown_trail", func(t *testing.T) {
			e, c, _ := setup(t)
			wantErr[*cttypes.TrailNotFoundException](t, do(e.ct(c, "us-east-1"), "other"))
		})
		t.Run(op+"/member_on_org_trail", func(t *testing.T) {
			e := newEnv(t)
			_, mem, arn := e.orgTrail(t, true)
			wantErr[*cttypes.NotOrganizationMasterAccountException](t, do(e.ct(mem, "us-east-1"), arn))
		})
	}
	t.Run("DeleteTrail/then_gone", func(t *testing.T) {
		e, c, arn := setup(t)
		_, err := e.ct(c, "us-east-1").DeleteTrail(ctx, &cloudtrail.DeleteTrailInput{Name: aws.String("main")})
		must(t, err)
		_, err = e.ct(c, "us-east-1").GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String(arn)})
		wantErr[*cttypes.TrailNotFoundException](t, err)
	})
	t.Run("UpdateTrail/bucket_does_not_exist", func(t *testing.T) {
		e, c, _ := setup(t)
		_, err := e.ct(c, "us-east-1").UpdateTrail(ctx, &cloudtrail.UpdateTrailInput{Name: aws.String("main"), S3BucketName: aws.String("nowhere")})
		wantErr[*cttypes.S3BucketDoesNotExistException](t, err)
	})
	t.Run("UpdateTrail/to_single_region", func(t *testing.T) {
		e, c, arn := setup(t)
		out, err := e.ct(c, "us-east-1").UpdateTrail(ctx, &cloudtrail.UpdateTrailInput{Name: aws.String("main"), IsMultiRegionTrail: aws.Bool(false)})
		must(t, err)
		if aws.ToBool(out.IsMultiRegionTrail) || aws.ToString(out.TrailARN) != arn {
			t.Fatalf("updated %+v", out)
		}
		d, err := e.ct(c, "eu-west-1").DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{})
		must(t, err)
		if len(d.TrailList) != 0 {
			t.Errorf("single-region trail still shadowed: %v", names(d.TrailList))
		}
	})
	t.Run("StartLogging/single_region_trail_from_other_region", func(t *testing.T) {
		e := newEnv(t)
		c := e.emu.AddAccount(acctA)
		arn := e.trail(t, c, "us-west-2", "local", false)
		_, err := e.ct(c, "us-east-1").StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String(arn)})
		wantErr[*cttypes.InvalidHomeRegionException](t, err)
	})
}

// CreateTrail checks the bucket policy as AWS does: CloudTrail must be
// allowed to read the bucket ACL and write under AWSLogs/<account>/ (and,
// for an organization trail, AWSLogs/<organization id>/), with any
// aws:SourceArn condition naming this trail.
func TestCreateTrail_checks_the_bucket_policy(t *testing.T) {
	stmt := func(action, resource, cond string) string {
		s := `{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"` + action + `","Resource":"` + resource + `"`
		if cond != "" {
			s += `,"Condition":` + cond
		}
		return s + `}`
	}
	policy := func(stmts ...string) string {
		return `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`
	}
	arn := "arn:aws:cloudtrail:us-east-1:" + acctA + ":trail/main"
	for _, c := range []struct {
		name, policy string
		ok           bool
	}{
		{"no_policy", "", false},
		{"acl_only", policy(stmt("s3:GetBucketAcl", "arn:aws:s3:::b-logs", "")), false},
		{"other_account_prefix", policy(stmt("s3:GetBucketAcl", "arn:aws:s3:::b-logs", ""), stmt("s3:PutObject", "arn:aws:s3:::b-logs/AWSLogs/999999999999/*", "")), false},
		{"source_arn_of_another_trail", policy(stmt("s3:GetBucketAcl", "arn:aws:s3:::b-logs", `{"StringEquals":{"aws:SourceArn":"arn:aws:cloudtrail:us-east-1:`+acctA+`:trail/other"}}`),
			stmt("s3:PutObject", "arn:aws:s3:::b-logs/AWSLogs/"+acctA+"/*", "")), false},
		{"documented_policy", policy(stmt("s3:GetBucketAcl", "arn:aws:s3:::b-logs", `{"StringEquals":{"aws:SourceArn":"`+arn+`"}}`),
			stmt("s3:PutObject", "arn:aws:s3:::b-logs/AWSLogs/"+acctA+"/*", `{"StringEquals":{"s3:x-amz-acl":"bucket-owner-full-control","aws:SourceArn":"`+arn+`"}}`)), true},
		{"resource_is_case_sensitive", policy(stmt("s3:GetBucketAcl", "arn:aws:s3:::b-logs", ""), stmt("s3:PutObject", "arn:aws:s3:::b-logs/awslogs/"+acctA+"/*", "")), false},
		{"action_is_case_insensitive", policy(stmt("S3:getbucketacl", "arn:aws:s3:::b-logs", ""), stmt("s3:PUTOBJECT", "arn:aws:s3:::b-logs/AWSLogs/"+acctA+"/*", "")), true},
		{"question_mark_is_one_character", policy(stmt("s3:GetBucketAcl", "arn:aws:s3:::b-log?", ""), stmt("s3:PutObject", "arn:aws:s3:::b-logs/AWSLogs/"+acctA+"/*", "")), true},
		{"question_mark_is_not_zero_characters", policy(stmt("s3:GetBucketAcl", "arn:aws:s3:::b-logs?", ""), stmt("s3:PutObject", "arn:aws:s3:::b-logs/AWSLogs/"+acctA+"/*", "")), false},
		{"principal_wildcard_is_only_star", policy(strings.Replace(stmt("s3:GetBucketAcl", "arn:aws:s3:::b-logs", ""), `{"Service":"cloudtrail.amazonaws.com"}`, `{"AWS":"?"}`, 1), stmt("s3:PutObject", "arn:aws:s3:::b-logs/AWSLogs/"+acctA+"/*", "")), false},
		{"principal_anyone", policy(strings.Replace(stmt("s3:GetBucketAcl", "arn:aws:s3:::b-logs", ""), `{"Service":"cloudtrail.amazonaws.com"}`, `{"AWS":"*"}`, 1), stmt("s3:PutObject", "arn:aws:s3:::b-logs/AWSLogs/"+acctA+"/*", "")), true},
		{"wildcards", policy(stmt("s3:*", "arn:aws:s3:::b-logs*", `{"ArnLike":{"aws:SourceArn":"arn:aws:cloudtrail:*:`+acctA+`:trail/*"}}`)), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			cr := e.emu.AddAccount(acctA)
			e.bareBucket(t, cr, "us-east-1", "b-logs")
			if c.policy != "" {
				_, err := e.s3(cr, "us-east-1").PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("b-logs"), Policy: aws.String(c.policy)})
				must(t, err)
			}
			_, err := e.ct(cr, "us-east-1").CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("main"), S3BucketName: aws.String("b-logs")})
			if c.ok {
				must(t, err)
			} else {
				wantCode(t, err, "InsufficientS3BucketPolicyException")
			}
		})
	}
}
