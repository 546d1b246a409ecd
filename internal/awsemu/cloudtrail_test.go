package awsemu_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
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

func names(trails []cttypes.Trail) []string {
	var out []string
	for _, t := range trails {
		out = append(out, aws.ToString(t.Name)+"@"+aws.ToString(t.HomeRegion))
	}
	return out
}

func TestDescribeTrails(t *testing.T) {
	type setup struct {
		e              *env
		a, mgmt, membr awsemu.Credentials
	}
	build := func(t *testing.T) setup {
		e := newEnv(t)
		s := setup{e: e, a: e.emu.AddAccount(acctA)}
		e.trail(t, s.a, "us-east-1", "global", true)
		e.trail(t, s.a, "eu-west-1", "local", false)
		s.mgmt, s.membr, _ = e.orgTrail(t, true)
		_, err := e.emu.PutTrail(mgmt, awsemu.TrailSpec{Name: "org-local", HomeRegion: "eu-west-1", S3BucketName: "org-logs", IsOrganizationTrail: true})
		must(t, err)
		return s
	}
	tests := []struct {
		name   string
		who    func(s setup) awsemu.Credentials
		region string
		in     cloudtrail.DescribeTrailsInput
		want   []string
	}{
		{"own_trail_in_home_region", func(s setup) awsemu.Credentials { return s.a }, "us-east-1", cloudtrail.DescribeTrailsInput{}, []string{"global@us-east-1"}},
		{"shadow_trail_in_other_region", func(s setup) awsemu.Credentials { return s.a }, "eu-west-1", cloudtrail.DescribeTrailsInput{}, []string{"local@eu-west-1", "global@us-east-1"}},
		{"shadow_trail_in_opted_out_default_region", func(s setup) awsemu.Credentials { return s.a }, "sa-east-1", cloudtrail.DescribeTrailsInput{}, []string{"global@us-east-1"}},
		{"shadows_left_out_on_request", func(s setup) awsemu.Credentials { return s.a }, "eu-west-1", cloudtrail.DescribeTrailsInput{IncludeShadowTrails: aws.Bool(false)}, []string{"local@eu-west-1"}},
		{"single_region_trail_invisible_elsewhere", func(s setup) awsemu.Credentials { return s.a }, "us-west-2", cloudtrail.DescribeTrailsInput{}, []string{"global@us-east-1"}},
		{"by_name_in_home_region", func(s setup) awsemu.Credentials { return s.a }, "eu-west-1", cloudtrail.DescribeTrailsInput{TrailNameList: []string{"local"}}, []string{"local@eu-west-1"}},
		{"by_name_shadow_not_found", func(s setup) awsemu.Credentials { return s.a }, "eu-west-1", cloudtrail.DescribeTrailsInput{TrailNameList: []string{"global"}}, nil},
		{"by_arn_shadow_found", func(s setup) awsemu.Credentials { return s.a }, "eu-west-1",
			cloudtrail.DescribeTrailsInput{TrailNameList: []string{"arn:aws:cloudtrail:us-east-1:" + acctA + ":trail/global", "nosuch"}}, []string{"global@us-east-1"}},
		{"other_account_sees_nothing", func(s setup) awsemu.Credentials { return s.e.emu.AddAccount(acctB) }, "us-east-1", cloudtrail.DescribeTrailsInput{}, nil},
		{"management_sees_own_org_trails", func(s setup) awsemu.Credentials { return s.mgmt }, "eu-west-1", cloudtrail.DescribeTrailsInput{}, []string{"org-local@eu-west-1", "org-trail@us-east-1"}},
		{"member_sees_org_trail", func(s setup) awsemu.Credentials { return s.membr }, "us-east-1", cloudtrail.DescribeTrailsInput{}, []string{"org-trail@us-east-1"}},
		{"member_sees_single_region_org_trail_in_its_region", func(s setup) awsemu.Credentials { return s.membr }, "eu-west-1", cloudtrail.DescribeTrailsInput{}, []string{"org-local@eu-west-1", "org-trail@us-east-1"}},
		{"member_org_trails_are_shadows", func(s setup) awsemu.Credentials { return s.membr }, "us-east-1", cloudtrail.DescribeTrailsInput{IncludeShadowTrails: aws.Bool(false)}, nil},
		{"member_asks_org_trail_by_name", func(s setup) awsemu.Credentials { return s.membr }, "us-east-1", cloudtrail.DescribeTrailsInput{TrailNameList: []string{"org-trail"}}, nil},
		{"member_asks_org_trail_by_arn", func(s setup) awsemu.Credentials { return s.membr }, "ap-south-1",
			cloudtrail.DescribeTrailsInput{TrailNameList: []string{"arn:aws:cloudtrail:us-east-1:" + mgmt + ":trail/org-trail"}}, []string{"org-trail@us-east-1"}},
		{"non_member_does_not_see_org_trail", func(s setup) awsemu.Credentials { return s.a }, "us-east-1",
			cloudtrail.DescribeTrailsInput{TrailNameList: []string{"arn:aws:cloudtrail:us-east-1:" + mgmt + ":trail/org-trail"}}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := build(t)
			out, err := s.e.ct(tc.who(s), tc.region).DescribeTrails(ctx, &tc.in)
			must(t, err)
			if got := names(out.TrailList); strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("trails %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("shadow_keeps_its_identity", func(t *testing.T) {
		s := build(t)
		out, err := s.e.ct(s.membr, "ap-northeast-1").DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{})
		must(t, err)
		if len(out.TrailList) != 1 {
			t.Fatalf("trails %v", names(out.TrailList))
		}
		tr := out.TrailList[0]
		if aws.ToString(tr.TrailARN) != "arn:aws:cloudtrail:us-east-1:"+mgmt+":trail/org-trail" || !aws.ToBool(tr.IsOrganizationTrail) ||
			!aws.ToBool(tr.IsMultiRegionTrail) || aws.ToBool(tr.HasCustomEventSelectors) || aws.ToString(tr.S3BucketName) != "org-logs" {
			t.Errorf("org trail seen from member: %+v", tr)
		}
	})
	t.Run("invalid_arn", func(t *testing.T) {
		s := build(t)
		_, err := s.e.ct(s.a, "us-east-1").DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{TrailNameList: []string{"arn:aws:cloudtrail:us-east-1:123:trail/x"}})
		wantErr[*cttypes.CloudTrailARNInvalidException](t, err)
	})
	t.Run("invalid_name", func(t *testing.T) {
		s := build(t)
		_, err := s.e.ct(s.a, "us-east-1").DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{TrailNameList: []string{"a"}})
		wantErr[*cttypes.InvalidTrailNameException](t, err)
	})
	t.Run("organization_left", func(t *testing.T) {
		s := build(t)
		s.e.emu.SetOrganization(acctB, member) // member moves to another organization
		out, err := s.e.ct(s.membr, "us-east-1").DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{})
		must(t, err)
		if len(out.TrailList) != 0 {
			t.Fatalf("trails %v after leaving the organization", names(out.TrailList))
		}
	})
}

func TestGetTrail(t *testing.T) {
	e := newEnv(t)
	c := e.emu.AddAccount(acctA)
	arn := e.trail(t, c, "us-east-1", "main", true)
	out, err := e.ct(c, "eu-west-1").GetTrail(ctx, &cloudtrail.GetTrailInput{Name: aws.String(arn)})
	must(t, err)
	if aws.ToString(out.Trail.HomeRegion) != "us-east-1" || aws.ToString(out.Trail.TrailARN) != arn {
		t.Errorf("trail %+v", out.Trail)
	}
	_, err = e.ct(c, "eu-west-1").GetTrail(ctx, &cloudtrail.GetTrailInput{Name: aws.String("main")})
	wantErr[*cttypes.TrailNotFoundException](t, err)
}

func TestGetTrailStatus(t *testing.T) {
	status := func(t *testing.T, e *env, c awsemu.Credentials, region, name string) (*cloudtrail.GetTrailStatusOutput, error) {
		t.Helper()
		return e.ct(c, region).GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String(name)})
	}
	t.Run("logging_after_start", func(t *testing.T) {
		e := newEnv(t)
		c := e.emu.AddAccount(acctA)
		arn := e.trail(t, c, "us-east-1", "main", true)
		_, err := e.ct(c, "us-east-1").StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String("main")})
		must(t, err)
		st, err := status(t, e, c, "us-east-1", arn)
		must(t, err)
		if !aws.ToBool(st.IsLogging) || st.StartLoggingTime == nil || st.LatestDeliveryTime == nil || st.StopLoggingTime != nil {
			t.Fatalf("status %+v", st)
		}
		if aws.ToString(st.TimeLoggingStarted) == "" || aws.ToString(st.LatestDeliveryAttemptSucceeded) == "" || aws.ToString(st.TimeLoggingStopped) != "" || st.LatestDeliveryError != nil {
			t.Errorf("status strings %+v", st)
		}
	})
	t.Run("stopped", func(t *testing.T) {
		e := newEnv(t)
		c := e.emu.AddAccount(acctA)
		e.trail(t, c, "us-east-1", "main", true)
		ct := e.ct(c, "us-east-1")
		_, err := ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String("main")})
		must(t, err)
		_, err = ct.StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String("main")})
		must(t, err)
		st, err := status(t, e, c, "us-east-1", "main")
		must(t, err)
		if aws.ToBool(st.IsLogging) || st.StopLoggingTime == nil || st.StartLoggingTime == nil || aws.ToString(st.TimeLoggingStopped) == "" {
			t.Fatalf("status %+v", st)
		}
	})
	t.Run("delivery_error", func(t *testing.T) {
		e := newEnv(t)
		e.emu.AddAccount(acctA)
		arn, err := e.emu.PutTrail(acctA, awsemu.TrailSpec{Name: "main", S3BucketName: "x-logs", IsMultiRegion: true, Logging: true, LatestDeliveryError: "AccessDenied"})
		must(t, err)
		st, err := status(t, e, e.emu.AddAccount(acctA), "us-east-1", arn)
		must(t, err)
		if !aws.ToBool(st.IsLogging) || aws.ToString(st.LatestDeliveryError) != "AccessDenied" || st.LatestDeliveryTime != nil || aws.ToString(st.LatestDeliveryAttemptTime) == "" {
			t.Fatalf("status %+v", st)
		}
		e.emu.SetDeliveryError(arn, "")
		st, err = status(t, e, e.emu.AddAccount(acctA), "us-east-1", arn)
		must(t, err)
		if st.LatestDeliveryError != nil || st.LatestDeliveryTime == nil {
			t.Fatalf("status after clearing the error %+v", st)
		}
	})
	t.Run("bucket_deleted", func(t *testing.T) {
		e := newEnv(t)
		c := e.emu.AddAccount(acctA)
		arn := e.trail(t, c, "us-east-1", "main", true)
		_, err := e.ct(c, "us-east-1").StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String("main")})
		must(t, err)
		_, err = e.s3(c, "us-east-1").DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("logs-" + acctA + "-main")})
		must(t, err)
		st, err := status(t, e, c, "us-east-1", arn)
		must(t, err)
		if aws.ToString(st.LatestDeliveryError) != "NoSuchBucket" {
			t.Fatalf("status %+v", st)
		}
	})
	t.Run("shadow_by_arn_from_other_region", func(t *testing.T) {
		e := newEnv(t)
		c := e.emu.AddAccount(acctA)
		arn, err := e.emu.PutTrail(acctA, awsemu.TrailSpec{Name: "main", HomeRegion: "us-west-2", IsMultiRegion: true, Logging: true})
		must(t, err)
		st, err := status(t, e, c, "eu-central-1", arn)
		must(t, err)
		if !aws.ToBool(st.IsLogging) {
			t.Fatalf("status %+v", st)
		}
	})
	t.Run("shadow_by_name_from_other_region", func(t *testing.T) {
		e := newEnv(t)
		c := e.emu.AddAccount(acctA)
		_, err := e.emu.PutTrail(acctA, awsemu.TrailSpec{Name: "main", HomeRegion: "us-west-2", IsMultiRegion: true, Logging: true})
		must(t, err)
		_, err = status(t, e, c, "eu-central-1", "main")
		wantErr[*cttypes.TrailNotFoundException](t, err)
	})
	t.Run("single_region_trail_by_arn_from_other_region", func(t *testing.T) {
		e := newEnv(t)
		c := e.emu.AddAccount(acctA)
		arn := e.trail(t, c, "us-west-2", "local", false)
		_, err := status(t, e, c, "us-east-1", arn)
		wantErr[*cttypes.TrailNotFoundException](t, err)
	})
	t.Run("member_asks_org_trail_by_name", func(t *testing.T) {
		e := newEnv(t)
		_, mem, _ := e.orgTrail(t, true)
		_, err := status(t, e, mem, "us-east-1", "org-trail")
		wantErr[*cttypes.TrailNotFoundException](t, err)
	})
	t.Run("member_asks_org_trail_by_arn", func(t *testing.T) {
		e := newEnv(t)
		_, mem, arn := e.orgTrail(t, true)
		st, err := status(t, e, mem, "us-east-1", arn)
		must(t, err)
		if !aws.ToBool(st.IsLogging) {
			t.Fatalf("status %+v", st)
		}
	})
	t.Run("member_denied_org_trail", func(t *testing.T) {
		e := newEnv(t)
		m, mem, arn := e.orgTrail(t, true)
		e.emu.SetMemberOrgTrailAccess(true)
		_, err := status(t, e, mem, "us-east-1", arn)
		wantCode(t, err, "AccessDeniedException")
		_, err = status(t, e, m, "us-east-1", arn) // the owner still reads it
		must(t, err)
	})
	t.Run("other_account_arn", func(t *testing.T) {
		e := newEnv(t)
		arn := e.trail(t, e.emu.AddAccount(acctA), "us-east-1", "main", true)
		_, err := status(t, e, e.emu.AddAccount(acctB), "us-east-1", arn)
		wantErr[*cttypes.TrailNotFoundException](t, err)
	})
	t.Run("invalid_arn", func(t *testing.T) {
		e := newEnv(t)
		_, err := status(t, e, e.emu.AddAccount(acctA), "us-east-1", "arn:aws:cloudtrail:us-east-1:"+acctA+":bucket/x")
		wantErr[*cttypes.CloudTrailARNInvalidException](t, err)
	})
}

func TestEventSelectors(t *testing.T) {
	setup := func(t *testing.T) (*env, awsemu.Credentials, string) {
		e := newEnv(t)
		c := e.emu.AddAccount(acctA)
		return e, c, e.trail(t, c, "us-east-1", "main", true)
	}
	put := func(e *env, c awsemu.Credentials, region string, in *cloudtrail.PutEventSelectorsInput) error {
		_, err := e.ct(c, region).PutEventSelectors(ctx, in)
		return err
	}
	t.Run("default_selectors", func(t *testing.T) {
		e, c, arn := setup(t)
		out, err := e.ct(c, "us-east-1").GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: aws.String(arn)})
		must(t, err)
		if len(out.EventSelectors) != 1 || out.EventSelectors[0].ReadWriteType != cttypes.ReadWriteTypeAll ||
			!aws.ToBool(out.EventSelectors[0].IncludeManagementEvents) || out.AdvancedEventSelectors != nil {
			t.Fatalf("default selectors %+v", out)
		}
		tr, err := e.ct(c, "us-east-1").GetTrail(ctx, &cloudtrail.GetTrailInput{Name: aws.String(arn)})
		must(t, err)
		if aws.ToBool(tr.Trail.HasCustomEventSelectors) {
			t.Error("HasCustomEventSelectors true before PutEventSelectors")
		}
	})
	t.Run("basic", func(t *testing.T) {
		e, c, arn := setup(t)
		must(t, put(e, c, "us-east-1", &cloudtrail.PutEventSelectorsInput{TrailName: aws.String("main"), EventSelectors: []cttypes.EventSelector{
			{ReadWriteType: cttypes.ReadWriteTypeWriteOnly, IncludeManagementEvents: aws.Bool(true), ExcludeManagementEventSources: []string{"kms.amazonaws.com"}},
			{ReadWriteType: cttypes.ReadWriteTypeAll, IncludeManagementEvents: aws.Bool(false), DataResources: []cttypes.DataResource{{Type: aws.String("AWS::S3::Object"), Values: []string{"arn:aws:s3"}}}},
		}}))
		out, err := e.ct(c, "ap-south-1").GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: aws.String(arn)})
		must(t, err)
		if len(out.EventSelectors) != 2 || out.EventSelectors[0].ReadWriteType != cttypes.ReadWriteTypeWriteOnly ||
			out.EventSelectors[0].ExcludeManagementEventSources[0] != "kms.amazonaws.com" || len(out.EventSelectors[1].DataResources) != 1 {
			t.Fatalf("selectors %+v", out.EventSelectors)
		}
		tr, err := e.ct(c, "us-east-1").GetTrail(ctx, &cloudtrail.GetTrailInput{Name: aws.String(arn)})
		must(t, err)
		if !aws.ToBool(tr.Trail.HasCustomEventSelectors) {
			t.Error("HasCustomEventSelectors false after PutEventSelectors")
		}
	})
	t.Run("advanced_replaces_basic", func(t *testing.T) {
		e, c, arn := setup(t)
		must(t, put(e, c, "us-east-1", &cloudtrail.PutEventSelectorsInput{TrailName: aws.String(arn), AdvancedEventSelectors: []cttypes.AdvancedEventSelector{{
			Name: aws.String("mgmt"),
			FieldSelectors: []cttypes.AdvancedFieldSelector{
				{Field: aws.String("eventCategory"), Equals: []string{"Management"}},
				{Field: aws.String("eventSource"), NotEquals: []string{"kms.amazonaws.com"}},
			},
		}}}))
		out, err := e.ct(c, "us-east-1").GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: aws.String("main")})
		must(t, err)
		if out.EventSelectors != nil || len(out.AdvancedEventSelectors) != 1 || len(out.AdvancedEventSelectors[0].FieldSelectors) != 2 ||
			out.AdvancedEventSelectors[0].FieldSelectors[1].NotEquals[0] != "kms.amazonaws.com" {
			t.Fatalf("selectors %+v", out)
		}
	})
	invalid := []struct {
		name string
		in   cloudtrail.PutEventSelectorsInput
	}{
		{"both_kinds", cloudtrail.PutEventSelectorsInput{
			EventSelectors:         []cttypes.EventSelector{{ReadWriteType: cttypes.ReadWriteTypeAll}},
			AdvancedEventSelectors: []cttypes.AdvancedEventSelector{{FieldSelectors: []cttypes.AdvancedFieldSelector{{Field: aws.String("eventCategory"), Equals: []string{"Management"}}}}},
		}},
		{"neither_kind", cloudtrail.PutEventSelectorsInput{}},
		{"six_basic_selectors", cloudtrail.PutEventSelectorsInput{EventSelectors: make([]cttypes.EventSelector, 6)}},
		{"bad_read_write_type", cloudtrail.PutEventSelectorsInput{EventSelectors: []cttypes.EventSelector{{ReadWriteType: "read-only"}}}},
		{"excluded_source_not_allowed", cloudtrail.PutEventSelectorsInput{EventSelectors: []cttypes.EventSelector{{ExcludeManagementEventSources: []string{"s3.amazonaws.com"}}}}},
		{"advanced_without_event_category", cloudtrail.PutEventSelectorsInput{AdvancedEventSelectors: []cttypes.AdvancedEventSelector{{
			FieldSelectors: []cttypes.AdvancedFieldSelector{{Field: aws.String("readOnly"), Equals: []string{"true"}}}}}}},
		{"advanced_bad_category", cloudtrail.PutEventSelectorsInput{AdvancedEventSelectors: []cttypes.AdvancedEventSelector{{
			FieldSelectors: []cttypes.AdvancedFieldSelector{{Field: aws.String("eventCategory"), Equals: []string{"Everything"}}}}}}},
		{"advanced_management_field_not_supported", cloudtrail.PutEventSelectorsInput{AdvancedEventSelectors: []cttypes.AdvancedEventSelector{{
			FieldSelectors: []cttypes.AdvancedFieldSelector{{Field: aws.String("eventCategory"), Equals: []string{"Management"}}, {Field: aws.String("eventName"), Equals: []string{"x"}}}}}}},
		{"advanced_data_without_resource_type", cloudtrail.PutEventSelectorsInput{AdvancedEventSelectors: []cttypes.AdvancedEventSelector{{
			FieldSelectors: []cttypes.AdvancedFieldSelector{{Field: aws.String("eventCategory"), Equals: []string{"Data"}}}}}}},
		{"advanced_read_only_bad_value", cloudtrail.PutEventSelectorsInput{AdvancedEventSelectors: []cttypes.AdvancedEventSelector{{
			FieldSelectors: []cttypes.AdvancedFieldSelector{{Field: aws.String("eventCategory"), Equals: []string{"Management"}}, {Field: aws.String("readOnly"), Equals: []string{"yes"}}}}}}},
	}
	for _, tc := range invalid {
		t.Run("invalid/"+tc.name, func(t *testing.T) {
			e, c, _ := setup(t)
			in := tc.in
			in.TrailName = aws.String("main")
			wantErr[*cttypes.InvalidEventSelectorsException](t, put(e, c, "us-east-1", &in))
		})
	}
	t.Run("invalid/advanced_without_field_selectors", func(t *testing.T) {
		e, c, _ := setup(t)
		err := put(e, c, "us-east-1", &cloudtrail.PutEventSelectorsInput{TrailName: aws.String("main"),
			AdvancedEventSelectors: []cttypes.AdvancedEventSelector{{Name: aws.String("empty"), FieldSelectors: []cttypes.AdvancedFieldSelector{}}}})
		wantCode(t, err, "ValidationException")
	})
	t.Run("from_other_region", func(t *testing.T) {
		e, c, arn := setup(t)
		err := put(e, c, "eu-west-1", &cloudtrail.PutEventSelectorsInput{TrailName: aws.String(arn), EventSelectors: []cttypes.EventSelector{{ReadWriteType: cttypes.ReadWriteTypeAll}}})
		wantErr[*cttypes.InvalidHomeRegionException](t, err)
	})
	t.Run("member_on_org_trail", func(t *testing.T) {
		e := newEnv(t)
		_, mem, arn := e.orgTrail(t, true)
		err := put(e, mem, "us-east-1", &cloudtrail.PutEventSelectorsInput{TrailName: aws.String(arn), EventSelectors: []cttypes.EventSelector{{ReadWriteType: cttypes.ReadWriteTypeAll}}})
		wantErr[*cttypes.NotOrganizationMasterAccountException](t, err)
	})
	t.Run("member_reads_org_trail_selectors", func(t *testing.T) {
		e := newEnv(t)
		_, mem, arn := e.orgTrail(t, true)
		_, err := e.ct(mem, "eu-west-1").GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: aws.String(arn)})
		must(t, err)
		e.emu.SetMemberOrgTrailAccess(true)
		_, err = e.ct(mem, "eu-west-1").GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: aws.String(arn)})
		wantCode(t, err, "AccessDeniedException")
	})
	t.Run("seeded_selectors", func(t *testing.T) {
		e := newEnv(t)
		c := e.emu.AddAccount(acctA)
		arn, err := e.emu.PutTrail(acctA, awsemu.TrailSpec{Name: "main", IsMultiRegion: true,
			EventSelectorsJSON: `{"EventSelectors":[{"ReadWriteType":"ReadOnly","IncludeManagementEvents":true}]}`})
		must(t, err)
		out, err := e.ct(c, "us-east-1").GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: aws.String(arn)})
		must(t, err)
		if len(out.EventSelectors) != 1 || out.EventSelectors[0].ReadWriteType != cttypes.ReadWriteTypeReadOnly {
			t.Fatalf("selectors %+v", out.EventSelectors)
		}
		_, err = e.emu.PutTrail(acctA, awsemu.TrailSpec{Name: "bad", EventSelectorsJSON: `{"EventSelectors":[{"ReadWriteType":"Sometimes"}]}`})
		if err == nil || !strings.Contains(err.Error(), "InvalidEventSelectorsException") {
			t.Fatalf("seeding invalid selectors: %v", err)
		}
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

func TestListTrails(t *testing.T) {
	e := newEnv(t)
	c := e.emu.AddAccount(acctA)
	for i, region := range []string{"us-east-1", "eu-west-1", "ap-south-1", "us-west-2", "sa-east-1"} {
		e.trail(t, c, region, "trail"+string(rune('a'+i)), i == 0)
	}
	e.emu.SetPageSize(2)
	p := cloudtrail.NewListTrailsPaginator(e.ct(c, "eu-central-1"), &cloudtrail.ListTrailsInput{})
	var got []string
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		must(t, err)
		pages++
		for _, tr := range out.Trails {
			got = append(got, aws.ToString(tr.Name)+"@"+aws.ToString(tr.HomeRegion))
		}
	}
	if pages != 3 || len(got) != 5 {
		t.Fatalf("%d pages: %v", pages, got)
	}
	_, err := e.ct(c, "us-east-1").ListTrails(ctx, &cloudtrail.ListTrailsInput{NextToken: aws.String("garbage")})
	wantCode(t, err, "InvalidTokenException")
}

func TestTags(t *testing.T) {
	e := newEnv(t)
	c := e.emu.AddAccount(acctA)
	arn := e.trail(t, c, "us-east-1", "main", true)
	ct := e.ct(c, "us-east-1")
	_, err := ct.AddTags(ctx, &cloudtrail.AddTagsInput{ResourceId: aws.String(arn), TagsList: []cttypes.Tag{{Key: aws.String("team"), Value: aws.String("sec")}, {Key: aws.String("env")}}})
	must(t, err)
	_, err = ct.RemoveTags(ctx, &cloudtrail.RemoveTagsInput{ResourceId: aws.String(arn), TagsList: []cttypes.Tag{{Key: aws.String("env")}}})
	must(t, err)
	out, err := ct.ListTags(ctx, &cloudtrail.ListTagsInput{ResourceIdList: []string{arn}})
	must(t, err)
	if len(out.ResourceTagList) != 1 || len(out.ResourceTagList[0].TagsList) != 1 || aws.ToString(out.ResourceTagList[0].TagsList[0].Value) != "sec" {
		t.Fatalf("tags %+v", out.ResourceTagList)
	}
	_, err = ct.AddTags(ctx, &cloudtrail.AddTagsInput{ResourceId: aws.String(arn), TagsList: []cttypes.Tag{{Key: aws.String("")}}})
	wantErr[*cttypes.InvalidTagParameterException](t, err)
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
