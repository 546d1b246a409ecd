package aws

import (
	"strings"
	"testing"
)

// TestDeniedHint: each kind of policy AWS names in an access-denied
// message gets the remedy that kind needs; the permission is the one AWS
// names, else the operation's.
func TestDeniedHint(t *testing.T) {
	role := "arn:aws:iam::100000000001:role/Audit"
	cases := []struct {
		name, op string
		who      principal
		message  string
		want     []string
		not      []string
	}{
		{name: "no_identity_policy_for_the_caller", op: "cloudtrail:DescribeTrails in us-east-1", who: caller("111111111111"),
			message: "User: arn:aws:iam::111111111111:user/a is not authorized to perform: cloudtrail:DescribeTrails because no identity-based policy allows the cloudtrail:DescribeTrails action",
			want:    []string{"grant cloudtrail:DescribeTrails to the caller's identity in account 111111111111", "'trailguard iam-policy --audit'"}},
		{name: "message_without_action_uses_the_operation", op: "ec2:DescribeRegions in us-east-1", who: caller(""),
			message: "You are not authorized to perform this operation.",
			want:    []string{"grant ec2:DescribeRegions to the caller's identity in the account"}},
		{name: "member_role_read", op: "cloudtrail:GetTrailStatus", who: memberRole("100000000001", role),
			message: "not authorized to perform: cloudtrail:GetTrailStatus",
			want:    []string{"grant cloudtrail:GetTrailStatus to role " + role, "'trailguard iam-policy --member-role'"}},
		{name: "member_role_security_hub", op: "securityhub:BatchImportFindings", who: memberRole("100000000001", role),
			want: []string{"grant securityhub:BatchImportFindings to role " + role, "'trailguard iam-policy --member-role --securityhub'"}},
		{name: "caller_write_is_a_fix_permission", op: "cloudtrail:CreateTrail", who: caller("111111111111"),
			want: []string{"'trailguard iam-policy --fix'"}},
		{name: "describe_organization_is_an_org_permission", op: "organizations:DescribeOrganization", who: caller(""),
			want: []string{"grant organizations:DescribeOrganization", "'trailguard iam-policy --org'"}},
		{name: "service_control_policy", op: "cloudtrail:GetEventSelectors", who: memberRole("100000000001", role),
			message: "User: x is not authorized to perform: cloudtrail:GetEventSelectors with an explicit deny in a service control policy",
			want:    []string{"no IAM policy lifts it", "policies over account 100000000001", "allow cloudtrail:GetEventSelectors", "AWS Organizations"},
			not:     []string{"grant "}},
		{name: "no_service_control_policy_allows", op: "cloudtrail:DescribeTrails", who: caller("111111111111"),
			message: "User: x is not authorized to perform: cloudtrail:DescribeTrails because no service control policy allows the cloudtrail:DescribeTrails action",
			want:    []string{"no IAM policy lifts it", "service control policy"}},
		{name: "resource_control_policy", op: "sts:AssumeRole " + role, who: memberRole("100000000001", role),
			message: "User: x is not authorized to perform: sts:AssumeRole on resource: " + role + " with an explicit deny in a resource control policy",
			want:    []string{"resource control policy", "no IAM policy lifts it", "account 100000000001"}},
		{name: "assume_role_scp_is_the_callers_account", op: "sts:AssumeRole " + role, who: memberRole("100000000001", role),
			message: "User: x is not authorized to perform: sts:AssumeRole on resource: " + role + " with an explicit deny in a service control policy",
			want:    []string{"policies over the caller's account"}, not: []string{"account 100000000001"}},
		{name: "permissions_boundary", op: "cloudtrail:DescribeTrails", who: caller("111111111111"),
			message: "User: x is not authorized to perform: cloudtrail:DescribeTrails because no permissions boundary allows the cloudtrail:DescribeTrails action",
			want:    []string{"permissions boundary of the caller's identity in account 111111111111", "'trailguard iam-policy --audit'"}},
		{name: "session_policy", op: "cloudtrail:DescribeTrails", who: memberRole("100000000001", role),
			message: "User: x is not authorized to perform: cloudtrail:DescribeTrails because no session policy allows the cloudtrail:DescribeTrails action",
			want:    []string{"session policy of role " + role}},
		{name: "explicit_deny_in_an_identity_policy", op: "cloudtrail:GetTrailStatus", who: caller("111111111111"),
			message: "User: x is not authorized to perform: cloudtrail:GetTrailStatus with an explicit deny in an identity-based policy",
			want:    []string{"explicit Deny refuses cloudtrail:GetTrailStatus", "remove it"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := deniedHint(tc.op, tc.who, tc.message)
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("hint lacks %q:\n%s", w, got)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(got, n) {
					t.Errorf("hint should not say %q:\n%s", n, got)
				}
			}
		})
	}
}

// TestCheckRegion: a known region passes, a name of a partition's shape
// that the table lacks is let through with a warning (it may be new), a
// name of no region's shape is refused; both say what was likely meant.
func TestCheckRegion(t *testing.T) {
	cases := []struct {
		name, region string
		warn, err    string // substrings; "" means none
	}{
		{name: "commercial_region", region: "us-east-1"},
		{name: "china_region", region: "cn-northwest-1"},
		{name: "gov_cloud_region", region: "us-gov-west-1"},
		{name: "iso_e_region", region: "eu-isoe-west-1"},
		{name: "typo_of_the_region_shape", region: "us-est-1", warn: "did you mean us-east-1?"},
		{name: "possibly_new_region", region: "ap-northwest-9", warn: "not a known AWS region"},
		{name: "missing_dashes", region: "useast1", err: "did you mean us-east-1?"},
		{name: "availability_zone_instead_of_region", region: "us-east-1a", err: "did you mean us-east-1?"},
		{name: "pseudo_region_is_not_a_region", region: "aws-global", err: "not a known AWS region"},
		{name: "no_resemblance", region: "mars", err: "not a known AWS region"},
		{name: "upper_case", region: "US-EAST-1", err: "not a known AWS region"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			warn, err := CheckRegion(tc.region)
			if tc.err == "" && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("error %v, want one containing %q", err, tc.err)
			}
			if tc.warn == "" && warn != "" {
				t.Errorf("warns %q", warn)
			}
			if tc.warn != "" && !strings.Contains(warn, tc.warn) {
				t.Errorf("warning %q, want %q", warn, tc.warn)
			}
		})
	}
}

// TestUnknownRegionInHost finds the unknown region in an endpoint host
// that did not resolve, and none in a known region's host.
func TestUnknownRegionInHost(t *testing.T) {
	cases := []struct{ host, want string }{
		{"cloudtrail.us-est-1.amazonaws.com", "us-est-1"},
		{"ec2.eu-wset-1.amazonaws.com", "eu-wset-1"},
		{"cloudtrail.us-east-1.amazonaws.com", ""},
		{"localhost", ""},
	}
	for _, tc := range cases {
		t.Run(tc.host, func(t *testing.T) {
			got, ok := unknownRegionInHost(tc.host)
			if got != tc.want || ok != (tc.want != "") {
				t.Errorf("got %q %v, want %q", got, ok, tc.want)
			}
		})
	}
}

// FuzzCheckRegion: any name is refused, warned about or known, never
// accepted silently unless the table lists it; the host reader never
// calls a known region unknown.
func FuzzCheckRegion(f *testing.F) {
	for _, s := range []string{"us-east-1", "us-est-1", "useast1", "eusc-de-east-1", "us-gov-west-1", "", "\x1b[31m", "ap-southeast-7"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, region string) {
		warn, err := CheckRegion(region)
		known, shaped := regionKnown(region)
		switch {
		case known && (warn != "" || err != nil):
			t.Fatalf("known region %q: warn %q, err %v", region, warn, err)
		case !known && shaped && (warn == "" || err != nil):
			t.Fatalf("plausible region %q: warn %q, err %v", region, warn, err)
		case !shaped && err == nil:
			t.Fatalf("region %q of no region's shape accepted", region)
		}
		if got, ok := unknownRegionInHost("cloudtrail." + region + ".amazonaws.com"); ok && known {
			t.Fatalf("known region %q reported unknown as %q", region, got)
		}
	})
}

// FuzzDeniedHint: whatever AWS's message says, the hint names a remedy:
// a grant with its iam-policy command, or a policy no IAM policy lifts.
func FuzzDeniedHint(f *testing.F) {
	f.Add("cloudtrail:DescribeTrails", "User: x is not authorized to perform: cloudtrail:DescribeTrails because no identity-based policy allows the cloudtrail:DescribeTrails action", "")
	f.Add("sts:AssumeRole arn:aws:iam::1:role/r", "User: x is not authorized to perform: sts:AssumeRole with an explicit deny in a service control policy", "arn:aws:iam::1:role/r")
	f.Add("ec2:DescribeRegions", "You are not authorized to perform this operation.", "")
	f.Fuzz(func(t *testing.T, op, message, role string) {
		got := deniedHint(op, principal{account: "111111111111", role: role}, message)
		if !strings.Contains(got, "'trailguard iam-policy ") && !strings.Contains(got, "no IAM policy lifts it") && !strings.Contains(got, "session policy") {
			t.Fatalf("hint names no remedy: %q", got)
		}
	})
}
