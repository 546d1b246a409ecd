package aws_test

import (
	"context"
	"strings"
	"testing"

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
