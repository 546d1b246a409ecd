package aws_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sts"

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
// --accounts that Organizations does not hold is reported as not in the
// organization; one found but SUSPENDED or CLOSED is a skipped account;
// one also excluded, or the caller's own, is not reported. Requested
// accounts are asked of DescribeAccount one by one: the organization is
// not listed, so accounts not asked for are not even skipped.
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
		{"only_a_stranger", []string{stranger}, nil, nil, []string{stranger}, nil, nil},
		{"a_member_and_two_strangers_given_twice", []string{other, member, stranger, stranger, other}, nil, []string{member}, []string{other, stranger}, nil, nil},
		{"suspended_and_closed_stay_skipped", []string{suspended, closed}, nil, nil, nil, []string{suspended, closed}, nil},
		{"the_caller_itself", []string{mgmt}, nil, []string{mgmt}, nil, nil, nil},
		{"a_stranger_also_excluded", []string{member, stranger}, []string{stranger}, []string{member}, nil, nil, []string{stranger}},
		{"a_mistyped_exclusion_with_requested_accounts", []string{member}, []string{stranger}, []string{member}, nil, nil, []string{stranger}},
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
			counter := tgaws.NewCallCounter()
			got, err := tgaws.NewScanner().ScanOrganization(context.Background(), e.config(mgmt, counter), tgaws.OrgOptions{Include: c.include, Exclude: c.exclude})
			if err != nil {
				t.Fatal(err)
			}
			// Requested accounts are described, each once (the caller's
			// own needs no call); only a scan of everything lists.
			calls := counter.Counts()
			asked := map[string]bool{}
			for _, id := range append(slices.Clone(c.include), c.exclude...) {
				asked[id] = id != mgmt
			}
			wantDescribe := 0
			for _, a := range asked {
				if a {
					wantDescribe++
				}
			}
			if len(c.include) > 0 && (calls["organizations:ListAccounts"] != 0 || calls["organizations:DescribeAccount"] != wantDescribe) {
				t.Errorf("calls %v: want no ListAccounts and %d DescribeAccount", calls, wantDescribe)
			}
			if len(c.include) == 0 && calls["organizations:DescribeAccount"] != 0 {
				t.Errorf("calls %v: a scan of everything lists, it does not describe", calls)
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
// scan stopped before a requested account was asked about, it is not
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
	e.emu.SetLatency(40 * time.Millisecond) // 21 DescribeAccount calls, one at a time, far past the deadline
	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	const stranger = "999999999999"
	got, err := tgaws.NewScanner().ScanOrganization(ctx, e.config(mgmt, nil), tgaws.OrgOptions{Include: append(slices.Clone(members), stranger, mgmt)})
	if err != nil {
		t.Fatal(err)
	}
	if got.Partial == "" || len(got.NotInOrganization) != 0 || !slices.Contains(got.NotScanned, stranger) {
		t.Errorf("partial %q, not in the organization %v, not scanned %v: want partial with %s not scanned", got.Partial, got.NotInOrganization, got.NotScanned, stranger)
	}
	// Every requested id is named: nothing was left unlisted.
	if got.ListingCutShort {
		t.Errorf("listing cut short with every requested id named")
	}
}

// TestScanOrganization_listing_cut_short: when the scan of the whole
// organization stops while Organizations is still listing, the outcome
// says the listing was cut short and how many accounts it had reported;
// a scan whose listing finished does not.
func TestScanOrganization_listing_cut_short(t *testing.T) {
	for _, c := range []struct {
		name    string
		timeout time.Duration
		wantCut bool
	}{
		{"stopped_while_listing", 400 * time.Millisecond, true},
		{"listing_finished", time.Minute, false},
	} {
		t.Run(c.name, func(t *testing.T) {
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
			e.emu.SetLatency(40 * time.Millisecond) // 21 pages of one account
			ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
			defer cancel()
			got, err := tgaws.NewScanner().ScanOrganization(ctx, e.config(mgmt, nil), tgaws.OrgOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got.ListingCutShort != c.wantCut {
				t.Fatalf("listing cut short %v, want %v (partial %q)", got.ListingCutShort, c.wantCut, got.Partial)
			}
			if c.wantCut {
				if got.Partial == "" || got.AccountsListed < 1 || got.AccountsListed >= 21 {
					t.Errorf("partial %q, accounts listed %d: want partial and fewer than the 21 accounts", got.Partial, got.AccountsListed)
				}
				// What the listing had not reached is in neither list.
				if n := len(got.Accounts) + len(got.NotScanned); n >= 21 {
					t.Errorf("%d accounts scanned or named as not scanned, of 21: the cut is not visible", n)
				}
			}
		})
	}
}

// An organization scan with OrgOptions.Credentials keeps the member-role
// credentials it assumed, and MemberConfig with the same options reuses
// them: a later read of every member (the event history) costs no second
// AssumeRole. Without Credentials each MemberConfig assumes the role anew.
func TestMemberCredentials_are_assumed_once_per_member(t *testing.T) {
	for _, tc := range []struct {
		name  string
		share bool
	}{{"shared_with_the_scan", true}, {"not_shared", false}} {
		t.Run(tc.name, func(t *testing.T) {
			e, org, cfg := generated(t, 8, 5)
			o := tgaws.OrgOptions{}
			if tc.share {
				o.Credentials = &tgaws.MemberCredentials{}
			}
			e.emu.RecordCalls(true)
			sc, err := tgaws.Scan(context.Background(), cfg, tgaws.ScanOptions{Organization: true, Org: o})
			if err != nil {
				t.Fatal(err)
			}
			assumed := 0
			for _, a := range sc.Accounts {
				if a.ID == org.Management.AccountID || a.Error != "" {
					continue
				}
				c := tgaws.MemberConfig(cfg, a.ID, o)
				if _, err := sts.NewFromConfig(c).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
					t.Fatalf("member %s: %v", a.ID, err)
				}
				assumed++
			}
			if assumed == 0 {
				t.Fatal("no member was read: choose another seed")
			}
			n := 0
			for _, c := range e.emu.CallLog() {
				if c.Action == "sts:AssumeRole" && c.Code == "" {
					n++
				}
			}
			want := assumed
			if !tc.share {
				want = 2 * assumed // the scan's, and MemberConfig's own
			}
			if n != want {
				t.Errorf("%d successful AssumeRole calls for %d members read twice, want %d", n, assumed, want)
			}
		})
	}
}
