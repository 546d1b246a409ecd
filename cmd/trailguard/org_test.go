package main

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard"
	tgaws "github.com/trailguard/trailguard/aws"
	"github.com/trailguard/trailguard/internal/awsemu"
	"github.com/trailguard/trailguard/internal/demo"
)

// generatedOrg serves a generated organization and points the SDK
// environment at its management account.
func generatedOrg(t *testing.T, n int, seed uint64) (*awsemu.Emulator, string, demo.Org) {
	t.Helper()
	emu := awsemu.New()
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	org, err := demo.BuildOrg(emu, demo.OrgSpec{Accounts: n, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	isolateAWS(t, org.Management)
	return emu, srv.URL, org
}

func TestScanOrg_accounts_file(t *testing.T) {
	_, url, org := generatedOrg(t, 20, 1)
	dir := t.TempDir()
	good := filepath.Join(dir, "accounts.txt")
	os.WriteFile(good, []byte("# the two we own\n"+org.Accounts[3].ID+"\n\n  "+org.Accounts[7].ID+"  # payments\n"), 0o644)
	code, out, errOut := cli(t, "scan", "--org", "--endpoint-url", url, "--format", "json", "--accounts-file", good)
	got := statuses(parseReport(t, out))
	if len(got) != 2 || got[org.Accounts[3].ID] == "" || got[org.Accounts[7].ID] == "" {
		t.Errorf("exit %d: scanned %v, want exactly the two listed (stderr %q)", code, got, errOut)
	}

	bad := filepath.Join(dir, "bad.txt")
	os.WriteFile(bad, []byte(org.Accounts[3].ID+"\n12345\n"), 0o644)
	code, _, errOut = cli(t, "scan", "--org", "--endpoint-url", url, "--accounts-file", bad)
	if code != 2 || !strings.Contains(errOut, "bad.txt:2") {
		t.Errorf("bad line: exit %d stderr %q, want the file and line 2", code, errOut)
	}
	code, _, errOut = cli(t, "scan", "--org", "--endpoint-url", url, "--accounts-file", filepath.Join(dir, "missing.txt"))
	if code != 2 || !strings.Contains(errOut, "missing.txt") {
		t.Errorf("missing file: exit %d stderr %q", code, errOut)
	}
	code, _, errOut = cli(t, "scan", "--org", "--endpoint-url", url, "--accounts", "12345")
	if code != 2 || !strings.Contains(errOut, "12345") {
		t.Errorf("bad --accounts id: exit %d stderr %q", code, errOut)
	}
}

func TestScanOrg_timeout_reports_what_finished_as_partial(t *testing.T) {
	emu, url, org := generatedOrg(t, 60, 2)
	emu.SetLatency(40 * time.Millisecond)
	code, out, errOut := cli(t, "scan", "--org", "--endpoint-url", url, "--format", "json", "--concurrency", "2", "--timeout", "600ms")
	var r struct {
		Results []struct{ Account, Status string }
		Partial *struct {
			Reason     string   `json:"reason"`
			NotScanned []string `json:"not_scanned"`
		} `json:"partial"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if code != 2 || r.Partial == nil || !strings.Contains(r.Partial.Reason, "timeout") || !strings.Contains(errOut, "partial") {
		t.Fatalf("exit %d partial %+v stderr %q", code, r.Partial, errOut)
	}
	if len(r.Results) == 0 || len(r.Results) >= len(org.Accounts) {
		t.Errorf("%d results of %d accounts: a partial scan reports some, not all", len(r.Results), len(org.Accounts))
	}
	for _, res := range r.Results {
		if res.Status == "ERROR" {
			t.Errorf("%s is ERROR: accounts cut off by the timeout are not scanned, not failed", res.Account)
		}
	}
}

func TestScanOrg_text_puts_the_summary_first_and_failing_accounts_on_top(t *testing.T) {
	_, url, org := generatedOrg(t, 40, 6)
	code, out, _ := cli(t, "scan", "--org", "--endpoint-url", url, "--color", "never")
	if code != 1 {
		t.Errorf("exit %d, want 1 (the organization has failing members)", code)
	}
	summary := strings.Index(out, "Summary:")
	table := strings.Index(out, "ACCOUNT  ")
	firstDetail := strings.Index(out, "\nAccount ")
	if summary < 0 || table < 0 || firstDetail < 0 || !(summary < table && table < firstDetail) {
		t.Fatalf("want summary, then table, then details; got positions %d %d %d\n%s", summary, table, firstDetail, out)
	}
	var rows []string
	for _, line := range strings.Split(out[table:firstDetail], "\n")[1:] {
		if f := strings.Fields(line); len(f) >= 3 {
			rows = append(rows, line)
		}
	}
	if len(rows) != len(org.Accounts) {
		t.Fatalf("%d table rows for %d accounts", len(rows), len(org.Accounts))
	}
	seenPass := false
	for _, row := range rows {
		pass := strings.Contains(row, " PASS ")
		if seenPass && !pass {
			t.Errorf("a non-passing row after passing ones: %q", row)
		}
		seenPass = seenPass || pass
	}
	// Passing accounts without warnings are not detailed unless asked.
	detailed := strings.Count(out, "\nAccount ")
	_, verbose, _ := cli(t, "scan", "--org", "--endpoint-url", url, "--color", "never", "--verbose")
	if all := strings.Count(verbose, "\nAccount "); all != len(org.Accounts) || detailed >= all {
		t.Errorf("details: %d by default, %d with --verbose, for %d accounts", detailed, all, len(org.Accounts))
	}
}

func TestOrgProgressLine(t *testing.T) {
	for _, c := range []struct {
		p       tgaws.OrgProgress
		elapsed time.Duration
		want    []string
	}{
		{tgaws.OrgProgress{Done: 5, Listed: 40, Failing: 1}, time.Second, []string{"░░░░░░░░░░░░░░░░░░░░░░░░ 5/≥40 accounts", "1 not passing"}},
		{tgaws.OrgProgress{Done: 25, Listed: 100, ListingDone: true, Failing: 3}, 10 * time.Second, []string{"██████░", "25/100 accounts", "about 30s left"}},
		{tgaws.OrgProgress{Done: 100, Listed: 100, ListingDone: true}, 10 * time.Second, []string{"████████████████████████ 100/100"}},
	} {
		var b orgBar
		got := b.line(c.p, c.elapsed)
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("%+v: %q lacks %q", c.p, got, w)
			}
		}
	}
}

func TestScan_output_dir_writes_one_file_per_format(t *testing.T) {
	_, url, _ := generatedOrg(t, 8, 3)
	dir := filepath.Join(t.TempDir(), "out")
	code, out, errOut := cli(t, "scan", "--org", "--endpoint-url", url, "--format", "json,csv,sarif,junit,asff,ocsf,markdown,text", "--output-dir", dir)
	if code != 1 || out != "" {
		t.Fatalf("exit %d stdout %q stderr %q", code, out, errOut)
	}
	for _, name := range []string{"trailguard.json", "trailguard.csv", "trailguard.sarif", "trailguard.junit.xml", "trailguard.asff.json", "trailguard.ocsf.json", "trailguard.md", "trailguard.txt"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || len(b) == 0 {
			t.Errorf("%s: %v (%d bytes)", name, err, len(b))
		}
		// Each file written is listed on standard error, by its path.
		if !strings.Contains(errOut, "wrote "+filepath.Join(dir, name)+" (") {
			t.Errorf("stderr does not list %s:\n%s", name, errOut)
		}
	}
	var rep struct{ Results []json.RawMessage }
	b, _ := os.ReadFile(filepath.Join(dir, "trailguard.json"))
	if err := json.Unmarshal(b, &rep); err != nil || len(rep.Results) != 8 {
		t.Errorf("json file: %v, %d results", err, len(rep.Results))
	}
	code, _, errOut = cli(t, "scan", "--org", "--endpoint-url", url, "--format", "json,csv")
	if code != 2 || !strings.Contains(errOut, "--output-dir") {
		t.Errorf("several formats without --output-dir: exit %d stderr %q", code, errOut)
	}
}

func TestScan_mutelist(t *testing.T) {
	_, url, org := generatedOrg(t, 30, 6)
	var failing []string
	for _, a := range org.Accounts {
		if a.Want == "FAIL" {
			failing = append(failing, a.ID)
		}
	}
	if len(failing) == 0 {
		t.Fatal("the generated organization has no failing account")
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "mutes.yaml")
	os.WriteFile(file, []byte("mutes:\n  - accounts: [\""+strings.Join(failing, `", "`)+"\"]\n    reason: accepted until the migration\n    owner: sec\n    expires: 2999-01-01\n"+
		"  - accounts: [\"*\"]\n    reason: old blanket exception\n    owner: bob\n    expires: 2001-01-01\n"), 0o644)
	code, out, errOut := cli(t, "scan", "--org", "--endpoint-url", url, "--format", "json", "--mutelist", file)
	var rep struct {
		Results []struct {
			Account    string `json:"account"`
			Status     string `json:"status"`
			Underlying string `json:"underlying_status"`
			MuteReason string `json:"mute_reason"`
		}
		Summary struct{ Fail, Muted int }
		Notices []string
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if code == 1 || rep.Summary.Fail != 0 || rep.Summary.Muted != len(failing) {
		t.Errorf("exit %d summary %+v, want the %d failing accounts muted", code, rep.Summary, len(failing))
	}
	for _, r := range rep.Results {
		if r.Status == "MUTED" && (r.Underlying != "FAIL" || !strings.Contains(r.MuteReason, "accepted until the migration")) {
			t.Errorf("%+v", r)
		}
	}
	if len(rep.Notices) != 1 || !strings.Contains(rep.Notices[0], "expired") || !strings.Contains(errOut, "bob") {
		t.Errorf("notices %q stderr %q", rep.Notices, errOut)
	}
	os.WriteFile(file, []byte("mutes:\n  - accounts: [x]\n    owner: o\n    expires: 2999-01-01\n"), 0o644)
	code, _, errOut = cli(t, "scan", "--org", "--endpoint-url", url, "--mutelist", file)
	if code != 2 || !strings.Contains(errOut, "mutes.yaml:2") {
		t.Errorf("bad mutelist: exit %d stderr %q", code, errOut)
	}
}

func TestScan_securityhub_import(t *testing.T) {
	emu, url, org := generatedOrg(t, 12, 39)
	code, _, errOut := cli(t, "scan", "--org", "--endpoint-url", url, "--format", "json", "--securityhub")
	noRole := 0
	for _, a := range org.Accounts {
		got := emu.Findings(a.ID, "us-east-1")
		if a.Want == "ERROR" {
			noRole++
			if len(got) != 0 {
				t.Errorf("%s: findings imported without a role", a.ID)
			}
			continue
		}
		f := got["trailguard/"+trailguard.ControlID+"/"+a.ID]
		if f == nil {
			t.Errorf("%s (%s): no finding in its Security Hub", a.ID, a.Want)
			continue
		}
		status := f["Compliance"].(map[string]any)["Status"]
		if want := map[string]string{"PASS": "PASSED", "FAIL": "FAILED", "UNKNOWN": "WARNING"}[a.Want]; status != want {
			t.Errorf("%s: compliance %v, want %s", a.ID, status, want)
		}
	}
	if noRole == 0 {
		t.Fatal("the generated organization has no account without a role: choose another seed")
	}
	// A FAIL decides the exit code; the refused import is still told.
	if !strings.Contains(errOut, "imported") || code != 1 || !strings.Contains(errOut, "AssumeRole") {
		t.Errorf("exit %d stderr %q", code, errOut)
	}
}

// The policies iam-policy prints are enough: the emulator gives the
// management account and the member roles exactly those actions, and the
// scan gets every verdict the organization was built for; without
// DescribeTrails it cannot.
func TestIAMPolicy_is_exactly_what_the_scan_needs(t *testing.T) {
	actions := func(args ...string) []string {
		code, out, errOut := cli(t, append([]string{"iam-policy"}, args...)...)
		if code != 0 {
			t.Fatalf("iam-policy %v: exit %d %s", args, code, errOut)
		}
		var p struct{ Statement []struct{ Action []string } }
		if err := json.Unmarshal([]byte(out), &p); err != nil {
			t.Fatal(err)
		}
		var all []string
		for _, s := range p.Statement {
			all = append(all, s.Action...)
		}
		return all
	}
	caller, member := actions("--org", "--securityhub"), actions("--member-role", "--securityhub")

	scan := func(callerActions []string) (int, map[string]string, string) {
		emu, url, org := generatedOrg(t, 12, 39)
		emu.AllowOnly(org.Management.AccountID, callerActions...)
		for _, a := range org.Accounts[1:] {
			emu.AllowOnly(a.ID, member...)
		}
		code, out, errOut := cli(t, "scan", "--org", "--endpoint-url", url, "--format", "json", "--securityhub")
		return code, statuses(parseReport(t, out)), errOut
	}
	_, got, errOut := scan(caller)
	_, _, org := generatedOrg(t, 12, 39)
	for _, a := range org.Accounts {
		if got[a.ID] != a.Want {
			t.Errorf("%s: %s with the documented policy, want %s", a.ID, got[a.ID], a.Want)
		}
	}
	if strings.Contains(errOut, "not authorized") && !strings.Contains(errOut, "role/OrganizationAccountAccessRole") {
		t.Errorf("access denied with the documented policy: %s", errOut)
	}
	// Without one of the actions, the management account cannot be read.
	// (Without GetEventSelectors alone it would still pass: its
	// organization trail's selectors are then read by a member, and trail
	// facts are shared by ARN.)
	var fewer []string
	for _, a := range caller {
		if a != "cloudtrail:DescribeTrails" {
			fewer = append(fewer, a)
		}
	}
	_, got, _ = scan(fewer)
	if got[demo.OrgManagement] != "ERROR" {
		t.Errorf("the management account is %s without cloudtrail:DescribeTrails, want ERROR", got[demo.OrgManagement])
	}
}
