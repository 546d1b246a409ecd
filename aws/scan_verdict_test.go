package aws_test

import (
	"context"
	"testing"

	"github.com/trailguard/trailguard"
	tgaws "github.com/trailguard/trailguard/aws"
)

// A scan told the account id and asked for the verdict only (what the
// Lambda function does) skips sts:GetCallerIdentity, and asks for the
// enabled regions only when the account does not pass; an account that
// does not pass, or whose trail cannot be read, is never made to pass by
// what was skipped.
func TestScan_known_account_verdict_only(t *testing.T) {
	cases := []struct {
		name       string
		setup      func(t *testing.T, e *env)
		want       trailguard.Status
		wantCalls  map[string]int
		wantRegion bool // the region table is filled
	}{
		{"passing_account_three_reads", func(t *testing.T, e *env) { e.putTrail(t, acct, multiRegion("main", "us-east-1")) },
			trailguard.StatusPass, map[string]int{"cloudtrail:DescribeTrails": 1, "cloudtrail:GetTrailStatus": 1, "cloudtrail:GetEventSelectors": 1}, false},
		{"stopped_trail_reads_regions", func(t *testing.T, e *env) {
			spec := multiRegion("main", "us-east-1")
			spec.Logging = false
			e.putTrail(t, acct, spec)
		}, trailguard.StatusFail, map[string]int{"cloudtrail:DescribeTrails": 1, "cloudtrail:GetTrailStatus": 1, "cloudtrail:GetEventSelectors": 1, "ec2:DescribeRegions": 1}, true},
		{"unreadable_selectors_unknown", func(t *testing.T, e *env) {
			e.putTrail(t, acct, multiRegion("main", "us-east-1"))
			e.emu.Deny("cloudtrail:GetEventSelectors")
		}, trailguard.StatusUnknown, map[string]int{"cloudtrail:DescribeTrails": 1, "cloudtrail:GetTrailStatus": 1, "cloudtrail:GetEventSelectors": 1, "ec2:DescribeRegions": 1}, true},
		{"describe_trails_denied_error", func(t *testing.T, e *env) {
			e.putTrail(t, acct, multiRegion("main", "us-east-1"))
			e.emu.Deny("cloudtrail:DescribeTrails")
		}, trailguard.StatusError, map[string]int{"cloudtrail:DescribeTrails": 1}, false},
		{"no_trail_fails", func(t *testing.T, e *env) { e.emu.AddAccount(acct) },
			trailguard.StatusFail, map[string]int{"cloudtrail:DescribeTrails": 1, "ec2:DescribeRegions": 1}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			tc.setup(t, e)
			out, err := tgaws.Scan(context.Background(), e.config(acct, nil), tgaws.ScanOptions{Account: acct, VerdictOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Results) != 1 {
				t.Fatalf("%d results, want 1", len(out.Results))
			}
			res := out.Results[0]
			if res.Status != tc.want || res.Account != acct {
				t.Errorf("account %s %s %q, want %s %s", res.Account, res.Status, res.Reasons, acct, tc.want)
			}
			calls := e.emu.AccountCalls(acct)
			if len(calls) != len(tc.wantCalls) {
				t.Errorf("calls %v, want %v", calls, tc.wantCalls)
			}
			for k, n := range tc.wantCalls {
				if calls[k] != n {
					t.Errorf("%s = %d, want %d (all: %v)", k, calls[k], n, calls)
				}
			}
			if got := len(res.Regions) > 0; got != tc.wantRegion {
				t.Errorf("region table of %d regions, want filled %v", len(res.Regions), tc.wantRegion)
			}
		})
	}
}

// Without VerdictOnly the known account still spares GetCallerIdentity
// only: the region table is read with the trails.
func TestScan_known_account_reads_regions(t *testing.T) {
	e := newEnv(t)
	e.putTrail(t, acct, multiRegion("main", "us-east-1"))
	out, err := tgaws.Scan(context.Background(), e.config(acct, nil), tgaws.ScanOptions{Account: acct})
	if err != nil {
		t.Fatal(err)
	}
	calls := e.emu.AccountCalls(acct)
	if out.Results[0].Status != trailguard.StatusPass || calls["sts:GetCallerIdentity"] != 0 || calls["ec2:DescribeRegions"] != 1 || len(out.Results[0].Regions) == 0 {
		t.Errorf("status %s, calls %v, %d regions; want PASS without GetCallerIdentity, with the regions", out.Results[0].Status, calls, len(out.Results[0].Regions))
	}
}
