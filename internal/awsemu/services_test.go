package awsemu_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/trailguard/trailguard/internal/awsemu"
)

func TestSTS(t *testing.T) {
	t.Run("caller_identity_of_account_keys", func(t *testing.T) {
		e := newEnv(t)
		c := e.emu.AddAccount(acctA)
		out, err := e.sts(c, "us-east-1").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		must(t, err)
		if aws.ToString(out.Account) != acctA || aws.ToString(out.Arn) != "arn:aws:iam::"+acctA+":root" || aws.ToString(out.UserId) != acctA {
			t.Fatalf("identity %+v", out)
		}
		if again := e.emu.AddAccount(acctA); again != c {
			t.Errorf("AddAccount not idempotent: %+v vs %+v", again, c)
		}
	})
	t.Run("assume_role_binds_keys_to_target_account", func(t *testing.T) {
		e := newEnv(t)
		a := e.emu.AddAccount(acctA)
		e.emu.AddRole(acctB, "Audit")
		_, err := e.emu.PutTrail(acctB, awsemu.TrailSpec{Name: "b-trail", IsMultiRegion: true})
		must(t, err)
		out, err := e.sts(a, "us-east-1").AssumeRole(ctx, &sts.AssumeRoleInput{
			RoleArn: aws.String("arn:aws:iam::" + acctB + ":role/Audit"), RoleSessionName: aws.String("trailguard"),
		})
		must(t, err)
		if got := aws.ToString(out.AssumedRoleUser.Arn); got != "arn:aws:sts::"+acctB+":assumed-role/Audit/trailguard" {
			t.Errorf("assumed role ARN %s", got)
		}
		if out.Credentials.Expiration == nil || !strings.HasPrefix(aws.ToString(out.Credentials.AccessKeyId), "ASIA") {
			t.Errorf("credentials %+v", out.Credentials)
		}
		role := awsemu.Credentials{AccessKeyID: aws.ToString(out.Credentials.AccessKeyId), SecretAccessKey: aws.ToString(out.Credentials.SecretAccessKey), SessionToken: aws.ToString(out.Credentials.SessionToken)}
		id, err := e.sts(role, "us-east-1").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		must(t, err)
		if aws.ToString(id.Account) != acctB || !strings.HasSuffix(aws.ToString(id.UserId), ":trailguard") {
			t.Errorf("identity %+v", id)
		}
		d, err := e.ct(role, "eu-west-1").DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{})
		must(t, err)
		if len(d.TrailList) != 1 || aws.ToString(d.TrailList[0].Name) != "b-trail" {
			t.Errorf("role sees %v", names(d.TrailList))
		}
		// Temporary keys without their session token are not valid.
		noToken := role
		noToken.SessionToken = ""
		_, err = e.sts(noToken, "us-east-1").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		wantCode(t, err, "InvalidClientTokenId")
	})
	t.Run("assume_role_without_role_is_denied", func(t *testing.T) {
		e := newEnv(t)
		_, err := e.sts(e.emu.AddAccount(acctA), "us-east-1").AssumeRole(ctx, &sts.AssumeRoleInput{
			RoleArn: aws.String("arn:aws:iam::" + acctB + ":role/Audit"), RoleSessionName: aws.String("s1"),
		})
		wantCode(t, err, "AccessDenied")
	})
	t.Run("assume_role_external_id", func(t *testing.T) {
		e := newEnv(t)
		a := e.emu.AddAccount(acctA)
		e.emu.RequireExternalID(acctB, "Audit", "secret-123")
		in := &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + acctB + ":role/Audit"), RoleSessionName: aws.String("s1")}
		_, err := e.sts(a, "us-east-1").AssumeRole(ctx, in)
		wantCode(t, err, "AccessDenied")
		in.ExternalId = aws.String("secret-123")
		_, err = e.sts(a, "us-east-1").AssumeRole(ctx, in)
		must(t, err)
	})
	for _, tc := range []struct {
		name string
		in   sts.AssumeRoleInput
	}{
		{"bad_session_name", sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + acctB + ":role/Audit"), RoleSessionName: aws.String("has space")}},
		{"bad_role_arn", sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::12:user/Audit-xxxxxxx"), RoleSessionName: aws.String("s1")}},
		{"duration_over_role_maximum", sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + acctB + ":role/Audit"), RoleSessionName: aws.String("s1"), DurationSeconds: aws.Int32(7200)}},
		{"duration_too_short", sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + acctB + ":role/Audit"), RoleSessionName: aws.String("s1"), DurationSeconds: aws.Int32(60)}},
	} {
		t.Run("assume_role_validation/"+tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.emu.AddRole(acctB, "Audit")
			_, err := e.sts(e.emu.AddAccount(acctA), "us-east-1").AssumeRole(ctx, &tc.in)
			wantCode(t, err, "ValidationError")
		})
	}
}

func regionNames(rs []ec2types.Region) map[string]string {
	out := map[string]string{}
	for _, r := range rs {
		out[aws.ToString(r.RegionName)] = aws.ToString(r.OptInStatus)
	}
	return out
}

func TestDescribeRegions(t *testing.T) {
	e := newEnv(t)
	c := e.emu.AddAccount(acctA)
	e.emu.SetOptIn(acctA, "af-south-1", "opted-in")
	client := e.ec2(c, "us-east-1")
	tests := []struct {
		name  string
		in    ec2.DescribeRegionsInput
		count int
		want  map[string]string // region → opt-in status, checked when present
		not   []string
	}{
		{"enabled_only_by_default", ec2.DescribeRegionsInput{}, 18,
			map[string]string{"us-east-1": "opt-in-not-required", "af-south-1": "opted-in"}, []string{"me-south-1"}},
		{"all_regions", ec2.DescribeRegionsInput{AllRegions: aws.Bool(true)}, 22,
			map[string]string{"me-south-1": "not-opted-in", "af-south-1": "opted-in", "sa-east-1": "opt-in-not-required"}, nil},
		{"region_names", ec2.DescribeRegionsInput{RegionNames: []string{"eu-west-1", "us-west-2"}}, 2, map[string]string{"eu-west-1": "opt-in-not-required"}, nil},
		{"opt_in_status_filter", ec2.DescribeRegionsInput{AllRegions: aws.Bool(true), Filters: []ec2types.Filter{{Name: aws.String("opt-in-status"), Values: []string{"not-opted-in"}}}}, 4,
			map[string]string{"eu-south-1": "not-opted-in"}, []string{"af-south-1"}},
		{"region_name_wildcard", ec2.DescribeRegionsInput{Filters: []ec2types.Filter{{Name: aws.String("region-name"), Values: []string{"eu-*"}}}}, 5, nil, nil},
		{"region_name_question_mark", ec2.DescribeRegionsInput{Filters: []ec2types.Filter{{Name: aws.String("region-name"), Values: []string{"eu-west-?"}}}}, 3, map[string]string{"eu-west-3": "opt-in-not-required"}, nil},
		{"region_name_escaped_character", ec2.DescribeRegionsInput{Filters: []ec2types.Filter{{Name: aws.String("region-name"), Values: []string{`eu\-west-1`}}}}, 1, map[string]string{"eu-west-1": "opt-in-not-required"}, nil},
		{"region_name_escaped_star_is_literal", ec2.DescribeRegionsInput{Filters: []ec2types.Filter{{Name: aws.String("region-name"), Values: []string{`eu-west-\*`}}}}, 0, nil, nil},
		{"region_name_bracket_is_literal", ec2.DescribeRegionsInput{Filters: []ec2types.Filter{{Name: aws.String("region-name"), Values: []string{"eu-west-[12]"}}}}, 0, nil, nil},
		{"region_name_case_counts", ec2.DescribeRegionsInput{Filters: []ec2types.Filter{{Name: aws.String("region-name"), Values: []string{"EU-*"}}}}, 0, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := client.DescribeRegions(ctx, &tc.in)
			must(t, err)
			got := regionNames(out.Regions)
			if len(got) != tc.count {
				t.Errorf("%d regions %v, want %d", len(got), got, tc.count)
			}
			for r, s := range tc.want {
				if got[r] != s {
					t.Errorf("%s: %q, want %q", r, got[r], s)
				}
			}
			for _, r := range tc.not {
				if _, ok := got[r]; ok {
					t.Errorf("%s listed", r)
				}
			}
			if len(out.Regions) > 0 && aws.ToString(out.Regions[0].Endpoint) != "ec2."+aws.ToString(out.Regions[0].RegionName)+".amazonaws.com" {
				t.Errorf("endpoint %s", aws.ToString(out.Regions[0].Endpoint))
			}
		})
	}
	t.Run("unknown_region_name", func(t *testing.T) {
		_, err := client.DescribeRegions(ctx, &ec2.DescribeRegionsInput{RegionNames: []string{"xx-nowhere-1"}})
		wantCode(t, err, "InvalidParameterValue")
	})
	t.Run("dry_run", func(t *testing.T) {
		_, err := client.DescribeRegions(ctx, &ec2.DescribeRegionsInput{DryRun: aws.Bool(true)})
		wantCode(t, err, "DryRunOperation")
	})
}

func TestS3(t *testing.T) {
	t.Run("create_and_head_path_style", func(t *testing.T) {
		e := newEnv(t)
		c := e.emu.AddAccount(acctA)
		e.bucket(t, c, "eu-west-1", "my-logs")
		out, err := e.s3(c, "eu-west-1").HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("my-logs")})
		must(t, err)
		if aws.ToString(out.BucketRegion) != "eu-west-1" {
			t.Errorf("region %q", aws.ToString(out.BucketRegion))
		}
		loc, err := e.s3(c, "eu-west-1").GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("my-logs")})
		must(t, err)
		if loc.LocationConstraint != "eu-west-1" {
			t.Errorf("location %q", loc.LocationConstraint)
		}
	})
	t.Run("create_and_head_virtual_host_style", func(t *testing.T) {
		e := newEnv(t)
		c := e.emu.AddAccount(acctA)
		var hosts []string
		vh := e.s3VirtualHost(c, "us-east-1", &hosts)
		_, err := vh.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("vhost-logs")})
		must(t, err)
		_, err = vh.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("vhost-logs")})
		must(t, err)
		if len(hosts) != 2 || !strings.HasPrefix(hosts[0], "vhost-logs.localhost:") {
			t.Errorf("requests went to %v, want vhost-logs.localhost:<port>", hosts)
		}
		// The same bucket, seen path style.
		_, err = e.s3(c, "us-east-1").HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("vhost-logs")})
		must(t, err)
	})
	t.Run("head_missing_bucket", func(t *testing.T) {
		e := newEnv(t)
		_, err := e.s3(e.emu.AddAccount(acctA), "us-east-1").HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("nowhere")})
		wantErr[*s3types.NotFound](t, err)
	})
	t.Run("head_other_accounts_bucket", func(t *testing.T) {
		e := newEnv(t)
		e.bucket(t, e.emu.AddAccount(acctB), "us-east-1", "theirs")
		_, err := e.s3(e.emu.AddAccount(acctA), "us-east-1").HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("theirs")})
		wantCode(t, err, "Forbidden")
	})
	t.Run("bucket_names_are_global", func(t *testing.T) {
		e := newEnv(t)
		e.bucket(t, e.emu.AddAccount(acctB), "us-east-1", "taken")
		_, err := e.s3(e.emu.AddAccount(acctA), "us-east-1").CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("taken")})
		wantErr[*s3types.BucketAlreadyExists](t, err)
	})
	t.Run("recreate_own_bucket_in_us_east_1_succeeds", func(t *testing.T) {
		e := newEnv(t)
		c := e.emu.AddAccount(acctA)
		e.bucket(t, c, "us-east-1", "mine")
		e.bucket(t, c, "us-east-1", "mine")
	})
	t.Run("recreate_own_bucket_elsewhere", func(t *testing.T) {
		e := newEnv(t)
		c := e.emu.AddAccount(acctA)
		e.bucket(t, c, "eu-west-1", "mine")
		_, err := e.s3(c, "eu-west-1").CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("mine"),
			CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: "eu-west-1"}})
		wantErr[*s3types.BucketAlreadyOwnedByYou](t, err)
	})
	t.Run("location_constraint_must_match_region", func(t *testing.T) {
		e := newEnv(t)
		c := e.emu.AddAccount(acctA)
		_, err := e.s3(c, "eu-west-1").CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("mine")})
		wantCode(t, err, "IllegalLocationConstraintException")
		_, err = e.s3(c, "eu-west-1").CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("mine"),
			CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: "eu-west-2"}})
		wantCode(t, err, "IllegalLocationConstraintException")
	})
	t.Run("invalid_bucket_name", func(t *testing.T) {
		e := newEnv(t)
		_, err := e.s3(e.emu.AddAccount(acctA), "us-east-1").CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("192.168.1.1")})
		wantCode(t, err, "InvalidBucketName")
	})
	t.Run("list_buckets_and_policy", func(t *testing.T) {
		e := newEnv(t)
		c := e.emu.AddAccount(acctA)
		e.bareBucket(t, c, "us-east-1", "b-one")
		e.bucket(t, c, "us-west-2", "b-two")
		e.bucket(t, e.emu.AddAccount(acctB), "us-east-1", "not-mine")
		out, err := e.s3(c, "us-east-1").ListBuckets(ctx, &s3.ListBucketsInput{})
		must(t, err)
		if len(out.Buckets) != 2 || aws.ToString(out.Buckets[0].Name) != "b-one" {
			t.Errorf("buckets %+v", out.Buckets)
		}
		_, err = e.s3(c, "us-east-1").GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("b-one")})
		wantCode(t, err, "NoSuchBucketPolicy")
		policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:GetBucketAcl","Resource":"arn:aws:s3:::b-one"}]}`
		_, err = e.s3(c, "us-east-1").PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("b-one"), Policy: aws.String(policy)})
		must(t, err)
		got, err := e.s3(c, "us-east-1").GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("b-one")})
		must(t, err)
		if aws.ToString(got.Policy) != policy {
			t.Errorf("policy %s", aws.ToString(got.Policy))
		}
		_, err = e.s3(c, "us-east-1").PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("b-one"), Policy: aws.String("nope")})
		wantCode(t, err, "MalformedPolicy")
	})
}

func TestOrganizations(t *testing.T) {
	e := newEnv(t)
	m := e.emu.AddAccount(mgmt)
	members := []string{"100000000001", "100000000002", "100000000003", "100000000004"}
	e.emu.SetOrganization(mgmt, members...)
	e.emu.SetAccountName(mgmt, "Management")
	t.Run("describe_from_member", func(t *testing.T) {
		out, err := e.org(e.emu.AddAccount(members[0])).DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
		must(t, err)
		if aws.ToString(out.Organization.MasterAccountId) != mgmt || !strings.HasPrefix(aws.ToString(out.Organization.Id), "o-") {
			t.Fatalf("organization %+v", out.Organization)
		}
	})
	t.Run("list_accounts_in_pages", func(t *testing.T) {
		p := organizations.NewListAccountsPaginator(e.org(m), &organizations.ListAccountsInput{MaxResults: aws.Int32(2)})
		var ids []string
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			must(t, err)
			for _, a := range out.Accounts {
				ids = append(ids, aws.ToString(a.Id))
				if a.Status != orgtypes.AccountStatusActive {
					t.Errorf("status %s", a.Status)
				}
			}
		}
		if len(ids) != 5 || ids[0] != mgmt {
			t.Fatalf("accounts %v", ids)
		}
	})
	t.Run("max_results_over_20", func(t *testing.T) {
		_, err := e.org(m).ListAccounts(ctx, &organizations.ListAccountsInput{MaxResults: aws.Int32(21)})
		wantErr[*orgtypes.InvalidInputException](t, err)
	})
	t.Run("member_cannot_list", func(t *testing.T) {
		_, err := e.org(e.emu.AddAccount(members[1])).ListAccounts(ctx, &organizations.ListAccountsInput{})
		wantErr[*orgtypes.AccessDeniedException](t, err)
	})
	t.Run("not_in_organization", func(t *testing.T) {
		_, err := e.org(e.emu.AddAccount(acctA)).DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
		wantErr[*orgtypes.AWSOrganizationsNotInUseException](t, err)
	})
	t.Run("describe_account", func(t *testing.T) {
		out, err := e.org(m).DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String(mgmt)})
		must(t, err)
		if aws.ToString(out.Account.Name) != "Management" {
			t.Errorf("account %+v", out.Account)
		}
		_, err = e.org(m).DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String(acctA)})
		wantErr[*orgtypes.AccountNotFoundException](t, err)
	})
	t.Run("describe_account_id_not_twelve_digits", func(t *testing.T) {
		for _, id := range []string{"12345", "1234567890123", "12345678901x"} {
			_, err := e.org(m).DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String(id)})
			wantErr[*orgtypes.InvalidInputException](t, err)
		}
	})
	t.Run("member_cannot_describe", func(t *testing.T) {
		_, err := e.org(e.emu.AddAccount(members[1])).DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String(mgmt)})
		wantErr[*orgtypes.AccessDeniedException](t, err)
	})
}
