package aws_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard"
	tgaws "github.com/trailguard/trailguard/aws"
	"github.com/trailguard/trailguard/internal/awsemu"
)

// noIdentityPolicy is AWS's message for a call no IAM policy of the
// caller allows.
func noIdentityPolicy(action string) string {
	return "User: arn:aws:iam::123456789012:user/audit is not authorized to perform: " + action + " because no identity-based policy allows the " + action + " action"
}

// TestAccessDeniedPointsTheWay: every denied call, made by the caller or
// by the member role, over HTTP through the SDK, says which permission is
// missing, who must be granted it and which 'trailguard iam-policy'
// command prints it; a service control policy deny says that no IAM
// policy lifts it and that it changes in AWS Organizations.
func TestAccessDeniedPointsTheWay(t *testing.T) {
	const member = "100000000007"
	memberRole := "arn:aws:iam::" + member + ":role/" + tgaws.DefaultRoleName
	cases := []struct {
		name string
		seed func(t *testing.T, e *env)
		org  bool
		// account is the account whose reasons are read (the org error
		// when empty and org is set).
		account string
		want    []string
		not     []string
	}{
		{
			name: "caller_denied_describe_trails",
			seed: func(t *testing.T, e *env) {
				e.emu.InjectFault(awsemu.Fault{Service: "cloudtrail", Operation: "DescribeTrails", Code: "AccessDeniedException", Message: noIdentityPolicy("cloudtrail:DescribeTrails")})
			},
			account: acct,
			want:    []string{"grant cloudtrail:DescribeTrails to the caller's identity in account " + acct, "'trailguard iam-policy --audit'"},
			not:     []string{"service control policy"},
		},
		{
			name: "caller_denied_trail_status_is_unknown_with_the_permission",
			seed: func(t *testing.T, e *env) {
				e.putTrail(t, acct, multiRegion("main", "us-east-1"))
				e.emu.InjectFault(awsemu.Fault{Service: "cloudtrail", Operation: "GetTrailStatus", Code: "AccessDeniedException", Message: noIdentityPolicy("cloudtrail:GetTrailStatus")})
			},
			account: acct,
			want:    []string{"grant cloudtrail:GetTrailStatus to the caller's identity in account " + acct, "'trailguard iam-policy --audit'"},
		},
		{
			name: "regions_denied_by_unauthorized_operation",
			seed: func(t *testing.T, e *env) {
				e.emu.InjectFault(awsemu.Fault{Service: "ec2", Operation: "DescribeRegions", Code: "UnauthorizedOperation", Message: "You are not authorized to perform this operation."})
			},
			account: acct,
			want:    []string{"grant ec2:DescribeRegions to the caller's identity in account " + acct, "'trailguard iam-policy --audit'"},
		},
		{
			name: "service_control_policy_deny",
			seed: func(t *testing.T, e *env) {
				e.emu.Deny("cloudtrail:DescribeTrails")
			},
			account: acct,
			want:    []string{"service control policy", "no IAM policy lifts it", "account " + acct, "allow cloudtrail:DescribeTrails", "in AWS Organizations"},
			not:     []string{"grant "},
		},
		{
			name: "service_control_policy_text_from_a_fault",
			seed: func(t *testing.T, e *env) {
				e.putTrail(t, acct, multiRegion("main", "us-east-1"))
				e.emu.InjectFault(awsemu.Fault{Service: "cloudtrail", Operation: "GetEventSelectors", Code: "AccessDeniedException",
					Message: "User: arn:aws:sts::123456789012:assumed-role/Audit/x is not authorized to perform: cloudtrail:GetEventSelectors on resource: arn:aws:cloudtrail:us-east-1:123456789012:trail/main with an explicit deny in a service control policy"})
			},
			account: acct,
			want:    []string{"no IAM policy lifts it", "allow cloudtrail:GetEventSelectors"},
		},
		{
			name: "member_role_denied_is_granted_to_the_role",
			org:  true,
			seed: func(t *testing.T, e *env) {
				e.emu.AddAccount(member)
				e.emu.AddRole(member, tgaws.DefaultRoleName)
				e.emu.SetOrganization(mgmt, member)
				e.emu.InjectFault(awsemu.Fault{Account: member, Service: "cloudtrail", Operation: "DescribeTrails", Code: "AccessDeniedException", Message: noIdentityPolicy("cloudtrail:DescribeTrails")})
			},
			account: member,
			want:    []string{"grant cloudtrail:DescribeTrails to role " + memberRole, "'trailguard iam-policy --member-role'"},
			not:     []string{"caller's identity"},
		},
		{
			name: "assume_role_denied",
			org:  true,
			seed: func(t *testing.T, e *env) {
				e.emu.AddAccount(member) // no role to assume
				e.emu.SetOrganization(mgmt, member)
			},
			account: member,
			want:    []string{"needs sts:AssumeRole on " + memberRole, "trust the caller's account", "'trailguard iam-policy --org'"},
		},
		{
			name: "assume_role_denied_by_a_service_control_policy",
			org:  true,
			seed: func(t *testing.T, e *env) {
				e.emu.AddAccount(member)
				e.emu.AddRole(member, tgaws.DefaultRoleName)
				e.emu.SetOrganization(mgmt, member)
				e.emu.Deny("sts:AssumeRole")
			},
			account: member,
			want:    []string{"service control policy", "no IAM policy lifts it", "the caller's account", "allow sts:AssumeRole"},
		},
		{
			name: "list_accounts_denied",
			org:  true,
			seed: func(t *testing.T, e *env) {
				e.emu.SetOrganization(mgmt)
				e.emu.InjectFault(awsemu.Fault{Service: "organizations", Operation: "ListAccounts", Code: "AccessDeniedException", Message: noIdentityPolicy("organizations:ListAccounts")})
			},
			want: []string{"grant organizations:ListAccounts to the caller's identity in account " + mgmt, "'trailguard iam-policy --org'"},
		},
		{
			name: "list_accounts_denied_by_a_service_control_policy",
			org:  true,
			seed: func(t *testing.T, e *env) {
				e.emu.SetOrganization(mgmt)
				e.emu.Deny("organizations:List*")
			},
			want: []string{"service control policy", "no IAM policy lifts it", "allow organizations:ListAccounts"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			caller := acct
			if tc.org {
				caller = mgmt
			}
			e.emu.AddAccount(caller)
			tc.seed(t, e)
			o := tgaws.ScanOptions{Organization: tc.org, Org: tgaws.OrgOptions{Concurrency: 2}}
			out, err := tgaws.Scan(context.Background(), e.config(caller, nil), o)
			var got string
			if tc.account == "" {
				if err == nil {
					t.Fatalf("the scan succeeded; want the listing's error")
				}
				got = err.Error()
			} else {
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range out.Results {
					if r.Account == tc.account {
						if r.Status == trailguard.StatusPass {
							t.Fatalf("%s passes with a denied call", r.Account)
						}
						got = strings.Join(append(r.Reasons, r.Warnings...), "\n")
					}
				}
				if got == "" {
					t.Fatalf("no reasons for account %s in %+v", tc.account, out.Results)
				}
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("reasons lack %q:\n%s", w, got)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(got, n) {
					t.Errorf("reasons should not say %q:\n%s", n, got)
				}
			}
		})
	}
}

// TestTimeoutNamesTheFlagThatRanOut: a scan cut short by the whole
// scan's --timeout says to raise --timeout, one cut short by the
// account's --account-timeout says to raise that; neither names the
// other.
func TestTimeoutNamesTheFlagThatRanOut(t *testing.T) {
	const member = "100000000008"
	cases := []struct {
		name                    string
		org                     bool
		timeout, accountTimeout time.Duration
		want, not               string
	}{
		{name: "whole_scan_timeout_on_one_account", timeout: 30 * time.Millisecond, accountTimeout: time.Minute, want: "the --timeout limit (raise --timeout)", not: "--account-timeout"},
		{name: "account_timeout_on_one_account", timeout: time.Minute, accountTimeout: 30 * time.Millisecond, want: "the --account-timeout limit (raise --account-timeout)", not: "--timeout "},
		{name: "account_timeout_in_an_organization", org: true, timeout: time.Minute, accountTimeout: 30 * time.Millisecond, want: "the --account-timeout limit (raise --account-timeout)", not: "--timeout "},
		{name: "whole_scan_timeout_in_an_organization", org: true, timeout: 30 * time.Millisecond, accountTimeout: time.Minute, want: "the --timeout limit (raise --timeout)", not: "--account-timeout"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.putTrail(t, mgmt, multiRegion("main", "us-east-1"))
			e.emu.AddAccount(member)
			e.emu.AddRole(member, tgaws.DefaultRoleName)
			e.emu.SetOrganization(mgmt, member)
			// Every answer comes later than either short deadline.
			e.emu.SetLatency(300 * time.Millisecond)
			o := tgaws.ScanOptions{Organization: tc.org, Timeout: tc.timeout, Org: tgaws.OrgOptions{AccountTimeout: tc.accountTimeout}}
			out, err := tgaws.Scan(context.Background(), e.config(mgmt, nil), o)
			var got string
			if err != nil {
				got = err.Error()
			} else {
				got = out.Partial
				for _, r := range out.Results {
					got += "\n" + strings.Join(r.Reasons, "\n")
				}
			}
			if !strings.Contains(got, tc.want) {
				t.Errorf("lacks %q:\n%s", tc.want, got)
			}
			if strings.Contains(got, tc.not) {
				t.Errorf("names %q, which did not run out:\n%s", tc.not, got)
			}
		})
	}
}
