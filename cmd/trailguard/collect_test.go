package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailguard/trailguard/evidence"
	"github.com/trailguard/trailguard/internal/awsemu"
	"github.com/trailguard/trailguard/internal/demo"
)

// The script 'collect-script' prints, run with the real AWS CLI against the
// emulator, must produce evidence that gives the same verdicts as
// --save-evidence.
func TestCollectScript_with_real_aws_cli_matches_save_evidence(t *testing.T) {
	awsPath := awsemu.AWSCLI(t)
	srv, all := seededEmulator(t)
	// A management account with an organization trail, its member, a
	// failing account and one with no trail: every branch of the script.
	var accounts []demo.Account
	for _, a := range all {
		switch a.ID {
		case demo.Management, "444444444444", "666666666666", "777777777777":
			accounts = append(accounts, a)
		}
	}

	code, script, _ := cli(t, "collect-script")
	if code != 0 || !strings.HasPrefix(script, "#!") {
		t.Fatalf("collect-script exit %d", code)
	}
	work := t.TempDir()
	scriptPath := filepath.Join(work, "collect.sh")
	os.WriteFile(scriptPath, []byte(script), 0o755)
	if out, err := exec.Command("bash", "-n", scriptPath).CombinedOutput(); err != nil {
		t.Fatalf("script syntax: %v\n%s", err, out)
	}
	// A shim named aws on PATH adds --endpoint-url, as an auditor's own
	// configuration would point the CLI somewhere: the script is unchanged.
	shimDir := filepath.Join(work, "bin")
	os.MkdirAll(shimDir, 0o755)
	shim := "#!/bin/sh\nexec " + awsPath + " --endpoint-url \"$TG_TEST_ENDPOINT\" \"$@\"\n"
	os.WriteFile(filepath.Join(shimDir, "aws"), []byte(shim), 0o755)

	byHand := filepath.Join(work, "by-hand")
	saved := filepath.Join(work, "saved")
	for _, a := range accounts {
		cmd := exec.Command("bash", scriptPath, byHand)
		cmd.Env = append(envWithoutAWS(),
			"PATH="+shimDir+string(os.PathListSeparator)+os.Getenv("PATH"),
			"TG_TEST_ENDPOINT="+srv.URL,
			"AWS_ACCESS_KEY_ID="+a.Credentials.AccessKeyID,
			"AWS_SECRET_ACCESS_KEY="+a.Credentials.SecretAccessKey,
			"AWS_SESSION_TOKEN="+a.Credentials.SessionToken,
			"AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1",
			"AWS_CONFIG_FILE="+filepath.Join(work, "none"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(work, "none"),
			"AWS_PAGER=", "AWS_EC2_METADATA_DISABLED=true",
			// Event history of one region: each lookup is a CLI start, and
			// every region would be a hundred of them per account.
			"TRAILGUARD_HISTORY_REGIONS=us-east-1",
		)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("script for %s: %v\n%s", a.ID, err, out)
		}
		isolateAWS(t, a.Credentials)
		cli(t, "scan", "--endpoint-url", srv.URL, "--save-evidence", saved, "--format", "json")
	}

	// The script saved event history, one lookup-events file per coverage
	// event, that reads back; the regions it was told to leave out are
	// reported as not read, never as regions without events.
	hist, err := evidence.ReadHistory(byHand)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != len(accounts) {
		t.Fatalf("history of %d accounts, want %d", len(hist), len(accounts))
	}
	for _, h := range hist {
		if strings.Join(h.Regions, ",") != "us-east-1" || h.Since.IsZero() {
			t.Errorf("%s: history regions read %v, since %v, errors %q", h.Account, h.Regions, h.Since, h.Errors)
		}
		for _, e := range h.Errors {
			if !strings.Contains(e, ": missing: the event history of") || strings.Contains(e, "us-east-1") {
				t.Errorf("%s: history error %q", h.Account, e)
			}
		}
	}

	_, handOut, handErr := cli(t, "scan", "--evidence", byHand, "--format", "json")
	_, savedOut, savedErr := cli(t, "scan", "--evidence", saved, "--format", "json")
	hand, sav := parseReport(t, handOut), parseReport(t, savedOut)
	// Both collections carry a manifest per account, and both verify.
	for _, out := range []string{handOut, savedOut} {
		for _, r := range integrityOf(t, out).Results {
			if len(r.Warnings) > 0 {
				t.Errorf("%s: warnings on untouched evidence: %q", r.Account, r.Warnings)
			}
		}
		if n := integrityOf(t, out).Notices; len(n) > 0 {
			t.Errorf("notices on evidence with manifests: %q", n)
		}
	}
	for _, a := range accounts {
		for _, d := range []string{byHand, saved} {
			if _, err := os.Stat(filepath.Join(d, a.ID, "manifest.json")); err != nil {
				t.Errorf("no manifest: %v", err)
			}
		}
	}
	if len(hand.Results) != len(accounts) || len(sav.Results) != len(accounts) {
		t.Fatalf("results: by hand %d (%s), saved %d (%s), want %d", len(hand.Results), handErr, len(sav.Results), savedErr, len(accounts))
	}
	for i, a := range accounts {
		h, s := hand.Results[i], sav.Results[i]
		if h.Account != a.ID || s.Account != a.ID {
			t.Fatalf("order: %s %s, want %s", h.Account, s.Account, a.ID)
		}
		if h.Status != a.Want || s.Status != a.Want {
			t.Errorf("%s: by hand %s %q, saved %s %q, want %s", a.ID, h.Status, h.Reasons, s.Status, s.Reasons, a.Want)
		}
		if strings.Join(h.Reasons, "|") != strings.Join(s.Reasons, "|") {
			t.Errorf("%s reasons differ:\n by hand %q\n saved   %q", a.ID, h.Reasons, s.Reasons)
		}
		if len(h.Regions) != len(s.Regions) || len(h.Regions) == 0 {
			t.Errorf("%s regions: by hand %d, saved %d", a.ID, len(h.Regions), len(s.Regions))
		}
	}
}

// envWithoutAWS is the test's environment less every AWS_ variable, so that
// nothing of the machine's AWS setup reaches the CLI.
func envWithoutAWS() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			out = append(out, kv)
		}
	}
	return out
}

// integrityReport is the part of the JSON report that says whether the
// evidence read is what was collected.
type integrityReport struct {
	Results []struct {
		Account  string   `json:"account"`
		Status   string   `json:"status"`
		Warnings []string `json:"warnings"`
	} `json:"results"`
	Notices []string `json:"notices"`
}

func integrityOf(t *testing.T, out string) integrityReport {
	t.Helper()
	var r integrityReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("JSON report does not parse: %v\n%s", err, out)
	}
	return r
}

// Evidence saved by scan --save-evidence, then changed: each file changed,
// added or removed after collection is a warning on that account's result
// in the JSON report, naming the file; the account is still judged, and
// the other accounts are untouched. Evidence without a manifest is read
// with one notice.
func TestScan_evidence_changed_after_collection_is_marked(t *testing.T) {
	srv, accounts := seededEmulator(t)
	pass := ""
	for _, a := range accounts {
		if a.Want == "PASS" && pass == "" {
			pass = a.ID
		}
	}
	if pass == "" || len(accounts) < 2 {
		t.Fatal("the demo needs a passing account and another")
	}
	tests := []struct {
		name       string
		change     func(t *testing.T, adir string) string // returns the file named
		want       string
		wantNotice bool
	}{
		{"untouched", func(*testing.T, string) string { return "" }, "", false},
		{"file_changed", func(t *testing.T, adir string) string {
			p := filepath.Join(adir, "describe-trails.json")
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(p, append(data, ' '), 0o644)
			return p
		}, "changed after collection", false},
		{"file_added", func(t *testing.T, adir string) string {
			p := filepath.Join(adir, "notes.json")
			os.WriteFile(p, []byte("{}"), 0o644)
			return p
		}, "added after collection", false},
		{"file_deleted", func(t *testing.T, adir string) string {
			p := filepath.Join(adir, "regions.json")
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
			return p
		}, "removed after collection", false},
		{"manifest_removed", func(t *testing.T, adir string) string {
			os.Remove(filepath.Join(adir, "manifest.json"))
			return ""
		}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, a := range accounts {
				isolateAWS(t, a.Credentials)
				cli(t, "scan", "--endpoint-url", srv.URL, "--save-evidence", dir, "--format", "json")
			}
			file := tt.change(t, filepath.Join(dir, pass))
			_, out, errOut := cli(t, "scan", "--evidence", dir, "--format", "json")
			r := integrityOf(t, out)
			if len(r.Results) != len(accounts) {
				t.Fatalf("%d results, want %d: %s", len(r.Results), len(accounts), errOut)
			}
			for _, res := range r.Results {
				all := strings.Join(res.Warnings, "\n")
				marked := strings.Contains(all, "after collection")
				switch {
				case res.Account != pass && marked:
					t.Errorf("%s was not changed but is marked: %q", res.Account, res.Warnings)
				case res.Account == pass && tt.want == "" && marked:
					t.Errorf("marked without a change: %q", res.Warnings)
				case res.Account == pass && tt.want != "" && !strings.Contains(all, tt.want+": "+file):
					t.Errorf("warnings %q lack %q naming %s", res.Warnings, tt.want, file)
				}
				if res.Account == pass && res.Status == "" {
					t.Error("the changed account was not judged")
				}
			}
			notices := strings.Join(r.Notices, "\n")
			if got := strings.Count(notices, "no manifest.json"); got != map[bool]int{true: 1}[tt.wantNotice] {
				t.Errorf("notices %q: %d about a missing manifest, want it only when removed, once", r.Notices, got)
			}
		})
	}
}
