package evidence

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailguard/trailguard"
	"github.com/trailguard/trailguard/history"
)

// historyRegionsCall is how the collect script lists the regions to read
// event history in: the enabled ones.
func historyRegionsCall(region string) string {
	return "ec2 describe-regions region=" + region + " name= output=text query=Regions[?OptInStatus!=`not-opted-in`].RegionName"
}

// scriptFile writes CollectScript's output to a file, as an auditor would.
func scriptFile(t *testing.T) string {
	t.Helper()
	var buf bytes.Buffer
	if err := CollectScript(&buf); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "collect.sh")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func needBash(t *testing.T) string {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		// The collect script is a bash script: without bash there is nothing
		// to run. CI (TRAILGUARD_REQUIRE_AWSCLI set) has bash and must run it.
		if os.Getenv("TRAILGUARD_REQUIRE_AWSCLI") != "" {
			t.Fatal("bash is required to test the collect script")
		}
		t.Skip("bash is not on PATH, and the collect script is a bash script")
	}
	return bash
}

func TestCollectScript_is_valid_bash(t *testing.T) {
	bash := needBash(t)
	out, err := exec.Command(bash, "-n", scriptFile(t)).CombinedOutput()
	if err != nil {
		t.Fatalf("bash -n: %v\n%s", err, out)
	}
}

func TestCollectScript_needs_only_bash_and_the_aws_cli(t *testing.T) {
	var buf bytes.Buffer
	CollectScript(&buf)
	script := buf.String()
	for _, line := range strings.Split(script, "\n") {
		code, _, _ := strings.Cut(line, "#")
		for _, tool := range []string{"jq", "python", "curl", "sed ", "awk "} {
			if strings.Contains(code, tool) {
				t.Errorf("script uses %s: %q", tool, line)
			}
		}
	}
	for _, must := range []string{"set -u", "--output json", "--query Account --output text", "describe-regions --all-regions",
		"'trailList[].[TrailARN,HomeRegion,Name]'", `get-trail-status --name "$ARN"`,
		"cloudtrail lookup-events", `"AttributeKey=EventName,AttributeValue=$EV"`, "--start-time", `HISTORY_EVENTS="` + strings.Join(history.CoverageEvents, " ") + `"`, "sha256sum", "shasum -a 256", "manifest.json", `get-event-selectors --trail-name "$ARN"`} {
		if !strings.Contains(script, must) {
			t.Errorf("script lacks %q", must)
		}
	}
}

// runScript runs the collect script with the fake AWS CLI of
// testdata/fakeaws on PATH, answering from testdata/fakeaws/<data>. It
// returns the exit code, stderr and the calls the fake CLI logged.
func runScript(t *testing.T, data string, env []string, args ...string) (work string, code int, stderr string, calls []string) {
	t.Helper()
	bash := needBash(t)
	work = t.TempDir()
	bin := filepath.Join(work, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	shim, err := os.ReadFile("testdata/fakeaws/aws")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "aws"), shim, 0o755); err != nil {
		t.Fatal(err)
	}
	dataDir, err := filepath.Abs(filepath.Join("testdata/fakeaws", data))
	if err != nil {
		t.Fatal(err)
	}
	logFile := filepath.Join(work, "calls.log")
	cmd := exec.Command(bash, append([]string{scriptFile(t)}, args...)...)
	cmd.Dir = work
	// A clean environment: only the fake CLI, no real AWS settings.
	// The fake CLI comes first on PATH; a PATH in env replaces the rest.
	path := os.Getenv("PATH")
	for i, kv := range env {
		if rest, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = rest
			env = append(env[:i:i], env[i+1:]...)
			break
		}
	}
	cmd.Env = append([]string{
		"PATH=" + bin + string(os.PathListSeparator) + path,
		"HOME=" + work,
		"FAKE_AWS_DATA=" + dataDir,
		"FAKE_AWS_LOG=" + logFile,
	}, env...)
	var errBuf bytes.Buffer
	cmd.Stderr = &errBuf
	err = cmd.Run()
	code = cmd.ProcessState.ExitCode()
	if err != nil && code < 0 {
		t.Fatal(err)
	}
	log, _ := os.ReadFile(logFile)
	for _, l := range strings.Split(strings.TrimSpace(string(log)), "\n") {
		if l != "" {
			calls = append(calls, l)
		}
	}
	return work, code, errBuf.String(), calls
}

func TestCollectScript_with_fake_aws_cli(t *testing.T) {
	member := memberAccount()
	// The fake CLI answers the organization trail's selectors with
	// TrailNotFoundException (no canned answer).
	member.Trails[0].SelectorsError = "aws cloudtrail get-event-selectors failed: An error occurred (TrailNotFoundException) when calling the GetEventSelectors operation: Unknown trail: " + orgTrailARN

	denied := unreadableAccount()
	denied.CallerARN = "arn:aws:sts::333333333333:assumed-role/Audit/auditor"

	tests := []struct {
		name      string
		data      string
		env       []string
		args      []string
		outDir    string // relative to the working directory
		want      []trailguard.Account
		wantCalls []string
		// historyRegions are the regions whose event history the script
		// reads: one lookup-events call per coverage event name each.
		historyRegions []string
		stderr         []string
	}{
		{
			name:   "member_account_with_organization_trail_and_shadow_trail",
			data:   "member",
			args:   []string{"out"},
			outDir: "out",
			want:   []trailguard.Account{member},
			wantCalls: []string{
				"sts get-caller-identity region=us-east-1 name= output=text query=Account",
				"sts get-caller-identity region=us-east-1 name= output=json query=",
				"ec2 describe-regions region=us-east-1 name= output=json query=",
				"cloudtrail describe-trails region=us-east-1 name= output=json query=",
				"cloudtrail describe-trails region=us-east-1 name= output=text query=trailList[].[TrailARN,HomeRegion,Name]",
				// Each trail once, by ARN, in its home region.
				"cloudtrail get-trail-status region=us-east-1 name=" + orgTrailARN + " output=json query=",
				"cloudtrail get-event-selectors region=us-east-1 name=" + orgTrailARN + " output=json query=",
				"cloudtrail get-trail-status region=us-west-2 name=" + auditTrailARN + " output=json query=",
				"cloudtrail get-event-selectors region=us-west-2 name=" + auditTrailARN + " output=json query=",
				historyRegionsCall("us-east-1"),
			},
			historyRegions: []string{"us-east-1", "us-west-2", "ap-east-1"},
			stderr:         []string{"get-trail-status failed", "org-trail/get-trail-status.err", "lookup-events-PutEventSelectors.err"},
		},
		{
			name:   "default_output_dir_and_region_from_environment",
			data:   "member",
			env:    []string{"AWS_REGION=eu-central-1", "AWS_PROFILE=audit"},
			outDir: "trailguard-evidence",
			want:   []trailguard.Account{member},
			wantCalls: []string{
				"sts get-caller-identity region=eu-central-1 name= output=text query=Account",
				"sts get-caller-identity region=eu-central-1 name= output=json query=",
				"ec2 describe-regions region=eu-central-1 name= output=json query=",
				"cloudtrail describe-trails region=eu-central-1 name= output=json query=",
				"cloudtrail describe-trails region=eu-central-1 name= output=text query=trailList[].[TrailARN,HomeRegion,Name]",
				"cloudtrail get-trail-status region=us-east-1 name=" + orgTrailARN + " output=json query=",
				"cloudtrail get-event-selectors region=us-east-1 name=" + orgTrailARN + " output=json query=",
				"cloudtrail get-trail-status region=us-west-2 name=" + auditTrailARN + " output=json query=",
				"cloudtrail get-event-selectors region=us-west-2 name=" + auditTrailARN + " output=json query=",
				historyRegionsCall("eu-central-1"),
			},
			historyRegions: []string{"us-east-1", "us-west-2", "ap-east-1"},
		},
		{
			name:   "trails_and_regions_denied_the_script_goes_on",
			data:   "denied",
			args:   []string{"out dir with spaces"},
			outDir: "out dir with spaces",
			want:   []trailguard.Account{denied},
			wantCalls: []string{
				"sts get-caller-identity region=us-east-1 name= output=text query=Account",
				"sts get-caller-identity region=us-east-1 name= output=json query=",
				"ec2 describe-regions region=us-east-1 name= output=json query=",
				"cloudtrail describe-trails region=us-east-1 name= output=json query=",
				historyRegionsCall("us-east-1"),
			},
			stderr: []string{"describe-regions failed", "describe-trails failed", "could not list the regions to read event history in"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			work, code, stderr, calls := runScript(t, tt.data, tt.env, tt.args...)
			if code != 0 {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			for _, r := range tt.historyRegions {
				for _, name := range history.CoverageEvents {
					tt.wantCalls = append(tt.wantCalls, "cloudtrail lookup-events region="+r+" name="+name+" output=json query= start-time")
				}
			}
			if strings.Join(calls, "\n") != strings.Join(tt.wantCalls, "\n") {
				t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(calls, "\n"), strings.Join(tt.wantCalls, "\n"))
			}
			for _, w := range tt.stderr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			out := filepath.Join(work, tt.outDir)
			if _, err := os.Stat(filepath.Join(out, tt.want[0].ID, ".trail-list.tmp")); !os.IsNotExist(err) {
				t.Errorf("temporary trail list left behind: %v", err)
			}
			got, in, err := ReadVerified(out)
			if err != nil {
				t.Fatal(err)
			}
			sameAccounts(t, got, tt.want)
			// The script's manifest seals what it wrote.
			if len(in.Warnings) != 0 || len(in.Notices) != 0 {
				t.Errorf("the script's own evidence does not verify: warnings %q notices %q", in.Warnings, in.Notices)
			}
		})
	}
}

// No output directory name, however hostile, breaks the manifest's JSON or
// the shell: the manifest parses, records the command line as given, and
// verifies.
func TestCollectScript_manifest_is_valid_json_for_any_output_dir(t *testing.T) {
	for _, tt := range []struct{ name, dir string }{
		{"quote_and_backslash", `out"dir\\name\"`},
		{"newline_tab_and_return", "out\nline\tTab\rret"},
		{"shell_metacharacters", "out$(touch pwned)`id`;*"},
		{"control_character", "out\x01\x1bdir"},
		{"non_ascii", "évidence-证据"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := tt.dir
			work, code, stderr, _ := runScript(t, "member", nil, dir)
			if code != 0 {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			if _, err := os.Stat(filepath.Join(work, "pwned")); err == nil {
				t.Fatal("a directory name ran a command")
			}
			adir := filepath.Join(work, dir, "111111111111")
			data, err := os.ReadFile(filepath.Join(adir, fileManifest))
			if err != nil {
				t.Fatal(err)
			}
			var m Manifest
			if err := decodeJSON(fileManifest, data, &m); err != nil {
				t.Fatalf("manifest is not valid JSON: %v\n%s", err, data)
			}
			want := strings.Map(func(r rune) rune {
				if r < 0x20 && r != '\n' && r != '\t' && r != '\r' {
					return -1 // dropped: no control character reaches the manifest
				}
				return r
			}, dir)
			if len(m.CommandLine) != 2 || m.CommandLine[1] != want {
				t.Errorf("command line %q, want [script %q]", m.CommandLine, want)
			}
			if m.Tool != "trailguard collect-script" || m.CollectedBy != "arn:aws:sts::111111111111:assumed-role/Audit/auditor" || m.StartTime == "" || m.EndTime == "" || m.RunID == "" {
				t.Errorf("manifest %+v", m)
			}
			if _, in, err := ReadVerified(filepath.Join(work, dir)); err != nil || len(in.Warnings) != 0 || len(in.Notices) != 0 {
				t.Errorf("does not verify: %v %q %q", err, in.Warnings, in.Notices)
			}
		})
	}
}

func TestCollectScript_without_credentials_stops_and_writes_nothing(t *testing.T) {
	work, code, stderr, _ := runScript(t, "no-such-data", nil, "out")
	if code == 0 || !strings.Contains(stderr, "cannot tell which account") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(work, "out")); !os.IsNotExist(err) {
		t.Errorf("output directory created: %v", err)
	}
}

func TestCollectScript_output_matches_the_embedded_file(t *testing.T) {
	file, err := os.ReadFile("collect.sh")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	CollectScript(&buf)
	if buf.String() != string(file) {
		t.Error("CollectScript does not print collect.sh")
	}
}

// The manifest's hashes come from sha256sum or, where only that exists (as
// on macOS), shasum -a 256; without either the script stops before reading
// anything.
func TestCollectScript_hash_tool(t *testing.T) {
	for _, tt := range []struct {
		name  string
		tools []string // on PATH besides the shell utilities
		ok    bool
	}{
		{"sha256sum", []string{"sha256sum"}, true},
		{"shasum_only", []string{"shasum"}, true},
		{"neither", nil, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			bin := t.TempDir()
			for _, tool := range append([]string{"env", "bash", "mkdir", "rm", "mv", "cat", "tr", "date"}, tt.tools...) {
				p, err := exec.LookPath(tool)
				if err != nil {
					t.Skipf("%s is not installed here", tool)
				}
				if err := os.Symlink(p, filepath.Join(bin, tool)); err != nil {
					t.Fatal(err)
				}
			}
			work, code, stderr, calls := runScript(t, "member", []string{"PATH=" + bin}, "out")
			if !tt.ok {
				if code == 0 || !strings.Contains(stderr, "neither sha256sum nor shasum") || len(calls) != 0 {
					t.Errorf("exit %d, %d AWS calls, stderr:\n%s", code, len(calls), stderr)
				}
				return
			}
			if code != 0 {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			_, in, err := ReadVerified(filepath.Join(work, "out"))
			if err != nil || len(in.Warnings) != 0 || len(in.Notices) != 0 {
				t.Errorf("does not verify: %v %q %q", err, in.Warnings, in.Notices)
			}
		})
	}
}

// The script saves each enabled region's event history, one lookup-events
// file per coverage event name, and ReadHistory reads it back: the events
// with who and when, oldest first; a failed lookup is an error for its
// region, which is then not among the regions read; a script that cannot
// list the regions leaves an account whose history is known to be missing.
func TestCollectScript_saves_event_history(t *testing.T) {
	work, code, stderr, _ := runScript(t, "member", nil, "out")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	hs, err := ReadHistory(filepath.Join(work, "out"))
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) != 1 {
		t.Fatalf("%d accounts", len(hs))
	}
	h := hs[0]
	if h.Account != "111111111111" || strings.Join(h.Regions, ",") != "us-east-1,us-west-2" {
		t.Errorf("account %s, regions read %v", h.Account, h.Regions)
	}
	if len(h.Errors) != 1 || !strings.Contains(h.Errors[0], filepath.Join("ap-east-1", "lookup-events-PutEventSelectors.err")) || !strings.Contains(h.Errors[0], "AccessDeniedException") {
		t.Errorf("errors %q", h.Errors)
	}
	var got []string
	for _, ev := range h.Events {
		got = append(got, ev.Time.Format("2006-01-02")+" "+ev.Name+" "+ev.Actor+" "+ev.ErrorCode)
	}
	want := []string{
		"2026-10-03 StopLogging arn:aws:iam::111111111111:user/ops-admin ",
		"2026-10-06 StartLogging arn:aws:iam::111111111111:user/ops-admin ",
		"2026-10-20 StopLogging arn:aws:sts::111111111111:assumed-role/Dev/intruder AccessDenied",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if h.Since.IsZero() || h.Until.IsZero() || !h.Since.Before(h.Until) {
		t.Errorf("window %v .. %v", h.Since, h.Until)
	}

	work, code, stderr, _ = runScript(t, "denied", nil, "out")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	hs, err = ReadHistory(filepath.Join(work, "out"))
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) != 1 || len(hs[0].Regions) != 0 || !strings.Contains(strings.Join(hs[0].Errors, "\n"), "could not list the regions to read event history in") {
		t.Errorf("denied: %+v", hs)
	}
}
