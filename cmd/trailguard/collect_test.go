package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

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
		)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("script for %s: %v\n%s", a.ID, err, out)
		}
		isolateAWS(t, a.Credentials)
		cli(t, "scan", "--endpoint-url", srv.URL, "--save-evidence", saved, "--format", "json")
	}

	_, handOut, handErr := cli(t, "scan", "--evidence", byHand, "--format", "json")
	_, savedOut, savedErr := cli(t, "scan", "--evidence", saved, "--format", "json")
	hand, sav := parseReport(t, handOut), parseReport(t, savedOut)
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
