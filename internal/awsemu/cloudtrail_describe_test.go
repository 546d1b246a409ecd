package awsemu_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	"github.com/trailguard/trailguard/internal/awsemu"
)

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
