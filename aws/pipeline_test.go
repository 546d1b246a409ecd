package aws_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	shtypes "github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/trailguard/trailguard"
	tgaws "github.com/trailguard/trailguard/aws"
	"github.com/trailguard/trailguard/internal/awsemu"
	"github.com/trailguard/trailguard/internal/demo"
)

// generated builds a generated organization in a fresh emulator and
// returns the management account's configuration.
func generated(t *testing.T, n int, seed uint64) (*env, demo.Org, sdkaws.Config) {
	t.Helper()
	e := newEnv(t)
	org, err := demo.BuildOrg(e.emu, demo.OrgSpec{Accounts: n, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	return e, org, tgaws.StaticConfig(e.url, "us-east-1", org.Management.AccessKeyID, org.Management.SecretAccessKey, "", nil)
}

// checkAligned fails unless Results[i] judges Accounts[i].
func checkAligned(t *testing.T, sc tgaws.Outcome) {
	t.Helper()
	if len(sc.Results) != len(sc.Accounts) {
		t.Fatalf("%d results for %d accounts", len(sc.Results), len(sc.Accounts))
	}
	for i := range sc.Accounts {
		if sc.Results[i].Account != sc.Accounts[i].ID {
			t.Errorf("result %d is of %s, account %d is %s", i, sc.Results[i].Account, i, sc.Accounts[i].ID)
		}
	}
}

// TestScan: every source the one pipeline reads gives each account the
// verdict it stands in, one result per account, and counts the calls of a
// live scan.
func TestScan(t *testing.T) {
	t.Run("account_of_the_credentials", func(t *testing.T) {
		e := newEnv(t)
		e.putTrail(t, acct, multiRegion("main", "eu-west-1"))
		sc, err := tgaws.Scan(context.Background(), e.config(acct, nil), tgaws.ScanOptions{})
		if err != nil {
			t.Fatal(err)
		}
		checkAligned(t, sc)
		if len(sc.Results) != 1 || sc.Results[0].Status != trailguard.StatusPass {
			t.Fatalf("results %+v", sc.Results)
		}
		if sc.Calls["cloudtrail:DescribeTrails"] != 1 || sc.Calls["cloudtrail:GetTrailStatus"] != 1 {
			t.Errorf("calls %v, want one DescribeTrails and one GetTrailStatus", sc.Calls)
		}
		if sc.StartedAt.IsZero() {
			t.Error("no start time")
		}
	})
	t.Run("targets_keep_their_names_and_order_and_share_trail_facts", func(t *testing.T) {
		e := newEnv(t)
		org := multiRegion("org", "us-east-1")
		org.IsOrganizationTrail = true
		e.putTrail(t, mgmt, org)
		e.emu.AddAccount(member)
		e.emu.SetOrganization(mgmt, member)
		e.emu.SetMemberOrgTrailAccess(true) // the member may not read it: the management account's read answers
		sc, err := tgaws.Scan(context.Background(), sdkaws.Config{}, tgaws.ScanOptions{Targets: []tgaws.Target{
			{Name: "management", Config: e.config(mgmt, nil)}, {Name: "member", Config: e.config(member, nil)},
		}})
		if err != nil {
			t.Fatal(err)
		}
		checkAligned(t, sc)
		if len(sc.Accounts) != 2 || sc.Accounts[0].ID != mgmt || sc.Accounts[0].Name != "management" || sc.Accounts[1].Name != "member" {
			t.Fatalf("accounts %+v", sc.Accounts)
		}
		if sc.Results[1].Status != trailguard.StatusPass {
			t.Errorf("member: %s %q, want PASS through the organization trail read by the management account", sc.Results[1].Status, sc.Results[1].Reasons)
		}
		if n := sc.Calls["cloudtrail:GetTrailStatus"]; n != 1 {
			t.Errorf("GetTrailStatus %d times, want once for the one trail", n)
		}
	})
	t.Run("organization_with_a_requested_account_it_does_not_hold", func(t *testing.T) {
		_, org, cfg := generated(t, 6, 3)
		const stranger = "999999999999"
		asked := []string{stranger, org.Accounts[2].ID}
		sc, err := tgaws.Scan(context.Background(), cfg, tgaws.ScanOptions{Organization: true, Org: tgaws.OrgOptions{Include: asked}})
		if err != nil {
			t.Fatal(err)
		}
		checkAligned(t, sc)
		if len(sc.Accounts) != 1 || sc.Accounts[0].ID != org.Accounts[2].ID {
			t.Fatalf("scanned %+v, want only %s", sc.Accounts, org.Accounts[2].ID)
		}
		if !slices.Equal(sc.NotInOrganization, []string{stranger}) {
			t.Errorf("not in organization %q", sc.NotInOrganization)
		}
		all := sc.ReportResults()
		if len(all) != 2 || !slices.IsSortedFunc(all, func(a, b trailguard.Result) int { return strings.Compare(a.Account, b.Account) }) {
			t.Fatalf("report results %+v, want both accounts sorted", all)
		}
		for _, r := range all {
			if r.Account == stranger && (r.Status != trailguard.StatusError || !strings.Contains(strings.Join(r.Reasons, " "), "not in the organization")) {
				t.Errorf("stranger: %s %q, want ERROR not in the organization", r.Status, r.Reasons)
			}
		}
		// The two ids are described; the organization is not listed.
		if sc.Calls["organizations:ListAccounts"] != 0 || sc.Calls["organizations:DescribeAccount"] != 2 {
			t.Errorf("calls %v: want 2 DescribeAccount and no ListAccounts", sc.Calls)
		}
	})
	t.Run("evidence_directory_written_by_a_live_scan", func(t *testing.T) {
		_, org, cfg := generated(t, 8, 6)
		dir := t.TempDir()
		live, err := tgaws.Scan(context.Background(), cfg, tgaws.ScanOptions{Organization: true, SaveEvidence: dir})
		if err != nil || live.SaveEvidenceErr != nil {
			t.Fatal(err, live.SaveEvidenceErr)
		}
		sc, err := tgaws.Scan(context.Background(), sdkaws.Config{}, tgaws.ScanOptions{Evidence: dir})
		if err != nil {
			t.Fatal(err)
		}
		checkAligned(t, sc)
		if sc.Calls != nil {
			t.Errorf("an offline scan counted calls %v", sc.Calls)
		}
		got := map[string]trailguard.Status{}
		for _, r := range sc.Results {
			got[r.Account] = r.Status
		}
		for _, a := range org.Accounts {
			if a.Want == "ERROR" {
				continue // an account that could not be read leaves no evidence
			}
			if string(got[a.ID]) != a.Want {
				t.Errorf("%s: %s from the evidence, want %s", a.ID, got[a.ID], a.Want)
			}
		}
	})
}

// TestScan_what_it_cannot_do_is_said: a source that cannot be read is an
// error; a deadline is a partial outcome or an ERROR account, never a
// PASS; evidence that cannot be written leaves the outcome whole.
func TestScan_what_it_cannot_do_is_said(t *testing.T) {
	t.Run("evidence_directory_missing", func(t *testing.T) {
		missing := filepath.Join(t.TempDir(), "nope")
		if _, err := tgaws.Scan(context.Background(), sdkaws.Config{}, tgaws.ScanOptions{Evidence: missing}); err == nil || !strings.Contains(err.Error(), "nope") {
			t.Errorf("err = %v, want one naming the directory", err)
		}
	})
	t.Run("organization_not_listable", func(t *testing.T) {
		e := newEnv(t)
		e.putTrail(t, acct, multiRegion("main", "us-east-1")) // in no organization
		if _, err := tgaws.Scan(context.Background(), e.config(acct, nil), tgaws.ScanOptions{Organization: true}); err == nil || !strings.Contains(err.Error(), "ListAccounts") {
			t.Errorf("err = %v, want the listing's failure", err)
		}
	})
	t.Run("overall_timeout_returns_what_finished_as_partial", func(t *testing.T) {
		e, org, cfg := generated(t, 40, 2)
		e.emu.SetLatency(40 * time.Millisecond)
		sc, err := tgaws.Scan(context.Background(), cfg, tgaws.ScanOptions{Organization: true, Timeout: 500 * time.Millisecond, Org: tgaws.OrgOptions{Concurrency: 2}})
		if err != nil {
			t.Fatal(err)
		}
		checkAligned(t, sc)
		if !strings.Contains(sc.Partial, "timeout") || len(sc.NotScanned) == 0 || len(sc.Accounts) >= len(org.Accounts) {
			t.Errorf("partial %q, %d not scanned, %d of %d accounts", sc.Partial, len(sc.NotScanned), len(sc.Accounts), len(org.Accounts))
		}
	})
	t.Run("account_timeout_bounds_a_single_account", func(t *testing.T) {
		e := newEnv(t)
		e.putTrail(t, acct, multiRegion("main", "us-east-1"))
		e.emu.SetLatency(200 * time.Millisecond)
		sc, err := tgaws.Scan(context.Background(), e.config(acct, nil), tgaws.ScanOptions{Org: tgaws.OrgOptions{AccountTimeout: 50 * time.Millisecond}})
		if err != nil {
			t.Fatal(err)
		}
		if len(sc.Results) != 1 || sc.Results[0].Status == trailguard.StatusPass || len(sc.Results[0].Reasons) == 0 {
			t.Errorf("results %+v, want one account not passing, with the reason", sc.Results)
		}
	})
	t.Run("evidence_not_written", func(t *testing.T) {
		e := newEnv(t)
		e.putTrail(t, acct, multiRegion("main", "us-east-1"))
		file := filepath.Join(t.TempDir(), "a-file")
		os.WriteFile(file, nil, 0o644)
		sc, err := tgaws.Scan(context.Background(), e.config(acct, nil), tgaws.ScanOptions{SaveEvidence: filepath.Join(file, "under")})
		if err != nil {
			t.Fatal(err)
		}
		if sc.SaveEvidenceErr == nil || len(sc.Results) != 1 || sc.Results[0].Status != trailguard.StatusPass {
			t.Errorf("evidence error %v, results %+v: want the error and the verdict", sc.SaveEvidenceErr, sc.Results)
		}
	})
}

// TestScan_leaves_the_callers_configuration_alone: the call counter is
// added to a copy; Config.Copy is shallow, so without care it would be
// written into spare capacity of the caller's APIOptions.
func TestScan_leaves_the_callers_configuration_alone(t *testing.T) {
	e := newEnv(t)
	e.putTrail(t, acct, multiRegion("main", "us-east-1"))
	cfg := e.config(acct, nil)
	cfg.APIOptions = make([]func(*middleware.Stack) error, 0, 8)
	if _, err := tgaws.Scan(context.Background(), cfg, tgaws.ScanOptions{}); err != nil {
		t.Fatal(err)
	}
	if len(cfg.APIOptions) != 0 || cfg.APIOptions[:1][0] != nil {
		t.Error("the scan wrote its call counter into the caller's APIOptions")
	}
}

// TestActionLists_are_exactly_what_the_scan_calls: the IAM action lists
// kept beside the calls (and printed by 'trailguard iam-policy') hold every
// operation an organization scan and a findings import make, in the
// caller's account and in the members, and nothing they do not make.
func TestActionLists_are_exactly_what_the_scan_calls(t *testing.T) {
	e, org, cfg := generated(t, 12, 39)
	sc, err := tgaws.Scan(context.Background(), cfg, tgaws.ScanOptions{Organization: true})
	if err != nil {
		t.Fatal(err)
	}
	// A scan of requested accounts describes them instead of listing.
	if _, err := tgaws.Scan(context.Background(), cfg, tgaws.ScanOptions{Organization: true, Org: tgaws.OrgOptions{Include: []string{sc.Accounts[1].ID}}}); err != nil {
		t.Fatal(err)
	}
	var fs []shtypes.AwsSecurityFinding
	for _, a := range sc.Accounts[:2] {
		fs = append(fs, finding(a.ID, "us-east-1", "f-"+a.ID))
	}
	if _, err := tgaws.ImportFindings(context.Background(), cfg, fs, tgaws.OrgOptions{}); err != nil {
		t.Fatal(err)
	}
	// AWS allows sts:GetCallerIdentity to every caller: it is in no list.
	free := []string{"sts:GetCallerIdentity"}
	callerMay := slices.Concat(tgaws.ScanActions, tgaws.OrganizationActions, tgaws.AssumeRoleActions, tgaws.ImportActions, free)
	memberMay := slices.Concat(tgaws.ScanActions, tgaws.ImportActions, free)
	used := map[string]bool{}
	for i, a := range org.Accounts {
		may := memberMay
		if i == 0 {
			may = callerMay
		}
		for op := range e.emu.AccountCalls(a.ID) {
			used[op] = true
			if !slices.Contains(may, op) {
				t.Errorf("account %s called %s, which no action list names", a.ID, op)
			}
		}
	}
	for _, op := range slices.Concat(tgaws.ScanActions, tgaws.OrganizationActions, tgaws.AssumeRoleActions, tgaws.ImportActions) {
		if !used[op] {
			t.Errorf("%s is listed but never called: the policy grants more than the scan needs", op)
		}
	}
}

// Whether an account already passes (so that its single-region trails
// and its region table are not read) is asked under the options it will
// be judged with: under --require-delivery, a multi-region trail that
// logs but does not deliver does not pass, so the account's single-region
// trail is read and the table shows the regions it still records.
func TestScan_skips_reads_only_for_an_account_that_passes_under_its_options(t *testing.T) {
	for _, tc := range []struct {
		name            string
		opts            trailguard.Options
		wantStatus      trailguard.Status
		wantStatusReads int
	}{
		{"default_options_pass_and_skip_the_single_region_trail", trailguard.Options{}, trailguard.StatusPass, 1},
		{"require_delivery_fails_and_reads_the_single_region_trail", trailguard.Options{RequireDelivery: true}, trailguard.StatusFail, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			arn := e.putTrail(t, acct, multiRegion("main", "us-east-1"))
			if err := e.emu.SetDeliveryState(arn, awsemu.DeliveryState{DeliveryError: "AccessDenied"}); err != nil {
				t.Fatal(err)
			}
			single := multiRegion("local", "us-east-1")
			single.IsMultiRegion = false
			e.putTrail(t, acct, single)
			sc, err := tgaws.Scan(context.Background(), e.config(acct, nil), tgaws.ScanOptions{Evaluate: tc.opts})
			if err != nil {
				t.Fatal(err)
			}
			if got := sc.Results[0].Status; got != tc.wantStatus {
				t.Fatalf("status %s %q, want %s", got, sc.Results[0].Reasons, tc.wantStatus)
			}
			if n := sc.Calls["cloudtrail:GetTrailStatus"]; n != tc.wantStatusReads {
				t.Errorf("GetTrailStatus %d times, want %d", n, tc.wantStatusReads)
			}
		})
	}
}
