package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/owenrumney/go-sarif/v2/sarif"

	"github.com/trailguard/trailguard/cloudformation"
)

// iacTree copies the readers' test data into one tree, with things a walk
// must skip or report.
func iacTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	copyFile := func(from, to string) {
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Dir(to), 0o755)
		if err := os.WriteFile(to, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	copyFile("../../terraform/testdata/modules/main.tf", filepath.Join(dir, "tf/main.tf"))
	copyFile("../../terraform/testdata/modules/modules/trail/main.tf", filepath.Join(dir, "tf/modules/trail/main.tf"))
	copyFile("../../terraform/testdata/planjson/plan.json", filepath.Join(dir, "plan.json"))
	copyFile("../../cloudformation/testdata/intrinsics.yaml", filepath.Join(dir, "cfn/stack.yaml"))
	// A vendored provider module with a failing trail: skipped.
	os.MkdirAll(filepath.Join(dir, "tf/.terraform/modules/x"), 0o755)
	os.WriteFile(filepath.Join(dir, "tf/.terraform/modules/x/main.tf"), []byte("resource \"aws_cloudtrail\" \"v\" {\n  name = \"v\"\n}\n"), 0o644)
	// Not IaC: skipped quietly.
	os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"name": "app"}`), 0o644)
	os.WriteFile(filepath.Join(dir, "ci.yml"), []byte("on: push\n"), 0o644)
	return dir
}

func TestIaC_walks_every_format(t *testing.T) {
	dir := iacTree(t)
	code, out, errOut := cli(t, "iac", dir, "--format", "json")
	var rep struct {
		Results []struct {
			File, Resource, Status string
			Line                   int
			Reasons                []string
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	got := map[string]string{}
	for _, r := range rep.Results {
		if r.File == "" || r.Line == 0 {
			t.Errorf("%s without file and line", r.Resource)
		}
		got[r.Resource] = r.Status
	}
	want := map[string]string{
		"module.prod.aws_cloudtrail.this": "PASS", "module.dev.aws_cloudtrail.this": "FAIL",
		"aws_cloudtrail.main": "PASS", "module.x.aws_cloudtrail.ro": "FAIL", "aws_cloudtrail.computed": "UNKNOWN",
		"Main": "PASS", "Dev": "MUTED", "Mapped": "FAIL", "Region": "UNKNOWN", "NoLogging": "FAIL",
		"Skipped": "FAIL", // its Condition is false: not created
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %q, want %s", k, got[k], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d results, want %d (vendored modules and the module called by its parent are not read again): %v", len(got), len(want), got)
	}
	if code != 1 || errOut != "" {
		t.Errorf("exit %d stderr %q", code, errOut)
	}
}

func TestIaC_broken_file_is_an_error_and_the_rest_is_checked(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "bad.tf"), []byte("resource \"aws_cloudtrail\" \"x\" {\n  name = \n}\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "broken.yaml"), []byte("Resources:\n  T:\n    Type: AWS::CloudTrail::Trail\n    Properties: [\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "good.tf"), []byte("resource \"aws_cloudtrail\" \"ok\" {\n  name = \"ok\"\n  is_multi_region_trail = true\n}\n"), 0o644)
	code, out, _ := cli(t, "iac", dir, "--format", "text", "--color", "never", "--verbose")
	for _, want := range []string{"bad.tf:2", "broken.yaml", "aws_cloudtrail.ok", "ERROR"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if code != 2 {
		t.Errorf("exit %d, want 2 (errors, no FAIL)", code)
	}
}

func TestIaC_sarif_for_code_scanning(t *testing.T) {
	dir := iacTree(t)
	out := filepath.Join(t.TempDir(), "r.sarif")
	cli(t, "iac", dir, "--format", "sarif", "--output", out)
	doc, err := sarif.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range doc.Runs[0].Results {
		pl := r.Locations[0].PhysicalLocation
		if pl == nil || pl.ArtifactLocation == nil || pl.Region == nil || *pl.Region.StartLine < 1 {
			t.Errorf("IaC result without a physical location: %+v", r)
		}
		n++
	}
	if n != 8 { // every result but the 3 PASS
		t.Errorf("%d SARIF results, want 8", n)
	}
}

func TestIaC_usage(t *testing.T) {
	if code, _, errOut := cli(t, "iac"); code != 2 || !strings.Contains(errOut, "arg") {
		t.Errorf("no path: exit %d %q", code, errOut)
	}
	if code, _, errOut := cli(t, "iac", "/no/such/path"); code != 2 || !strings.Contains(errOut, "/no/such/path") {
		t.Errorf("missing path: exit %d %q", code, errOut)
	}
	if code, _, errOut := cli(t, "iac", ".", "--var", "novalue"); code != 2 || !strings.Contains(errOut, "NAME=VALUE") {
		t.Errorf("bad --var: exit %d %q", code, errOut)
	}
}

// goodTrail is a Terraform trail that passes, so that each hostile case
// can show that the rest of the tree is still checked.
const goodTrail = "resource \"aws_cloudtrail\" \"ok\" {\n  name = \"ok\"\n  s3_bucket_name = \"b\"\n  is_multi_region_trail = true\n}\n"

type iacJSON struct {
	Results []struct {
		File, Resource, Status string
		Line                   int
		Reasons                []string
	}
	Summary struct {
		TrailsFound *int `json:"trails_found"`
		Muted       int
	}
	Partial *struct{ Reason string }
	Notices []string
}

func parseIaC(t *testing.T, out string) iacJSON {
	t.Helper()
	var r iacJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return r
}

// TestIaC_hostile_files covers principle 5 for the walk: a file that is
// not regular is skipped with a note, one over its size cap or a template
// that breaches a limit is an ERROR naming it, and the other files are
// still checked.
func TestIaC_hostile_files(t *testing.T) {
	bomb, err := os.ReadFile("../../cloudformation/testdata/alias-bomb.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		setup  func(t *testing.T, dir string) // writes the hostile file
		status string                         // of the hostile file's result, "" for none
		reason string                         // in its reasons, or in a notice when status is ""
		code   int
	}{
		{"symlink_to_dev_zero", func(t *testing.T, dir string) {
			if err := os.Symlink("/dev/zero", filepath.Join(dir, "x.yaml")); err != nil {
				t.Skip(err)
			}
		}, "", "x.yaml: a character device", 0},
		{"fifo", func(t *testing.T, dir string) {
			if err := syscall.Mkfifo(filepath.Join(dir, "f.yaml"), 0o644); err != nil {
				t.Skip(err)
			}
		}, "", "f.yaml: a named pipe (FIFO)", 0},
		{"fifo_in_a_terraform_module", func(t *testing.T, dir string) {
			os.MkdirAll(filepath.Join(dir, "mod"), 0o755)
			if err := syscall.Mkfifo(filepath.Join(dir, "mod", "x.tf"), 0o644); err != nil {
				t.Skip(err)
			}
		}, "UNKNOWN", "x.tf: a named pipe (FIFO)", 2},
		{"tfvars_symlink_to_dev_zero", func(t *testing.T, dir string) {
			os.MkdirAll(filepath.Join(dir, "mod"), 0o755)
			os.WriteFile(filepath.Join(dir, "mod", "main.tf"), []byte(goodTrail), 0o644)
			if err := os.Symlink("/dev/zero", filepath.Join(dir, "mod", "terraform.tfvars")); err != nil {
				t.Skip(err)
			}
		}, "UNKNOWN", "terraform.tfvars: a character device", 2},
		{"module_calling_a_module_that_is_not_read", func(t *testing.T, dir string) {
			os.MkdirAll(filepath.Join(dir, "caller", "mod"), 0o755)
			os.WriteFile(filepath.Join(dir, "caller", "main.tf"), []byte("module \"m\" {\n  source = \"./mod\"\n}\n"), 0o644)
			if err := syscall.Mkfifo(filepath.Join(dir, "caller", "mod", "x.tf"), 0o644); err != nil {
				t.Skip(err)
			}
		}, "UNKNOWN", "calls the local module", 2},
		{"symlink_to_a_regular_template_is_read", func(t *testing.T, dir string) {
			src := filepath.Join(t.TempDir(), "real.yaml")
			os.WriteFile(src, []byte("Resources:\n  Linked:\n    Type: AWS::CloudTrail::Trail\n    Properties: {IsLogging: true}\n"), 0o644)
			os.Symlink(src, filepath.Join(dir, "linked.yaml"))
		}, "FAIL", "only single-region trails Linked", 1},
		{"template_over_the_size_cap", func(t *testing.T, dir string) {
			b := []byte("AWSTemplateFormatVersion: '2010-09-09'\n#" + strings.Repeat("x", cloudformation.MaxTemplateBytes) + "\n")
			os.WriteFile(filepath.Join(dir, "big.yaml"), b, 0o644)
		}, "ERROR", "limit", 2},
		{"json_template_over_the_template_cap", func(t *testing.T, dir string) {
			b := []byte(`{"Resources": {"T": {"Type": "AWS::CloudTrail::Trail"}}, "Pad": "` + strings.Repeat("x", cloudformation.MaxTemplateBytes) + `"}`)
			os.WriteFile(filepath.Join(dir, "big.json"), b, 0o644)
		}, "ERROR", "limit", 2},
		{"alias_bomb", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "bomb.yaml"), bomb, 0o644)
		}, "ERROR", "expands more than", 2},
		{"duplicate_logical_id", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "dup.yaml"), []byte("Resources:\n  T:\n    Type: AWS::CloudTrail::Trail\n  T:\n    Type: AWS::S3::Bucket\n"), 0o644)
		}, "ERROR", `duplicate key "T"`, 2},
		{"nested_stack", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "parent.yaml"), []byte("Resources:\n  Audit:\n    Type: AWS::CloudFormation::Stack\n    Properties: {TemplateURL: https://x/a.yaml}\n"), 0o644)
		}, "UNKNOWN", "nested stack Audit", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "main.tf"), []byte(goodTrail), 0o644)
			tc.setup(t, dir)
			code, out, errOut := cli(t, "iac", dir, "--format", "json")
			rep := parseIaC(t, out)
			var other, hostile []string
			for _, r := range rep.Results {
				if r.Resource == "aws_cloudtrail.ok" {
					other = append(other, r.Status)
					continue
				}
				hostile = append(hostile, r.Status)
				if r.Status != tc.status || !strings.Contains(strings.Join(r.Reasons, " "), tc.reason) {
					t.Errorf("result %s %s %q, want %s naming %q", r.Resource, r.Status, r.Reasons, tc.status, tc.reason)
				}
				if r.File == "" || r.Line < 1 {
					t.Errorf("result %s without file and line", r.Resource)
				}
			}
			if len(other) != 1 || other[0] != "PASS" {
				t.Errorf("the good trail: %v, want checked and PASS", other)
			}
			if tc.status == "" {
				if len(hostile) != 0 {
					t.Errorf("skipped file gave results %v", hostile)
				}
				if !strings.Contains(strings.Join(rep.Notices, " "), tc.reason) || !strings.Contains(errOut, tc.reason) {
					t.Errorf("notices %q / stderr %q lack %q", rep.Notices, errOut, tc.reason)
				}
			} else if len(hostile) != 1 {
				t.Errorf("hostile file gave %d results, want 1", len(hostile))
			}
			if code != tc.code {
				t.Errorf("exit %d, want %d", code, tc.code)
			}
		})
	}
}

// TestIaC_no_trail_found: code that declares no trail says so in every
// format and exits 0, or 1 with --require-trail (principle 6).
func TestIaC_no_trail_found(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "app.tf"), []byte("resource \"aws_s3_bucket\" \"b\" {\n  bucket = \"b\"\n}\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "stack.yaml"), []byte("Resources:\n  B:\n    Type: AWS::S3::Bucket\n"), 0o644)
	for _, tc := range []struct {
		format string
		says   string // what the output must hold; "" for ASFF, whose findings are about accounts only
	}{
		{"text", "no CloudTrail trail found in " + dir}, {"json", "no CloudTrail trail found in " + dir},
		{"csv", "no CloudTrail trail found in " + dir}, {"sarif", "no CloudTrail trail found in " + dir},
		{"junit", "no CloudTrail trail found in " + dir}, {"ocsf", "no CloudTrail trail found in " + dir},
		// Markdown and HTML escape the path.
		{"markdown", "no CloudTrail trail found in "}, {"html", "no CloudTrail trail found in "},
		{"asff", ""},
	} {
		t.Run(tc.format, func(t *testing.T) {
			code, out, errOut := cli(t, "iac", dir, "--format", tc.format, "--color", "never")
			if code != 0 {
				t.Errorf("exit %d, want 0 (%s)", code, errOut)
			}
			if !strings.Contains(out, tc.says) || !strings.Contains(errOut, "no CloudTrail trail found in "+dir) {
				t.Errorf("%s output does not say no trail was found:\n%s\nstderr: %s", tc.format, out, errOut)
			}
			code, out, _ = cli(t, "iac", dir, "--format", tc.format, "--require-trail")
			if code != 1 || !strings.Contains(out, tc.says) {
				t.Errorf("--require-trail: exit %d, want 1, output:\n%s", code, out)
			}
		})
	}
	t.Run("json_summary_counts_trails", func(t *testing.T) {
		_, out, _ := cli(t, "iac", dir, "--format", "json")
		if n := parseIaC(t, out).Summary.TrailsFound; n == nil || *n != 0 {
			t.Errorf("trails_found = %v, want 0", n)
		}
		os.WriteFile(filepath.Join(dir, "trail.tf"), []byte(goodTrail), 0o644)
		defer os.Remove(filepath.Join(dir, "trail.tf"))
		code, out, _ := cli(t, "iac", dir, "--format", "json", "--require-trail")
		rep := parseIaC(t, out)
		if n := rep.Summary.TrailsFound; n == nil || *n != 1 || code != 0 || len(rep.Results) != 1 {
			t.Errorf("with a trail: trails_found = %v, exit %d, %d results", n, code, len(rep.Results))
		}
	})
	t.Run("cfn_param_no_template_declares", func(t *testing.T) {
		tpl := filepath.Join(t.TempDir(), "stack.yaml")
		os.WriteFile(tpl, []byte("Parameters:\n  Env: {Type: String, Default: dev}\nResources:\n  B:\n    Type: AWS::S3::Bucket\n"), 0o644)
		_, out, errOut := cli(t, "iac", tpl, "--format", "json", "--cfn-param", "Evn=prod", "--cfn-param", "Env=prod", "--cfn-param", "AWS::Region=eu-west-1")
		notices := strings.Join(parseIaC(t, out).Notices, " | ")
		if !strings.Contains(notices, "--cfn-param Evn: no CloudFormation template checked declares this parameter") || !strings.Contains(errOut, "--cfn-param Evn") {
			t.Errorf("notices %q, stderr %q: the unknown parameter Evn is not reported", notices, errOut)
		}
		if strings.Contains(notices, "--cfn-param Env") || strings.Contains(notices, "AWS::Region") {
			t.Errorf("notices %q report a parameter that is declared, or a pseudo parameter", notices)
		}
	})
	t.Run("module_only_template_is_recognised", func(t *testing.T) {
		tpl := filepath.Join(t.TempDir(), "stack.yaml")
		os.WriteFile(tpl, []byte("Resources:\n  Baseline:\n    Type: Org::Security::Baseline::MODULE\n"), 0o644)
		code, out, _ := cli(t, "iac", tpl, "--format", "json")
		rep := parseIaC(t, out)
		if code != 2 || len(rep.Results) != 2 || rep.Results[0].Resource != "Baseline" || rep.Results[0].Status != "UNKNOWN" {
			t.Errorf("exit %d, results %+v: want the module UNKNOWN (and no trail found)", code, rep.Results)
		}
	})
	t.Run("named_file_that_is_not_iac", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "notes.txt")
		os.WriteFile(f, []byte("hello"), 0o644)
		code, out, errOut := cli(t, "iac", f, "--format", "json")
		rep := parseIaC(t, out)
		if code != 0 || !strings.Contains(strings.Join(rep.Notices, " "), "notes.txt: not a Terraform plan or CloudFormation template") || !strings.Contains(errOut, "no CloudTrail trail found") {
			t.Errorf("exit %d notices %q stderr %q", code, rep.Notices, errOut)
		}
	})
}

// countdownCtx is cancelled after its Err has been asked a given number
// of times: it stops a run part way through, wherever the walk and the
// readers look at their context, without depending on timing.
type countdownCtx struct {
	context.Context
	left atomic.Int64
	once sync.Once
	done chan struct{}
}

func newCountdown(n int64) *countdownCtx {
	c := &countdownCtx{Context: context.Background(), done: make(chan struct{})}
	c.left.Store(n)
	return c
}

func (c *countdownCtx) Err() error {
	if c.left.Add(-1) < 0 {
		c.once.Do(func() { close(c.done) })
		return context.Canceled
	}
	return nil
}

func (c *countdownCtx) Done() <-chan struct{} { return c.done }

// TestIaC_interrupted: Ctrl-C or SIGTERM (a cancelled context) stops the
// walk and the readers; what finished is printed marked partial, exit 2,
// and no "no trail found" is claimed.
func TestIaC_interrupted(t *testing.T) {
	dir := t.TempDir()
	const n = 300
	for i := range n {
		src := fmt.Sprintf("Resources:\n  T%d:\n    Type: AWS::CloudTrail::Trail\n    Properties: {IsLogging: true, IsMultiRegionTrail: true}\n", i)
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("t%03d.yaml", i)), []byte(src), 0o644)
	}
	for _, tc := range []struct {
		name     string
		ctx      context.Context
		min, max int // results expected
	}{
		{"cancelled_before_start", newCountdown(0), 0, 0},
		{"cancelled_during_the_walk", newCountdown(n / 2), 0, 0},
		{"cancelled_while_checking", newCountdown(n + 40), 1, n - 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tc.ctx, []string{"iac", dir, "--format", "json"}, &stdout, &stderr)
			rep := parseIaC(t, stdout.String())
			if code != 2 || rep.Partial == nil || !strings.Contains(rep.Partial.Reason, "interrupted") {
				t.Fatalf("exit %d partial %+v, want 2 and partial", code, rep.Partial)
			}
			if len(rep.Results) < tc.min || len(rep.Results) > tc.max {
				t.Errorf("%d results, want %d to %d", len(rep.Results), tc.min, tc.max)
			}
			for _, r := range rep.Results {
				if r.Status != "PASS" {
					t.Errorf("%s: %s %q: a file stopped part way must not be reported", r.Resource, r.Status, r.Reasons)
				}
			}
			if strings.Contains(stdout.String(), "no CloudTrail trail found") || rep.Summary.TrailsFound != nil {
				t.Error("an interrupted run cannot say that no trail was found")
			}
		})
	}
}

// sigtermAt sends the process SIGTERM when its Err has been asked a given
// number of times, then waits for the signal to cancel its parent, a
// signal.NotifyContext as main makes: it proves that the signal, not only
// a cancelled context, stops the run part way.
type sigtermAt struct {
	context.Context
	left atomic.Int64
}

func (c *sigtermAt) Err() error {
	if c.left.Add(-1) == 0 {
		syscall.Kill(os.Getpid(), syscall.SIGTERM)
		<-c.Context.Done()
	}
	return c.Context.Err()
}

func TestIaC_sigterm_stops_the_run(t *testing.T) {
	dir := t.TempDir()
	const n = 300
	for i := range n {
		src := fmt.Sprintf("Resources:\n  T%d:\n    Type: AWS::CloudTrail::Trail\n    Properties: {IsLogging: true, IsMultiRegionTrail: true}\n", i)
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("t%03d.yaml", i)), []byte(src), 0o644)
	}
	parent, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx := &sigtermAt{Context: parent}
	ctx.left.Store(n + 40)
	var stdout, stderr bytes.Buffer
	code := run(ctx, []string{"iac", dir, "--format", "json"}, &stdout, &stderr)
	rep := parseIaC(t, stdout.String())
	if code != 2 || rep.Partial == nil || len(rep.Results) == 0 || len(rep.Results) >= n {
		t.Errorf("exit %d, partial %+v, %d results: want 2, partial, some but not all of %d", code, rep.Partial, len(rep.Results), n)
	}
	if !strings.Contains(stderr.String(), "interrupted") {
		t.Errorf("stderr %q does not say the run was interrupted", stderr.String())
	}
}

// TestIaC_interrupt_does_not_wait_for_a_stuck_reader: a reader that does
// not watch the context (here the Terraform reader, blocked opening a
// --var-file that is a FIFO with no writer) does not hold the report
// back once the run is interrupted.
func TestIaC_interrupt_does_not_wait_for_a_stuck_reader(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "main.tf"), []byte(goodTrail), 0o644)
	fifo := filepath.Join(t.TempDir(), "vars.tfvars")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip(err)
	}
	// Unblock whatever still waits on the FIFO when the test ends.
	t.Cleanup(func() {
		if f, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var stdout, stderr bytes.Buffer
	go func() {
		done <- run(ctx, []string{"iac", dir, "--var-file", fifo, "--format", "json"}, &stdout, &stderr)
	}()
	// Whether the reader is stuck by then or has finished (a reader that
	// skips FIFOs), the run must return.
	time.AfterFunc(200*time.Millisecond, cancel)
	select {
	case code := <-done:
		rep := parseIaC(t, stdout.String())
		if rep.Partial != nil && code != 2 {
			t.Errorf("partial run exit %d, want 2", code)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the interrupted run waits for a stuck reader")
	}
}

// TestSafe: names from the walked tree cannot drive the terminal through
// the notes iac prints itself (the escaping rule itself: iac.TestSafe).
func TestSafe(t *testing.T) {
	t.Run("note_on_a_hostile_file_name", func(t *testing.T) {
		dir := t.TempDir()
		if err := syscall.Mkfifo(filepath.Join(dir, "\x1b[2J.yaml"), 0o644); err != nil {
			t.Skip(err)
		}
		_, out, errOut := cli(t, "iac", dir, "--format", "json")
		if strings.ContainsRune(errOut, '\x1b') || !strings.Contains(errOut, `\x1b[2J.yaml: a named pipe`) {
			t.Errorf("stderr %q", errOut)
		}
		if !strings.Contains(strings.Join(parseIaC(t, out).Notices, " "), `\x1b[2J.yaml`) {
			t.Errorf("notices do not name the file escaped: %s", out)
		}
	})
}

// A module call that is not read (registry, git, missing directory) may
// declare the account's trail: iac shows it as an UNKNOWN result with file,
// line and the call, and exits 2, never 0 with silence.
func TestIaC_module_not_read_is_unknown(t *testing.T) {
	for _, c := range []struct{ name, source string }{
		{"registry_module", `"terraform-aws-modules/cloudtrail/aws"`},
		{"git_module", `"git::https://example.com/audit.git"`},
		{"missing_local_directory", `"./modules/absent"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			src := "\n\nmodule \"audit\" {\n  source = " + c.source + "\n}\n"
			if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(goodTrail+src), 0o644); err != nil {
				t.Fatal(err)
			}
			code, out, errOut := cli(t, "iac", dir, "--format", "json")
			if code != 2 {
				t.Errorf("exit %d, want 2 (stderr %q)", code, errOut)
			}
			var found bool
			for _, r := range parseIaC(t, out).Results {
				if r.Status == "UNKNOWN" && strings.Contains(r.Resource, "module.audit") {
					found = true
					if !strings.HasSuffix(r.File, "main.tf") || r.Line != 8 {
						t.Errorf("placed at %s:%d, want main.tf:8", r.File, r.Line)
					}
				}
				if r.Resource == "aws_cloudtrail.ok" && r.Status != "PASS" {
					t.Errorf("the trail beside it: %s %q", r.Status, r.Reasons)
				}
			}
			if !found {
				t.Errorf("no UNKNOWN result for module.audit:\n%s", out)
			}
		})
	}
}

// TestIaC_sarif_points_at_the_deciding_attribute: through the command
// line, a SARIF result sits on the attribute that decided it — line and
// column — not on the resource's first line.
func TestIaC_sarif_points_at_the_deciding_attribute(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "main.tf"), "resource \"aws_cloudtrail\" \"t\" {\n  name                  = \"t\"\n  is_multi_region_trail = true\n  enable_logging        = false\n}\n")
	write(t, filepath.Join(dir, "stack.yaml"), "Resources:\n  T:\n    Type: AWS::CloudTrail::Trail\n    Properties:\n      IsLogging: true\n      IsMultiRegionTrail: false\n")
	out := filepath.Join(t.TempDir(), "r.sarif")
	if code, _, errOut := cli(t, "iac", dir, "--format", "sarif", "--output", out); code != 1 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	doc, err := sarif.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]int{"main.tf": {4, 3}, "stack.yaml": {6, 7}}
	for _, r := range doc.Runs[0].Results {
		pl := r.Locations[0].PhysicalLocation
		base := filepath.Base(*pl.ArtifactLocation.URI)
		w, ok := want[base]
		if !ok {
			t.Errorf("unexpected result in %s", base)
			continue
		}
		delete(want, base)
		if pl.Region.StartColumn == nil || *pl.Region.StartLine != w[0] || *pl.Region.StartColumn != w[1] {
			t.Errorf("%s: region %+v, want line %d column %d", base, pl.Region, w[0], w[1])
		}
	}
	if len(want) != 0 {
		t.Errorf("no result for %v", want)
	}
}
