package aws_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard"
	tgaws "github.com/trailguard/trailguard/aws"
	"github.com/trailguard/trailguard/internal/awsemu"
	"github.com/trailguard/trailguard/internal/demo"
)

// scanGeneratedOrg builds a generated organization in a fresh emulator,
// lets tune set faults and limits, and scans it from the management
// account.
func scanGeneratedOrg(t *testing.T, n int, seed uint64, o tgaws.OrgOptions, tune func(*awsemu.Emulator, demo.Org)) (demo.Org, tgaws.OrgScan, []trailguard.Result, *env) {
	t.Helper()
	e := newEnv(t)
	org, err := demo.BuildOrg(e.emu, demo.OrgSpec{Accounts: n, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	if tune != nil {
		tune(e.emu, org)
	}
	cfg := tgaws.StaticConfig(e.url, "us-east-1", org.Management.AccessKeyID, org.Management.SecretAccessKey, "", nil)
	got, err := tgaws.NewScanner().ScanOrganization(context.Background(), cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	return org, got, trailguard.EvaluateAll(got.Accounts, trailguard.Options{}), e
}

func TestScanOrganization_generated_org_gets_the_verdicts_it_was_built_for(t *testing.T) {
	org, got, results, e := scanGeneratedOrg(t, 120, 4, tgaws.OrgOptions{}, nil)
	if got.Partial != "" {
		t.Fatalf("partial: %s", got.Partial)
	}
	if len(results) != len(org.Accounts) {
		t.Fatalf("%d results for %d accounts", len(results), len(org.Accounts))
	}
	for i, r := range results {
		want := org.Accounts[i]
		if r.Account != want.ID || string(r.Status) != want.Want {
			t.Errorf("%s (%s): %s, want %s; reasons %q", r.Account, want.Name, r.Status, want.Want, r.Reasons)
		}
	}
	// A member the organization trail covers costs one AssumeRole and one
	// DescribeTrails: its trail facts come from the management account and
	// its regions are not asked.
	covered := 0
	for _, a := range org.Accounts[1:] {
		if !strings.HasSuffix(a.Name, "(covered by the organization trail)") {
			continue
		}
		covered++
		calls := e.emu.AccountCalls(a.ID)
		if total(calls) != 1 || calls["cloudtrail:DescribeTrails"] != 1 {
			t.Errorf("covered member %s made %v with its own keys", a.ID, calls)
		}
	}
	if covered == 0 {
		t.Fatal("no covered member in the generated organization")
	}
	// AssumeRole is counted against the management account: once per
	// member that has the role, once more for each that has not.
	if got := e.emu.AccountCalls(demo.OrgManagement)["sts:AssumeRole"]; got != len(org.Accounts)-1 {
		t.Errorf("%d AssumeRole calls for %d members", got, len(org.Accounts)-1)
	}
	// A passing member lists the regions every account has, its opt-in
	// regions as not read, never as enabled.
	for _, r := range results[1:] {
		if r.Status != trailguard.StatusPass {
			continue
		}
		for _, rc := range r.Regions {
			if rc.OptInStatus == trailguard.OptInNotRead && rc.Enabled {
				t.Errorf("%s: region %s not read but counted enabled", r.Account, rc.Region)
			}
		}
		if len(r.UncoveredRegions()) != 0 || len(r.Regions) == 0 {
			t.Errorf("%s: regions %+v", r.Account, r.Regions)
		}
	}
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// With transient faults and throttling on, and a few accounts whose calls
// fail beyond every retry, no account passes on data that was not read,
// and every account that ran out of retries is ERROR or UNKNOWN with the
// failed call in its reasons.
func TestScanOrganization_faults_and_throttling_never_give_a_false_pass(t *testing.T) {
	const n = 220
	broken := map[string]string{} // account → operation that fails on every try
	org, got, results, e := scanGeneratedOrg(t, n, 9, tgaws.OrgOptions{Concurrency: 24}, func(emu *awsemu.Emulator, org demo.Org) {
		emu.SetFaultRate(0.05, 9)
		emu.SetRateLimit("cloudtrail", 10, 10)
		emu.SetRateLimit("sts", 100, 10) // every AssumeRole comes from the management account
		emu.SetLatency(time.Millisecond)
		for _, a := range org.Accounts[1:] {
			switch {
			case strings.HasSuffix(a.Name, "(covered by the organization trail)") && len(broken) < 3:
				broken[a.ID] = "DescribeTrails"
				emu.InjectFault(awsemu.Fault{Account: a.ID, Service: "cloudtrail", Operation: "DescribeTrails",
					Code: "InternalFailure", Message: "internal failure", HTTPStatus: 500})
			case strings.HasSuffix(a.Name, "(own multi-region trail, advanced selectors)") && broken[a.ID] == "":
				broken[a.ID] = "GetTrailStatus"
				emu.InjectFault(awsemu.Fault{Account: a.ID, Service: "cloudtrail", Operation: "GetTrailStatus",
					Code: "ServiceUnavailable", Message: "unavailable", HTTPStatus: 503})
			}
		}
	})
	if got.Partial != "" {
		t.Fatalf("partial: %s", got.Partial)
	}
	if len(broken) < 4 {
		t.Fatalf("the seed gave only %d broken accounts: %v", len(broken), broken)
	}
	want := map[string]demo.Account{}
	for _, a := range org.Accounts {
		want[a.ID] = a
	}
	for _, r := range results {
		if op, ok := broken[r.Account]; ok {
			reasons := strings.Join(r.Reasons, "; ")
			if r.Status == trailguard.StatusPass || r.Status == trailguard.StatusFail {
				t.Errorf("%s: %s although %s always failed; reasons %q", r.Account, r.Status, op, reasons)
			}
			if !strings.Contains(reasons, op) || !strings.Contains(reasons, fmt.Sprintf("gave up after %d attempts", tgaws.DefaultMaxAttempts)) {
				t.Errorf("%s: reasons %q do not name %s and the exhausted retries", r.Account, reasons, op)
			}
			if op == "DescribeTrails" && r.Status != trailguard.StatusError {
				t.Errorf("%s: %s, want ERROR when DescribeTrails cannot be read", r.Account, r.Status)
			}
			continue
		}
		if string(r.Status) != want[r.Account].Want {
			t.Errorf("%s (%s): %s, want %s; reasons %q", r.Account, want[r.Account].Name, r.Status, want[r.Account].Want, r.Reasons)
		}
		if r.Status == trailguard.StatusPass {
			for _, v := range r.Trails {
				if v.ARN == r.CoveringTrail && !v.Readable {
					t.Errorf("%s passes on trail %s that was not read in full", r.Account, v.ARN)
				}
			}
		}
	}
	// The faults and the throttling did happen, and the retries rode them.
	if e.emu.FaultsDrawn() == 0 {
		t.Error("no transient fault was drawn")
	}
	if calls := e.emu.Calls()["sts:AssumeRole"]; calls <= n-1 {
		t.Errorf("%d AssumeRole requests for %d members: nothing was retried", calls, n-1)
	}
	t.Logf("%d transient faults; calls %v", e.emu.FaultsDrawn(), e.emu.Calls())
}

func TestScanOrganization_account_timeout_is_an_error_with_the_reason(t *testing.T) {
	_, got, results, _ := scanGeneratedOrg(t, 4, 1, tgaws.OrgOptions{AccountTimeout: 150 * time.Millisecond}, func(emu *awsemu.Emulator, _ demo.Org) {
		emu.SetLatency(100 * time.Millisecond) // the management account has no per-account bound; members need 2 round trips
	})
	if got.Partial != "" {
		t.Fatalf("partial: %s", got.Partial)
	}
	for _, r := range results[1:] {
		if r.Status != trailguard.StatusError || !strings.Contains(strings.Join(r.Reasons, " "), "timed out after 150ms") {
			t.Errorf("%s: %s %q", r.Account, r.Status, r.Reasons)
		}
	}
}

func TestScanOrganization_stopped_returns_what_finished_as_partial(t *testing.T) {
	e := newEnv(t)
	org, err := demo.BuildOrg(e.emu, demo.OrgSpec{Accounts: 60, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	e.emu.SetLatency(20 * time.Millisecond)
	cfg := tgaws.StaticConfig(e.url, "us-east-1", org.Management.AccessKeyID, org.Management.SecretAccessKey, "", nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got, err := tgaws.NewScanner().ScanOrganization(ctx, cfg, tgaws.OrgOptions{Concurrency: 2, Progress: func(p tgaws.OrgProgress) {
		if p.Done == 10 {
			cancel() // as Ctrl-C does
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got.Partial, "interrupted") {
		t.Errorf("partial = %q", got.Partial)
	}
	if len(got.Accounts) < 10 || len(got.Accounts) > 12 {
		t.Errorf("%d accounts finished, want the 10 done when stopped (and at most the 2 in flight)", len(got.Accounts))
	}
	seen := map[string]bool{}
	for _, a := range got.Accounts {
		seen[a.ID] = true
		if a.Error != "" {
			t.Errorf("finished account %s has error %q: an abandoned account must not be reported", a.ID, a.Error)
		}
	}
	for _, id := range got.NotScanned {
		if seen[id] {
			t.Errorf("%s both scanned and not scanned", id)
		}
	}
	if len(got.Accounts)+len(got.NotScanned) > len(org.Accounts) || len(got.NotScanned) == 0 {
		t.Errorf("%d scanned + %d not scanned of %d", len(got.Accounts), len(got.NotScanned), len(org.Accounts))
	}
}
