package awsemu_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	"github.com/trailguard/trailguard/internal/awsemu"
)

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
