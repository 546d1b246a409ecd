package awsemu_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/trailguard/trailguard/internal/awsemu"
)

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
