package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard"
	"github.com/trailguard/trailguard/internal/awsemu"
	"github.com/trailguard/trailguard/report"
)

const errAccount = "123456789012"

// passingEmulator is an emulator whose account errAccount passes, with
// its calls recorded, and the environment pointed at it.
func passingEmulator(t *testing.T) (*awsemu.Emulator, string) {
	t.Helper()
	emu := awsemu.New()
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	creds := emu.AddAccount(errAccount)
	if _, err := emu.PutTrail(errAccount, awsemu.TrailSpec{Name: "main", HomeRegion: "us-east-1", S3BucketName: "b",
		IsMultiRegion: true, IncludeGlobalServiceEvents: true, Logging: true}); err != nil {
		t.Fatal(err)
	}
	isolateAWS(t, creds)
	emu.RecordCalls(true)
	return emu, srv.URL
}

// TestScanChecksOutputPathsFirst: a report or evidence path that cannot
// be written is a usage error (exit 2) before any AWS call, not a failure
// after the whole scan; a directory still to be created is fine.
func TestScanChecksOutputPathsFirst(t *testing.T) {
	cases := []struct {
		name string
		args func(dir string) []string
		want []string // in stderr; none: the scan runs
		// wrote is the report file a scan that runs writes, under dir.
		wrote string
	}{
		{name: "output_in_a_missing_directory", args: func(d string) []string { return []string{"-o", filepath.Join(d, "missing", "report.json")} },
			want: []string{"--output", "does not exist"}},
		{name: "output_is_a_directory", args: func(d string) []string { return []string{"--output", d} },
			want: []string{"--output", "is a directory"}},
		{name: "output_under_a_file", args: func(d string) []string { return []string{"-o", filepath.Join(d, "file", "report.json")} },
			want: []string{"--output", "not a directory"}},
		{name: "output_dir_under_a_file", args: func(d string) []string {
			return []string{"--output-dir", filepath.Join(d, "file", "out"), "--format", "json,csv"}
		},
			want: []string{"--output-dir", "not a directory"}},
		{name: "save_evidence_under_a_file", args: func(d string) []string { return []string{"--save-evidence", filepath.Join(d, "file", "ev")} },
			want: []string{"--save-evidence", "not a directory"}},
		{name: "output_dir_to_be_created", args: func(d string) []string {
			return []string{"--output-dir", filepath.Join(d, "new", "out"), "--format", "json"}
		}},
		{name: "output_file_in_an_existing_directory", args: func(d string) []string { return []string{"-o", filepath.Join(d, "report.json")} }, wrote: "report.json"},
		{name: "output_to_a_device", args: func(d string) []string { return []string{"-o", os.DevNull} }},
		{name: "existing_output_file_is_overwritten", args: func(d string) []string {
			if err := os.WriteFile(filepath.Join(d, "old.json"), []byte("old"), 0o644); err != nil {
				panic(err)
			}
			return []string{"-o", filepath.Join(d, "old.json")}
		}, wrote: "old.json"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			emu, url := passingEmulator(t)
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "file"), []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
			args := append([]string{"scan", "--endpoint-url", url}, tc.args(dir)...)
			code, _, stderr := cli(t, args...)
			if len(tc.want) == 0 {
				if code != 0 {
					t.Fatalf("exit %d: %s", code, stderr)
				}
				if tc.wrote != "" {
					b, err := os.ReadFile(filepath.Join(dir, tc.wrote))
					if err != nil || !strings.Contains(string(b), errAccount) {
						t.Errorf("report %s: %v %q", tc.wrote, err, b)
					}
				}
				return
			}
			if code != 2 {
				t.Errorf("exit %d, want 2 (usage)", code)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if calls := emu.CallLog(); len(calls) != 0 {
				t.Errorf("%d AWS call(s) before the usage error, want none: %+v", len(calls), calls)
			}
			if _, err := os.Stat(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the check created a directory: %v", err)
			}
		})
	}
}

// TestReportRescuedWhenWriteFails: a report that cannot be written at the
// end (its directory went away after the check) is written to a fallback
// in the temp dir, or else to stdout, the error says where, and the exit
// code still says FAIL when a result fails.
func TestReportRescuedWhenWriteFails(t *testing.T) {
	failing := []trailguard.Result{{Account: errAccount, Status: trailguard.StatusFail, Reasons: []string{"no multi-region trail"}}}
	cases := []struct {
		name       string
		out        func(dir string) outputFlags
		tempBroken bool
		wantFiles  []string // in the fallback directory
		wantStdout bool
	}{
		{name: "output_file_directory_gone", out: func(d string) outputFlags {
			return outputFlags{format: "json", output: filepath.Join(d, "gone", "report.json")}
		}, wantFiles: []string{"report.json"}},
		{name: "output_dir_cannot_be_created", out: func(d string) outputFlags {
			return outputFlags{format: "json,csv", outputDir: filepath.Join(d, "file", "out")}
		}, wantFiles: []string{"trailguard.json", "trailguard.csv"}},
		{name: "temp_dir_broken_too_goes_to_stdout", out: func(d string) outputFlags {
			return outputFlags{format: "json", output: filepath.Join(d, "gone", "report.json")}
		}, tempBroken: true, wantStdout: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir, tmp := t.TempDir(), t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "file"), []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
			if tc.tempBroken {
				tmp = filepath.Join(dir, "file", "tmp")
			}
			t.Setenv("TMPDIR", tmp)
			o := tc.out(dir)
			var stdout bytes.Buffer
			err := o.write(&stdout, report.New("test", report.Scan{Source: "aws"}, failing, nil))
			var ee *exitError
			if !errors.As(err, &ee) || ee.err == nil {
				t.Fatalf("error %v, want an exit error that says what failed", err)
			}
			if ee.code != 1 {
				t.Errorf("exit %d, want 1: a failing result keeps its exit code", ee.code)
			}
			if tc.wantStdout {
				if !strings.Contains(ee.err.Error(), "standard output") {
					t.Errorf("error %q does not say the report went to standard output", ee.err)
				}
				if !json.Valid(stdout.Bytes()) || !strings.Contains(stdout.String(), errAccount) {
					t.Errorf("stdout holds no report: %q", stdout.String())
				}
				return
			}
			if stdout.Len() != 0 {
				t.Errorf("wrote to stdout although the fallback worked: %q", stdout.String())
			}
			dirs, _ := filepath.Glob(filepath.Join(tmp, "trailguard-report-*"))
			if len(dirs) != 1 {
				t.Fatalf("fallback directories %v, want one", dirs)
			}
			for _, name := range tc.wantFiles {
				path := filepath.Join(dirs[0], name)
				if !strings.Contains(ee.err.Error(), path) {
					t.Errorf("error %q does not name %s", ee.err, path)
				}
				b, rerr := os.ReadFile(path)
				if rerr != nil || !strings.Contains(string(b), errAccount) {
					t.Errorf("fallback %s: %v %q", path, rerr, b)
				}
			}
		})
	}
}

// TestScanRegionTypo: through the command line, a region name of no
// region's shape is refused before any call, naming the likely region; a
// plausible but unknown one is warned about, and its failure says the
// region is not known, not only that a host was not found.
func TestScanRegionTypo(t *testing.T) {
	cases := []struct {
		name   string
		region string
		code   int
		stderr []string
		reason string
	}{
		{name: "not_the_shape_of_a_region", region: "useast1", code: 2, stderr: []string{"not a known AWS region", "did you mean us-east-1?"}},
		{name: "plausible_unknown_region", region: "us-est-1", code: 2, stderr: []string{"warning", "did you mean us-east-1?"}, reason: "us-est-1 is not a known AWS region"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			isolateAWS(t, awsemu.Credentials{AccessKeyID: "AKIAEXAMPLEEXAMPLE00", SecretAccessKey: "secret"})
			code, stdout, stderr := cli(t, "scan", "--region", tc.region, "--max-attempts", "1", "--format", "json")
			if code != tc.code {
				t.Errorf("exit %d, want %d: %s", code, tc.code, stderr)
			}
			for _, w := range tc.stderr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if tc.reason == "" {
				if stdout != "" {
					t.Errorf("a refused region printed a report: %s", stdout)
				}
				return
			}
			r := parseReport(t, stdout)
			if len(r.Results) != 1 || r.Results[0].Status != "ERROR" || !strings.Contains(strings.Join(r.Results[0].Reasons, " "), tc.reason) {
				t.Errorf("results %+v, want one ERROR saying %q", r.Results, tc.reason)
			}
		})
	}
}

// TestScanTimeoutNamesTheFlag: through the command line, a scan stopped
// by --timeout says to raise --timeout, not --account-timeout.
func TestScanTimeoutNamesTheFlag(t *testing.T) {
	emu, url := passingEmulator(t)
	emu.SetLatency(300 * time.Millisecond)
	code, stdout, stderr := cli(t, "scan", "--endpoint-url", url, "--timeout", "50ms", "--format", "json")
	if code != 2 {
		t.Errorf("exit %d, want 2: %s", code, stderr)
	}
	r := parseReport(t, stdout)
	reasons := ""
	for _, res := range r.Results {
		reasons += strings.Join(res.Reasons, "\n")
	}
	if !strings.Contains(reasons, "raise --timeout") || strings.Contains(reasons, "--account-timeout") {
		t.Errorf("reasons should name --timeout only:\n%s", reasons)
	}
}
