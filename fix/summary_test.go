package fix

import (
	"maps"
	"reflect"
	"testing"

	"github.com/trailguard/trailguard"
)

// TestSummarize proves the totals of a fix over many accounts, and that
// accounts stopped for the same reason are worded alike, so they group.
func TestSummarize(t *testing.T) {
	step := func(a Action) Step { return Step{Action: a} }
	stopped := func(acct string, perms ...string) Report {
		p := Plan{Account: acct, Status: trailguard.StatusUnknown}
		for _, perm := range perms {
			p.Unreadable = append(p.Unreadable, Unread{Resource: "trail of " + acct, Permission: perm, Error: "AccessDenied"})
		}
		return Report{Plan: p}
	}
	cases := []struct {
		name    string
		reports []Report
		want    Summary
		whys    []string
	}{
		{name: "no_accounts", want: Summary{StepsByKind: map[Action]int{}}},
		{name: "passing_failing_and_stopped",
			reports: []Report{
				{Plan: Plan{Account: "1", Status: trailguard.StatusPass}},
				{Plan: Plan{Account: "2", Status: trailguard.StatusFail, Steps: []Step{step(ActionStartLogging)}}},
				{Plan: Plan{Account: "3", Status: trailguard.StatusFail, Steps: []Step{step(ActionCreateBucket), step(ActionCreateTrail), step(ActionStartLogging)}}},
				stopped("4", "cloudtrail:GetTrailStatus", "cloudtrail:GetEventSelectors"),
				stopped("5", "cloudtrail:GetEventSelectors", "cloudtrail:GetTrailStatus"),
				{Plan: Plan{Account: "6", Status: trailguard.StatusFail, Notes: []string{"the policy cannot be merged"}}},
			},
			want: Summary{Accounts: 6, Passing: 1, WithSteps: 2, Steps: 4,
				StepsByKind: map[Action]int{ActionStartLogging: 2, ActionCreateBucket: 1, ActionCreateTrail: 1}},
			whys: []string{"could not be read: needs cloudtrail:GetEventSelectors, cloudtrail:GetTrailStatus", "could not be read: needs cloudtrail:GetEventSelectors, cloudtrail:GetTrailStatus", "the policy cannot be merged"}},
		{name: "passing_account_whose_read_failed_is_not_passing",
			reports: []Report{{Plan: Plan{Account: "1", Status: trailguard.StatusPass, Unreadable: []Unread{{Resource: "r", Permission: "organizations:ListAWSServiceAccessForOrganization"}}}}},
			want:    Summary{Accounts: 1, StepsByKind: map[Action]int{}},
			whys:    []string{"could not be read: needs organizations:ListAWSServiceAccessForOrganization"}},
		{name: "applied_and_failed",
			reports: []Report{
				{Plan: Plan{Account: "1", Status: trailguard.StatusFail, Steps: []Step{step(ActionStartLogging)}}, Applied: &Applied{StatusAfter: "PASS"}},
				{Plan: Plan{Account: "2", Status: trailguard.StatusFail, Steps: []Step{step(ActionStartLogging)}}, Applied: &Applied{Error: "AWS refused it", StatusAfter: "FAIL"}},
			},
			want: Summary{Accounts: 2, WithSteps: 2, Steps: 2, StepsByKind: map[Action]int{ActionStartLogging: 2}, Applied: 1, Failed: 1, PassingAfter: 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Summarize(c.reports)
			var whys []string
			for _, n := range got.NotPlanned {
				whys = append(whys, n.Why)
			}
			if len(whys) != len(c.whys) {
				t.Fatalf("not planned %+v, want %q", got.NotPlanned, c.whys)
			}
			for i := range whys {
				if whys[i] != c.whys[i] {
					t.Errorf("why %d: %q, want %q", i, whys[i], c.whys[i])
				}
			}
			got.NotPlanned = nil
			if !maps.Equal(got.StepsByKind, c.want.StepsByKind) {
				t.Errorf("steps by kind %v, want %v", got.StepsByKind, c.want.StepsByKind)
			}
			got.StepsByKind, c.want.StepsByKind = nil, nil
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("summary %+v, want %+v", got, c.want)
			}
		})
	}
}
