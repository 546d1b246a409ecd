package aws_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard"
	tgaws "github.com/trailguard/trailguard/aws"
)

func TestScanOrganization(t *testing.T) {
	const (
		covered = "100000000001" // covered by the organization trail only
		noRole  = "100000000002" // the role cannot be assumed
		own     = "100000000003" // has its own stopped trail next to the org trail
	)
	e := newEnv(t)
	s := multiRegion("org", "us-east-1")
	s.IsOrganizationTrail = true
	orgARN := e.putTrail(t, mgmt, s)
	stopped := multiRegion("own", "eu-west-1")
	stopped.Logging = false
	e.putTrail(t, own, stopped)
	e.emu.AddAccount(covered)
	e.emu.AddAccount(noRole)
	e.emu.SetOrganization(mgmt, covered, noRole, own)
	e.emu.SetMemberOrgTrailAccess(true) // members may not read it: the cache must answer
	for _, id := range []string{covered, own} {
		e.emu.AddRole(id, tgaws.DefaultRoleName)
	}

	counter := tgaws.NewCallCounter()
	var progress []int
	got, err := tgaws.NewScanner().ScanOrganization(context.Background(), e.config(mgmt, counter), tgaws.OrgOptions{
		Concurrency: 2, Progress: func(p tgaws.OrgProgress) { progress = append(progress, p.Done) },
	})
	if err != nil {
		t.Fatal(err)
	}
	results := map[string]trailguard.Result{}
	for _, r := range trailguard.EvaluateAll(got.Accounts, trailguard.Options{}) {
		results[r.Account] = r
	}
	want := map[string]trailguard.Status{mgmt: trailguard.StatusPass, covered: trailguard.StatusPass, own: trailguard.StatusPass, noRole: trailguard.StatusError}
	for id, st := range want {
		if results[id].Status != st {
			t.Errorf("%s: %s, want %s; reasons %q", id, results[id].Status, st, results[id].Reasons)
		}
	}
	if results[covered].CoveringTrail != orgARN {
		t.Errorf("covered by %q, want the org trail", results[covered].CoveringTrail)
	}
	if r := strings.Join(results[noRole].Reasons, " "); !strings.Contains(r, "AssumeRole") {
		t.Errorf("no-role reason %q should name AssumeRole", r)
	}
	if len(progress) != 4 || progress[3] != 4 {
		t.Errorf("progress %v", progress)
	}
	// The org trail is read once, in the management account; the member
	// with its own stopped trail adds its own pair.
	c := counter.Counts()
	// Members' ids come from ListAccounts: the caller asks who it is once.
	if c["cloudtrail:GetTrailStatus"] != 2 || c["cloudtrail:DescribeTrails"] != 3 || c["sts:GetCallerIdentity"] != 1 {
		t.Errorf("calls %v", c)
	}
}

func TestScanOrganization_filters_and_not_management(t *testing.T) {
	e := newEnv(t)
	const suspended, closed = "100000000008", "100000000009"
	e.emu.AddAccount(mgmt)
	e.emu.AddAccount(member)
	e.emu.AddRole(member, tgaws.DefaultRoleName)
	e.emu.SetOrganization(mgmt, member, suspended, closed)
	e.emu.SetAccountState(suspended, "SUSPENDED")
	e.emu.SetAccountState(closed, "CLOSED")
	got, err := tgaws.NewScanner().ScanOrganization(context.Background(), e.config(mgmt, nil), tgaws.OrgOptions{Exclude: []string{mgmt}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Accounts) != 1 || got.Accounts[0].ID != member {
		t.Errorf("accounts %+v", got.Accounts)
	}
	if len(got.Skipped) != 2 || got.Skipped[suspended] != "SUSPENDED" || got.Skipped[closed] != "CLOSED" {
		t.Errorf("skipped %v, want the suspended and the closed account with their states", got.Skipped)
	}
	// A member account cannot list the organization: a clear error.
	_, err = tgaws.NewScanner().ScanOrganization(context.Background(), e.config(member, nil), tgaws.OrgOptions{})
	if err == nil || !strings.Contains(err.Error(), "management account") {
		t.Errorf("err = %v", err)
	}
}

// TestScanOrganization_requested_accounts: an account asked for by
// --accounts that the complete listing does not hold is reported as not
// in the organization; one listed but SUSPENDED or CLOSED stays a skipped
// account; one also excluded, or the caller's own, is not reported.
func TestScanOrganization_requested_accounts(t *testing.T) {
	const suspended, closed, stranger, other = "100000000008", "100000000009", "999999999999", "888888888888"
	for _, c := range []struct {
		name             string
		include, exclude []string
		wantScanned      []string
		wantNotInOrg     []string
		wantSkipped      []string
		wantExcludedGone []string
	}{
		{"only_a_stranger", []string{stranger}, nil, nil, []string{stranger}, []string{suspended, closed}, nil},
		{"a_member_and_two_strangers_given_twice", []string{other, member, stranger, stranger, other}, nil, []string{member}, []string{other, stranger}, []string{suspended, closed}, nil},
		{"suspended_and_closed_stay_skipped", []string{suspended, closed}, nil, nil, nil, []string{suspended, closed}, nil},
		{"the_caller_itself", []string{mgmt}, nil, []string{mgmt}, nil, []string{suspended, closed}, nil},
		{"a_stranger_also_excluded", []string{member, stranger}, []string{stranger}, []string{member}, nil, []string{suspended, closed}, []string{stranger}},
		{"a_mistyped_exclusion", nil, []string{stranger, suspended}, []string{mgmt, member}, nil, []string{suspended, closed}, []string{stranger}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			e.emu.AddAccount(mgmt)
			e.emu.AddAccount(member)
			e.emu.AddRole(member, tgaws.DefaultRoleName)
			e.emu.SetOrganization(mgmt, member, suspended, closed)
			e.emu.SetAccountState(suspended, "SUSPENDED")
			e.emu.SetAccountState(closed, "CLOSED")
			got, err := tgaws.NewScanner().ScanOrganization(context.Background(), e.config(mgmt, nil), tgaws.OrgOptions{Include: c.include, Exclude: c.exclude})
			if err != nil {
				t.Fatal(err)
			}
			var scanned []string
			for _, a := range got.Accounts {
				scanned = append(scanned, a.ID)
			}
			if strings.Join(scanned, ",") != strings.Join(c.wantScanned, ",") {
				t.Errorf("scanned %v, want %v", scanned, c.wantScanned)
			}
			if strings.Join(got.NotInOrganization, ",") != strings.Join(c.wantNotInOrg, ",") {
				t.Errorf("not in the organization %v, want %v", got.NotInOrganization, c.wantNotInOrg)
			}
			if len(got.Skipped) != len(c.wantSkipped) {
				t.Errorf("skipped %v, want %v", got.Skipped, c.wantSkipped)
			}
			if strings.Join(got.ExcludedNotFound, ",") != strings.Join(c.wantExcludedGone, ",") {
				t.Errorf("exclusions not found %v, want %v", got.ExcludedNotFound, c.wantExcludedGone)
			}
			if got.Partial != "" || len(got.NotScanned) > 0 {
				t.Errorf("partial %q not scanned %v: the listing was complete", got.Partial, got.NotScanned)
			}
		})
	}
}

// TestScanOrganization_requested_account_when_the_listing_stops: if the
// listing did not finish, a requested account it has not shown is not
// known to be outside the organization: it is listed as not scanned.
func TestScanOrganization_requested_account_when_the_listing_stops(t *testing.T) {
	e := newEnv(t)
	e.emu.AddAccount(mgmt)
	var members []string
	for i := range 20 {
		id := fmt.Sprintf("1000000001%02d", i)
		members = append(members, id)
		e.emu.AddAccount(id)
	}
	e.emu.SetOrganization(mgmt, members...)
	e.emu.SetPageSize(1)
	e.emu.SetLatency(40 * time.Millisecond) // the listing takes 21 pages, far past the deadline
	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	const stranger = "999999999999"
	got, err := tgaws.NewScanner().ScanOrganization(ctx, e.config(mgmt, nil), tgaws.OrgOptions{Include: []string{stranger, mgmt}})
	if err != nil {
		t.Fatal(err)
	}
	if got.Partial == "" || len(got.NotInOrganization) != 0 || !slices.Contains(got.NotScanned, stranger) {
		t.Errorf("partial %q, not in the organization %v, not scanned %v: want partial with %s not scanned", got.Partial, got.NotInOrganization, got.NotScanned, stranger)
	}
}
