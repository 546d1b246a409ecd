package main

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard/internal/awsemu"
)

// historyJSON is the part of the history's JSON the tests read.
type historyJSON struct {
	Accounts []struct {
		Account string `json:"account"`
		Events  []struct {
			Time      time.Time `json:"time"`
			Event     string    `json:"event"`
			Trail     string    `json:"trail"`
			Actor     string    `json:"actor"`
			SourceIP  string    `json:"source_ip"`
			UserAgent string    `json:"user_agent"`
			ErrorCode string    `json:"error_code"`
			Effect    string    `json:"effect"`
		} `json:"events"`
		Uncovered []struct {
			From    time.Time `json:"from"`
			To      time.Time `json:"to"`
			Certain bool      `json:"certain"`
		} `json:"uncovered"`
		Regions []string `json:"regions_read"`
		Errors  []string `json:"errors"`
	} `json:"accounts"`
	Calls    int            `json:"calls"`
	APICalls map[string]int `json:"api_calls"`
}

func parseHistory(t *testing.T, out string) historyJSON {
	t.Helper()
	var h historyJSON
	if err := json.Unmarshal([]byte(out), &h); err != nil {
		t.Fatalf("history JSON does not parse: %v\n%s", err, out)
	}
	return h
}

const histAcct = "210987654321"

func historyEmulator(t *testing.T) (*awsemu.Emulator, string, awsemu.Credentials) {
	t.Helper()
	emu := awsemu.New()
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	creds := emu.AddAccount(histAcct)
	if _, err := emu.PutTrail(histAcct, awsemu.TrailSpec{Name: "main", HomeRegion: "us-east-1", S3BucketName: "b",
		IsMultiRegion: true, IncludeGlobalServiceEvents: true, Logging: true}); err != nil {
		t.Fatal(err)
	}
	isolateAWS(t, creds)
	return emu, srv.URL, creds
}

// TestHistoryOfAWSCLIChanges: the real AWS CLI puts selectors, starts,
// stops and starts logging, narrows the selectors to read-only and widens
// them back in the emulator; history shows each call with who, from
// where and with what, and the gaps they opened — certain where the
// window proves it, uncertain before the window shows the selectors.
func TestHistoryOfAWSCLIChanges(t *testing.T) {
	awsBin := awsemu.AWSCLI(t)
	emu, url, _ := historyEmulator(t)
	emu.SetLookupEventsQuota(2)
	trail := "arn:aws:cloudtrail:us-east-1:" + histAcct + ":trail/main"
	all := `[{"ReadWriteType":"All","IncludeManagementEvents":true}]`
	steps := [][]string{
		{"put-event-selectors", "--trail-name", "main", "--event-selectors", all},
		{"start-logging", "--name", "main"},
		{"stop-logging", "--name", trail},
		{"start-logging", "--name", "main"},
		{"put-event-selectors", "--trail-name", "main", "--event-selectors", `[{"ReadWriteType":"ReadOnly","IncludeManagementEvents":true}]`},
		{"put-event-selectors", "--trail-name", "main", "--event-selectors", all},
	}
	for i, s := range steps {
		if i > 0 {
			// CloudTrail records times to the second: calls in one second
			// could not be ordered.
			time.Sleep(1100 * time.Millisecond)
		}
		cmd := exec.Command(awsBin, append(append([]string{"cloudtrail"}, s...), "--endpoint-url", url, "--region", "us-east-1", "--output", "json")...)
		cmd.Env = []string{"AWS_PAGER="}
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "AWS_PROFILE=") {
				cmd.Env = append(cmd.Env, kv) // an empty AWS_PROFILE names a profile "" to the CLI
			}
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("aws %v: %v\n%s", s, err, out)
		}
	}
	code, out, errOut := cli(t, "history", "--endpoint-url", url, "--format", "json", "--since", "1h")
	if code != 1 {
		t.Fatalf("exit %d, want 1 (certain gaps)\n%s\n%s", code, out, errOut)
	}
	h := parseHistory(t, out)
	if len(h.Accounts) != 1 || h.Accounts[0].Account != histAcct {
		t.Fatalf("accounts: %s", out)
	}
	a := h.Accounts[0]
	wantFx := []string{"uncertain", "uncertain", "covered → not covered", "not covered → covered", "covered → not covered", "not covered → covered"}
	wantEv := []string{"PutEventSelectors", "StartLogging", "StopLogging", "StartLogging", "PutEventSelectors", "PutEventSelectors"}
	if len(a.Events) != len(wantEv) {
		t.Fatalf("events: %+v", a.Events)
	}
	for i, e := range a.Events {
		if e.Event != wantEv[i] || e.Effect != wantFx[i] {
			t.Errorf("event %d: %s %q, want %s %q", i, e.Event, e.Effect, wantEv[i], wantFx[i])
		}
		if e.Trail != trail || !strings.Contains(e.Actor, histAcct) || e.SourceIP == "" || !strings.Contains(e.UserAgent, "aws-cli") || e.ErrorCode != "" {
			t.Errorf("event %d lacks who, where or what: %+v", i, e)
		}
	}
	type iv struct {
		from, to string
		certain  bool
	}
	var got []iv
	for _, u := range a.Uncovered {
		got = append(got, iv{u.From.Format(time.RFC3339), u.To.Format(time.RFC3339), u.Certain})
	}
	ts := func(i int) string { return a.Events[i].Time.Format(time.RFC3339) }
	want := []iv{{got[0].from, ts(1), false}, {ts(2), ts(3), true}, {ts(4), ts(5), true}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("uncovered = %v, want %v", got, want)
	}
	if h.Calls == 0 || h.APICalls["cloudtrail:DescribeTrails"] != 1 {
		t.Errorf("calls not counted: %d LookupEvents, reads %v", h.Calls, h.APICalls)
	}

	// The text report: the gaps first, then who did what.
	_, text, _ := cli(t, "history", "--endpoint-url", url, "--since", "1h")
	gaps, events := strings.Index(text, "Not covered:"), strings.Index(text, "Events:")
	if gaps < 0 || events < gaps || !strings.Contains(text, "StopLogging") || !strings.Contains(text, "aws-cli") {
		t.Errorf("text report:\n%s", text)
	}
}

// TestHistoryThrottledLosesNoEvent: with the emulator answering at most
// one LookupEvents a second per account and region, and trailguard
// asking at two, throttled calls are retried and every one of more
// events than one page holds is read.
func TestHistoryThrottledLosesNoEvent(t *testing.T) {
	emu, url, creds := historyEmulator(t)
	_ = creds
	emu.SetLookupEventsQuota(1)
	trail := "arn:aws:cloudtrail:us-east-1:" + histAcct + ":trail/main"
	start := time.Now().UTC().Add(-20 * 24 * time.Hour).Truncate(time.Second)
	const n = 120 // more than two pages of 50
	for i := 0; i < n; i++ {
		name := "StartLogging"
		if i%2 == 0 {
			name = "StopLogging"
		}
		if err := emu.AddEvent(awsemu.CloudTrailEvent{EventName: name, EventSource: "cloudtrail.amazonaws.com", AWSRegion: "us-east-1", RecipientAccountID: histAcct,
			EventTime: start.Add(time.Duration(i) * time.Hour).Format(time.RFC3339), SourceIPAddress: "198.51.100.7", UserAgent: "test",
			UserIdentity:      awsemu.UserIdentity{Type: "IAMUser", ARN: "arn:aws:iam::" + histAcct + ":user/ops", AccountID: histAcct},
			RequestParameters: map[string]any{"name": trail}}); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errOut := cli(t, "history", "--endpoint-url", url, "--format", "json", "--since", "30d", "--max-attempts", "20")
	if code != 1 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	h := parseHistory(t, out)
	if got := len(h.Accounts[0].Events); got != n || len(h.Accounts[0].Errors) != 0 {
		t.Fatalf("%d events read of %d, errors %v", got, n, h.Accounts[0].Errors)
	}
	// 60 stops, each followed by a start an hour later: 60 certain gaps
	// but the first interval before any start (uncertain).
	certain := 0
	for _, u := range h.Accounts[0].Uncovered {
		if u.Certain {
			certain++
		}
	}
	if certain != n/2 {
		t.Errorf("%d certain gaps, want %d", certain, n/2)
	}
}

func TestParseWhen(t *testing.T) {
	now := time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name, in string
		want     time.Time
		bad      bool
	}{
		{"days", "90d", now.Add(-90 * 24 * time.Hour), false},
		{"hours", "36h", now.Add(-36 * time.Hour), false},
		{"date", "2026-10-01", time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), false},
		{"rfc3339_with_zone", "2026-10-01T12:00:00+02:00", time.Date(2026, 10, 1, 10, 0, 0, 0, time.UTC), false},
		{"negative_age", "-5d", time.Time{}, true},
		{"words", "last week", time.Time{}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseWhen(c.in, now)
			if (err != nil) != c.bad || (!c.bad && !got.Equal(c.want)) {
				t.Errorf("parseWhen(%q) = %v, %v", c.in, got, err)
			}
		})
	}
}

func TestHistoryUsageErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"since_after_until", []string{"--since", "2026-11-02", "--until", "2026-11-01"}, "must be before"},
		{"since_beyond_event_history", []string{"--since", "200d"}, "90 days"},
		{"tps_above_quota", []string{"--lookup-tps", "5"}, "--lookup-tps"},
		{"format_not_supported", []string{"--format", "sarif"}, "--format"},
		{"evidence_with_org", []string{"--evidence", ".", "--org"}, "--evidence"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, errOut := cli(t, append([]string{"history"}, c.args...)...)
			if code != 2 || !strings.Contains(errOut, c.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errOut, c.want)
			}
		})
	}
}

// TestHistoryOrgTrailStoppedInManagementAccount: the organization
// trail's StopLogging is recorded in the management account only; with
// --org it opens the same certain gap in every member the trail alone
// covers. Run on a member alone, the trail's moments cannot be decided
// there: the window is uncertain, never covered.
func TestHistoryOrgTrailStoppedInManagementAccount(t *testing.T) {
	emu, url, org := generatedOrg(t, 12, 3)
	orgTrail := "arn:aws:cloudtrail:us-east-1:" + org.Accounts[0].ID + ":trail/org-audit"
	now := time.Now().UTC().Truncate(time.Second)
	at := func(days int) string { return now.Add(time.Duration(-days) * 24 * time.Hour).Format(time.RFC3339) }
	for _, e := range []struct {
		name string
		days int
	}{{"StartLogging", 10}, {"StopLogging", 5}, {"StartLogging", 4}} {
		if err := emu.AddEvent(awsemu.CloudTrailEvent{EventName: e.name, EventSource: "cloudtrail.amazonaws.com", AWSRegion: "us-east-1",
			RecipientAccountID: org.Accounts[0].ID, EventTime: at(e.days), SourceIPAddress: "203.0.113.50", UserAgent: "console.amazonaws.com",
			UserIdentity:      awsemu.UserIdentity{Type: "IAMUser", ARN: "arn:aws:iam::" + org.Accounts[0].ID + ":user/intruder", AccountID: org.Accounts[0].ID},
			RequestParameters: map[string]any{"name": orgTrail}}); err != nil {
			t.Fatal(err)
		}
	}
	_, out, errOut := cli(t, "history", "--org", "--endpoint-url", url, "--format", "json", "--since", "30d")
	h := parseHistory(t, out)
	if len(h.Accounts) != len(org.Accounts) {
		t.Fatalf("%d accounts in the history, want %d\n%s", len(h.Accounts), len(org.Accounts), errOut)
	}
	gapFrom, gapTo := at(5), at(4)
	gapped, member := 0, ""
	for _, a := range h.Accounts {
		var certain []string
		for _, u := range a.Uncovered {
			if u.Certain {
				certain = append(certain, u.From.Format(time.RFC3339)+"/"+u.To.Format(time.RFC3339))
			}
		}
		hasStop := false
		for _, e := range a.Events {
			if e.Event == "StopLogging" && e.Trail == orgTrail && strings.Contains(e.Actor, "intruder") {
				hasStop = true
			}
		}
		if a.Account == org.Accounts[0].ID && (fmt.Sprint(certain) != "["+gapFrom+"/"+gapTo+"]" || !hasStop) {
			t.Errorf("management account: certain gaps %v, stop listed %v", certain, hasStop)
		}
		if fmt.Sprint(certain) == "["+gapFrom+"/"+gapTo+"]" && hasStop {
			gapped++
			if a.Account != org.Accounts[0].ID {
				member = a.Account
			}
		}
	}
	// Most generated members are covered by the organization trail alone.
	if gapped < 3 {
		t.Errorf("only %d account(s) show the organization trail's gap\n%s", gapped, out)
	}

	// A member the organization trail alone covers, read alone: its changes are not in
	// its event history, so nothing before now is proven covered.
	var creds awsemu.Credentials
	for _, a := range org.Accounts {
		if a.ID == member {
			creds = a.Credentials
		}
	}
	isolateAWS(t, creds)
	code, out, _ := cli(t, "history", "--endpoint-url", url, "--format", "json", "--since", "30d")
	h = parseHistory(t, out)
	if code != 2 || len(h.Accounts) != 1 || len(h.Accounts[0].Uncovered) != 1 || h.Accounts[0].Uncovered[0].Certain {
		t.Errorf("member alone: exit %d, %s", code, out)
	}
}

// TestHistoryFromCollectedEvidence: the auditor's script collects the
// trails and event history with the real AWS CLI; history --evidence
// replays it offline. Regions the script was told to leave out are
// errors naming their files, so nothing in the window is proven covered;
// a malformed event in a saved file is an error naming that file, not a
// silent skip.
func TestHistoryFromCollectedEvidence(t *testing.T) {
	awsPath := awsemu.AWSCLI(t)
	emu, url, creds := historyEmulator(t)
	trail := "arn:aws:cloudtrail:us-east-1:" + histAcct + ":trail/main"
	now := time.Now().UTC().Truncate(time.Second)
	for i, name := range []string{"StopLogging", "StartLogging"} {
		if err := emu.AddEvent(awsemu.CloudTrailEvent{EventName: name, EventSource: "cloudtrail.amazonaws.com", AWSRegion: "us-east-1", RecipientAccountID: histAcct,
			EventTime: now.Add(time.Duration(i-10) * 24 * time.Hour).Format(time.RFC3339), SourceIPAddress: "203.0.113.9", UserAgent: "aws-cli/2",
			UserIdentity:      awsemu.UserIdentity{Type: "IAMUser", ARN: "arn:aws:iam::" + histAcct + ":user/mallory", AccountID: histAcct},
			RequestParameters: map[string]any{"name": trail}}); err != nil {
			t.Fatal(err)
		}
	}
	_, script, _ := cli(t, "collect-script")
	work := t.TempDir()
	scriptPath := filepath.Join(work, "collect.sh")
	os.WriteFile(scriptPath, []byte(script), 0o755)
	shimDir := filepath.Join(work, "bin")
	os.MkdirAll(shimDir, 0o755)
	os.WriteFile(filepath.Join(shimDir, "aws"), []byte("#!/bin/sh\nexec "+awsPath+" --endpoint-url \"$TG_TEST_ENDPOINT\" \"$@\"\n"), 0o755)
	dir := filepath.Join(work, "evidence")
	cmd := exec.Command("bash", scriptPath, dir)
	cmd.Env = append(envWithoutAWS(), "PATH="+shimDir+string(os.PathListSeparator)+os.Getenv("PATH"), "TG_TEST_ENDPOINT="+url,
		"AWS_ACCESS_KEY_ID="+creds.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+creds.SecretAccessKey, "AWS_SESSION_TOKEN="+creds.SessionToken,
		"AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1", "AWS_CONFIG_FILE="+filepath.Join(work, "none"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(work, "none"), "AWS_PAGER=", "AWS_EC2_METADATA_DISABLED=true",
		"TRAILGUARD_HISTORY_REGIONS=us-east-1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("collect script: %v\n%s", err, out)
	}

	code, out, errOut := cli(t, "history", "--evidence", dir, "--format", "json")
	h := parseHistory(t, out)
	if code != 2 || len(h.Accounts) != 1 {
		t.Fatalf("exit %d, want 2 (regions not collected)\n%s\n%s", code, out, errOut)
	}
	a := h.Accounts[0]
	if len(a.Events) != 2 || a.Events[0].Event != "StopLogging" || !strings.Contains(a.Events[0].Actor, "mallory") {
		t.Errorf("events: %+v", a.Events)
	}
	if len(a.Errors) == 0 || !strings.Contains(strings.Join(a.Errors, "\n"), "missing") {
		t.Errorf("the regions left out are not errors: %q", a.Errors)
	}
	for _, u := range a.Uncovered {
		if u.Certain {
			t.Errorf("certain interval %+v from incomplete history", u)
		}
	}
	if len(a.Uncovered) != 1 {
		t.Errorf("uncovered %+v, want the whole window uncertain", a.Uncovered)
	}

	// A malformed event in a saved file: an error naming the file.
	matches, _ := filepath.Glob(filepath.Join(dir, histAcct, "history", "us-east-1", "lookup-events-StopLogging.json"))
	if len(matches) != 1 {
		t.Fatalf("no saved StopLogging lookup in %s", dir)
	}
	b, _ := os.ReadFile(matches[0])
	broken := strings.Replace(string(b), `\"eventName\"`, `\"eventName\": \"x\", \"eventName\"`, 1)
	if broken == string(b) {
		t.Fatalf("could not break %s:\n%s", matches[0], b)
	}
	os.WriteFile(matches[0], []byte(broken), 0o644)
	code, out, _ = cli(t, "history", "--evidence", dir, "--format", "json")
	h = parseHistory(t, out)
	if code != 2 || !strings.Contains(strings.Join(h.Accounts[0].Errors, "\n"), "lookup-events-StopLogging.json") {
		t.Errorf("exit %d, errors %q: want one naming the file", code, h.Accounts[0].Errors)
	}
	_, text, _ := cli(t, "history", "--evidence", dir)
	if !strings.Contains(text, "lookup-events-StopLogging.json") {
		t.Errorf("the text report does not name the malformed file:\n%s", text)
	}
}

// TestDemoHistory: the demo's seeded past replays to the gaps it was
// built with — the organization trail stopped for three days by an IAM
// user, in the management account and in the member it covers — and the
// demo exits 0 whatever the gaps.
func TestDemoHistory(t *testing.T) {
	code, out, errOut := cli(t, "demo", "--history", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	h := parseHistory(t, out)
	if len(h.Accounts) != 7 || h.Calls == 0 {
		t.Fatalf("%d accounts, %d calls", len(h.Accounts), h.Calls)
	}
	for _, id := range []string{"111111111111", "777777777777"} {
		found := false
		for _, a := range h.Accounts {
			if a.Account != id {
				continue
			}
			for i, e := range a.Events {
				if e.Event != "StopLogging" || e.ErrorCode != "" || !strings.Contains(e.Actor, "user/") {
					continue
				}
				for _, u := range a.Uncovered {
					if u.Certain && u.From.Equal(e.Time) && u.To.Sub(u.From) > 70*time.Hour && i+1 < len(a.Events) && u.To.Equal(a.Events[i+1].Time) {
						found = true
					}
				}
			}
		}
		if !found {
			t.Errorf("account %s: no certain gap opened by an IAM user's StopLogging\n%s", id, out)
		}
	}
	code, text, _ := cli(t, "demo", "--history")
	if code != 0 || !strings.Contains(text, "Not covered:") || !strings.Contains(text, "FAILED: AccessDenied") {
		t.Errorf("text: exit %d\n%s", code, text)
	}
}
