package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailguard/trailguard"
	"github.com/trailguard/trailguard/internal/awsemu"
	"github.com/trailguard/trailguard/internal/demo"
)

// cli runs the CLI in-process and returns its exit code and output.
func cli(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// jsonReport is the part of the JSON report the tests read.
type jsonReport struct {
	Tool    struct{ Name, Version string }
	Control struct{ ID string }
	Results []struct {
		Account string             `json:"account"`
		Status  string             `json:"status"`
		Reasons []string           `json:"reasons"`
		Regions map[string]*string `json:"regions"`
		Trails  []json.RawMessage  `json:"trails"`
	}
	Summary  trailguard.Summary `json:"summary"`
	APICalls map[string]int     `json:"api_calls"`
}

func parseReport(t *testing.T, out string) jsonReport {
	t.Helper()
	var r jsonReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("JSON report does not parse: %v\n%s", err, out)
	}
	return r
}

func statuses(r jsonReport) map[string]string {
	m := map[string]string{}
	for _, res := range r.Results {
		m[res.Account] = res.Status
	}
	return m
}

// isolateAWS points the SDK away from the user's AWS files and at the
// given account's keys.
func isolateAWS(t *testing.T, c awsemu.Credentials) {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_ACCESS_KEY_ID", c.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", c.SecretAccessKey)
	t.Setenv("AWS_SESSION_TOKEN", c.SessionToken)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_ENDPOINT_URL", "")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

func seededEmulator(t *testing.T) (*httptest.Server, []demo.Account) {
	t.Helper()
	emu := awsemu.New()
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	accounts, err := demo.Seed(emu)
	if err != nil {
		t.Fatal(err)
	}
	return srv, accounts
}

func TestDemo_every_account_gets_its_intended_verdict(t *testing.T) {
	code, out, errOut := cli(t, "demo", "--format", "json")
	if code != 0 {
		t.Fatalf("demo exit %d: %s", code, errOut)
	}
	r := parseReport(t, out)
	emu := awsemu.New()
	seeded, err := demo.Seed(emu)
	if err != nil {
		t.Fatal(err)
	}
	got := statuses(r)
	if len(got) != len(seeded) {
		t.Fatalf("demo results %v, want %d accounts", got, len(seeded))
	}
	for _, a := range seeded {
		if got[a.ID] != a.Want {
			t.Errorf("demo account %s (%s): %s, want %s", a.ID, a.Name, got[a.ID], a.Want)
		}
	}
	// The member covered by the organization trail costs no status or
	// selectors call of its own: 7 accounts, 4 distinct multi-region trails
	// plus 1 single-region trail read for the region table of a FAIL.
	if n := r.APICalls["cloudtrail:DescribeTrails"]; n != len(seeded) {
		t.Errorf("DescribeTrails = %d, want one per account (%d)", n, len(seeded))
	}
	if n := r.APICalls["cloudtrail:GetTrailStatus"]; n != 5 {
		t.Errorf("GetTrailStatus = %d, want 5 (%v)", n, r.APICalls)
	}
}

func TestDemo_text_names_every_state(t *testing.T) {
	code, out, _ := cli(t, "demo", "--color", "never")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"not logging", "read-only", "DescribeTrails lists no trail", "no multi-region trail", "fails to deliver", "kms.amazonaws.com", "Summary:", "not covered"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo text lacks %q", want)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Errorf("--color never printed escape codes")
	}
}

func TestScan_live_against_emulator(t *testing.T) {
	srv, accounts := seededEmulator(t)
	for _, a := range accounts {
		t.Run(a.ID, func(t *testing.T) {
			isolateAWS(t, a.Credentials)
			code, out, errOut := cli(t, "scan", "--endpoint-url", srv.URL, "--format", "json")
			r := parseReport(t, out)
			if len(r.Results) != 1 {
				t.Fatalf("results %d: %s %s", len(r.Results), out, errOut)
			}
			res := r.Results[0]
			if res.Account != a.ID || res.Status != a.Want {
				t.Errorf("account %s status %s, want %s %s; reasons %q", res.Account, res.Status, a.ID, a.Want, res.Reasons)
			}
			wantCode := map[string]int{"PASS": 0, "FAIL": 1, "UNKNOWN": 2, "ERROR": 2}[a.Want]
			if code != wantCode {
				t.Errorf("exit %d, want %d", code, wantCode)
			}
			if r.Control.ID != trailguard.ControlID || r.Tool.Name != "trailguard" {
				t.Errorf("header %+v %+v", r.Tool, r.Control)
			}
			if r.APICalls["cloudtrail:DescribeTrails"] != 1 {
				t.Errorf("api_calls %v", r.APICalls)
			}
			if len(res.Regions) == 0 {
				t.Errorf("no regions in %s", out)
			}
		})
	}
}

func TestScan_endpoint_from_environment(t *testing.T) {
	srv, accounts := seededEmulator(t)
	isolateAWS(t, accounts[0].Credentials)
	t.Setenv("AWS_ENDPOINT_URL", srv.URL)
	code, out, errOut := cli(t, "scan", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	if st := statuses(parseReport(t, out)); st[accounts[0].ID] != "PASS" {
		t.Errorf("statuses %v", st)
	}
}

func TestScan_save_evidence_then_read_it_back(t *testing.T) {
	srv, accounts := seededEmulator(t)
	dir := t.TempDir()
	for _, a := range accounts {
		isolateAWS(t, a.Credentials)
		cli(t, "scan", "--endpoint-url", srv.URL, "--save-evidence", dir, "--format", "json")
	}
	code, out, errOut := cli(t, "scan", "--evidence", dir, "--format", "json")
	if code != 1 {
		t.Errorf("exit %d, want 1 (the demo has failing accounts): %s", code, errOut)
	}
	got := statuses(parseReport(t, out))
	for _, a := range accounts {
		if got[a.ID] != a.Want {
			t.Errorf("evidence verdict for %s: %s, want %s", a.ID, got[a.ID], a.Want)
		}
	}
}

func TestScan_bad_input(t *testing.T) {
	t.Run("unknown_flag", func(t *testing.T) {
		code, _, errOut := cli(t, "scan", "--no-such-flag")
		if code != 2 || !strings.Contains(errOut, "no-such-flag") {
			t.Errorf("exit %d stderr %q", code, errOut)
		}
	})
	t.Run("unknown_format", func(t *testing.T) {
		code, _, errOut := cli(t, "scan", "--evidence", t.TempDir(), "--format", "yaml")
		if code != 2 || !strings.Contains(errOut, "yaml") {
			t.Errorf("exit %d stderr %q", code, errOut)
		}
	})
	t.Run("missing_evidence_dir", func(t *testing.T) {
		missing := filepath.Join(t.TempDir(), "nope")
		code, _, errOut := cli(t, "scan", "--evidence", missing)
		if code != 2 || !strings.Contains(errOut, "nope") {
			t.Errorf("exit %d stderr %q", code, errOut)
		}
	})
	t.Run("malformed_evidence_json_names_file_and_line", func(t *testing.T) {
		dir := t.TempDir()
		acctDir := filepath.Join(dir, "123456789012")
		if err := os.MkdirAll(acctDir, 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(acctDir, "describe-trails.json"), []byte("{\n  \"trailList\": [\n    {,}\n  ]\n}\n"), 0o644)
		code, out, _ := cli(t, "scan", "--evidence", dir, "--format", "json")
		r := parseReport(t, out)
		if code != 2 || len(r.Results) != 1 || r.Results[0].Status != "ERROR" {
			t.Fatalf("exit %d results %+v", code, r.Results)
		}
		msg := strings.Join(r.Results[0].Reasons, " ")
		if !strings.Contains(msg, "describe-trails.json") || !strings.Contains(msg, "line 3") {
			t.Errorf("reason %q should name the file and line 3", msg)
		}
	})
	t.Run("save_evidence_failure_still_prints_the_report", func(t *testing.T) {
		isolateAWS(t, awsemu.Credentials{AccessKeyID: "AKIAEXAMPLE", SecretAccessKey: "x"})
		srv := httptest.NewServer(nil)
		url := srv.URL
		srv.Close()
		code, out, errOut := cli(t, "scan", "--endpoint-url", url, "--format", "json", "--save-evidence", t.TempDir())
		r := parseReport(t, out)
		if code != 2 || len(r.Results) != 1 || !strings.Contains(errOut, "--save-evidence") {
			t.Errorf("exit %d results %d stderr %q", code, len(r.Results), errOut)
		}
	})
	t.Run("unreachable_endpoint_is_error", func(t *testing.T) {
		isolateAWS(t, awsemu.Credentials{AccessKeyID: "AKIAEXAMPLE", SecretAccessKey: "x"})
		srv := httptest.NewServer(nil)
		url := srv.URL
		srv.Close()
		code, out, _ := cli(t, "scan", "--endpoint-url", url, "--format", "json", "--timeout", "20s")
		r := parseReport(t, out)
		if code != 2 || r.Results[0].Status != "ERROR" {
			t.Errorf("exit %d results %+v", code, r.Results)
		}
	})
}

func TestExplain(t *testing.T) {
	code, out, _ := cli(t, "explain")
	if code != 0 || !strings.Contains(out, "start-logging") {
		t.Errorf("exit %d, explain lacks start-logging", code)
	}
}

func TestScan_org_from_management_account(t *testing.T) {
	emu := awsemu.New()
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	accounts, err := demo.Seed(emu)
	if err != nil {
		t.Fatal(err)
	}
	emu.AddRole("777777777777", "OrganizationAccountAccessRole")
	isolateAWS(t, accounts[0].Credentials)
	code, out, errOut := cli(t, "scan", "--org", "--endpoint-url", srv.URL, "--format", "json")
	got := statuses(parseReport(t, out))
	if code != 0 || len(got) != 2 || got[demo.Management] != "PASS" || got["777777777777"] != "PASS" {
		t.Errorf("exit %d statuses %v stderr %q", code, got, errOut)
	}
	code, _, errOut = cli(t, "scan", "--accounts", "777777777777", "--endpoint-url", srv.URL)
	if code != 2 || !strings.Contains(errOut, "--org") {
		t.Errorf("--accounts without --org: exit %d stderr %q", code, errOut)
	}
}
