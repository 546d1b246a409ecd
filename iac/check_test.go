package iac

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/owenrumney/go-sarif/v2/sarif"

	"github.com/trailguard/trailguard"
	"github.com/trailguard/trailguard/report"
)

// tree writes files (path → content) under a new directory.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// placed is where a result points: its resource, and the deciding
// attribute.
type placed struct {
	status, file string
	line         int
	decided      string // file:line:column of Decided
}

// checkTree is a tree whose every result has a known place.
var checkTree = map[string]string{
	// enable_logging decides, on line 4, column 3.
	"tf/main.tf": `resource "aws_cloudtrail" "t" {
  name                  = "t"
  is_multi_region_trail = true
  enable_logging        = false
}
`,
	// IsMultiRegionTrail decides, on line 6, column 7.
	"cfn/stack.yaml": `Resources:
  Trail:
    Type: AWS::CloudTrail::Trail
    Properties:
      IsLogging: true
      IsMultiRegionTrail: false
`,
	// A parse error on line 3.
	"broken/main.tf": "resource \"aws_cloudtrail\" \"b\" {\n  name = \"b\"\n  is_multi_region_trail = = true\n}\n",
	// A duplicate key on line 4.
	"dup.yaml": "Resources:\n  T:\n    Type: AWS::CloudTrail::Trail\n  T:\n    Type: AWS::S3::Bucket\n",
	// A plan JSON syntax error on line 3.
	"plan.json": "{\"format_version\": \"1.2\",\n \"resource_changes\": [\n  {,}\n]}\n",
}

// TestCheck_places_every_result: each result names its file and line as
// data from the reader — a trail at its resource with the deciding
// attribute, a file that could not be read at the line of the error —
// never by parsing a message.
func TestCheck_places_every_result(t *testing.T) {
	dir := tree(t, checkTree)
	out, err := Check(context.Background(), []string{dir}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rel := func(p string) string {
		r, err := filepath.Rel(dir, p)
		if err != nil {
			return p
		}
		return filepath.ToSlash(r)
	}
	got := map[string]placed{}
	for _, r := range out.Results {
		d := ""
		if r.Decided != nil {
			d = fmt.Sprintf("%s:%d:%d", rel(r.Decided.File), r.Decided.Line, r.Decided.Column)
		}
		got[rel(r.File)] = placed{string(r.Status), rel(r.File), r.Line, d}
	}
	want := map[string]placed{
		"tf/main.tf":     {"FAIL", "tf/main.tf", 1, "tf/main.tf:4:3"},
		"cfn/stack.yaml": {"FAIL", "cfn/stack.yaml", 2, "cfn/stack.yaml:6:7"},
		"broken/main.tf": {"ERROR", "broken/main.tf", 3, "broken/main.tf:3:27"},
		"dup.yaml":       {"ERROR", "dup.yaml", 4, "dup.yaml:4:0"},
		"plan.json":      {"ERROR", "plan.json", 3, "plan.json:3:4"},
	}
	for f, w := range want {
		if got[f] != w {
			t.Errorf("%s: got %+v, want %+v", f, got[f], w)
		}
	}
	if len(out.Results) != len(want) || out.Trails != 2 || out.Partial != "" || out.NoTrail != "" {
		t.Errorf("%d results, %d trails, partial %q, no trail %q", len(out.Results), out.Trails, out.Partial, out.NoTrail)
	}
}

// TestCheck_sarif_points_at_the_deciding_attribute: code scanning shows
// a finding on the attribute that decided it, line and column.
func TestCheck_sarif_points_at_the_deciding_attribute(t *testing.T) {
	dir := tree(t, checkTree)
	out, err := Check(context.Background(), []string{dir}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := (report.SARIF{}).Write(&buf, report.New("test", report.Scan{Source: "iac"}, out.Results, nil)); err != nil {
		t.Fatal(err)
	}
	doc, err := sarif.FromBytes(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][2]int{}
	for _, r := range doc.Runs[0].Results {
		pl := r.Locations[0].PhysicalLocation
		col := 0
		if pl.Region.StartColumn != nil {
			col = *pl.Region.StartColumn
		}
		uri := strings.TrimPrefix(*pl.ArtifactLocation.URI, filepath.ToSlash(dir)+"/")
		got[uri] = [2]int{*pl.Region.StartLine, col}
	}
	for uri, w := range map[string][2]int{"tf/main.tf": {4, 3}, "cfn/stack.yaml": {6, 7}, "broken/main.tf": {3, 27}, "dup.yaml": {4, 0}} {
		if got[uri] != w {
			t.Errorf("%s at line, column %v, want %v (all: %v)", uri, got[uri], w, got)
		}
	}
}

func TestFileError(t *testing.T) {
	pathErr := &fs.PathError{Op: "open", Path: "infra/x.yaml", Err: fs.ErrPermission}
	for _, tc := range []struct {
		name       string
		err        error
		file, text string
		line       int
	}{
		{"position_error", trailguard.ErrorAt("main.tf", 12, "too deep"), "main.tf", "main.tf:12: too deep", 12},
		{"whole_file_is_line_one", trailguard.ErrorAt("t.yaml", 0, "too large"), "t.yaml", "t.yaml: too large", 1},
		{"wrapped_position_error", fmt.Errorf("reading: %w", trailguard.ErrorAt("a.tf", 3, "x")), "a.tf", "reading: a.tf:3: x", 3},
		{"file_system_error", pathErr, "infra/x.yaml", pathErr.Error(), 1},
		{"colons_in_a_message_are_not_parsed", errors.New("C:12: not a place"), "(unknown file)", "C:12: not a place", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := fileError(tc.err)
			if r.Status != trailguard.StatusError || r.File != tc.file || r.Line != tc.line || len(r.Reasons) != 1 || r.Reasons[0] != tc.text {
				t.Errorf("%s %s:%d %q, want ERROR %s:%d %q", r.Status, r.File, r.Line, r.Reasons, tc.file, tc.line, tc.text)
			}
		})
	}
}

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		name, file, src string
		explicit        bool
		want            kind
	}{
		{"plan_json", "plan.json", `{"format_version": "1.2", "resource_changes": []}`, false, plan},
		{"template_yaml", "t.yaml", "Resources:\n  T:\n    Type: AWS::CloudTrail::Trail\n", false, template},
		{"template_json", "t.json", `{"AWSTemplateFormatVersion": "2010-09-09"}`, false, template},
		{"package_json", "package.json", `{"name": "app"}`, false, notIaC},
		{"ci_yaml", "ci.yml", "on: push\n", false, notIaC},
		{"broken_template", "t.yaml", "AWSTemplateFormatVersion: [\n", false, broken},
		{"broken_unrelated_yaml", "x.yaml", "a: [\n", false, notIaC},
		{"broken_plan_json", "plan.json", "{\"format_version\": \"1.2\",\n {,}", false, plan},
		{"broken_template_json", "t.json", "{\"AWSTemplateFormatVersion\": [", false, broken},
		{"too_large_template", "big.yaml", "AWSTemplateFormatVersion: x\n" + strings.Repeat("#", 4<<20), false, tooLarge},
		{"too_large_named_file", "big.txt", strings.Repeat("a", 4<<20+1), true, tooLarge},
		{"too_large_unrelated", "big.yaml", strings.Repeat("a", 4<<20+1), false, notIaC},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := detect(tc.file, []byte(tc.src), tc.explicit); got != tc.want {
				t.Errorf("detect = %d, want %d", got, tc.want)
			}
		})
	}
}

// TestCheck_outcomes: what a caller (the command line, a Lambda) gets in
// the situations the report must show: code without a trail, a run
// stopped by its context, a path that does not exist, a module directory
// that cannot be read.
func TestCheck_outcomes(t *testing.T) {
	const passing = "resource \"aws_cloudtrail\" \"t\" {\n  is_multi_region_trail = true\n}\n"
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name    string
		files   map[string]string
		fifo    string // a FIFO made at this path under the tree
		ctx     context.Context
		require bool
		check   func(t *testing.T, out Outcome, err error)
	}{
		{name: "no_trail_is_a_muted_result", files: map[string]string{"main.tf": "locals { a = 1 }\n"},
			check: func(t *testing.T, out Outcome, err error) {
				if err != nil || out.NoTrail == "" || len(out.Results) != 1 || out.Results[0].Status != trailguard.StatusMuted || out.Results[0].Underlying != trailguard.StatusFail {
					t.Errorf("err %v outcome %+v", err, out)
				}
			}},
		{name: "no_trail_with_require_trail_fails", files: map[string]string{"main.tf": "locals { a = 1 }\n"}, require: true,
			check: func(t *testing.T, out Outcome, err error) {
				if err != nil || len(out.Results) != 1 || out.Results[0].Status != trailguard.StatusFail {
					t.Errorf("err %v outcome %+v", err, out)
				}
			}},
		{name: "cancelled_before_start_is_partial", files: map[string]string{"main.tf": passing}, ctx: cancelled,
			check: func(t *testing.T, out Outcome, err error) {
				if err != nil || !strings.Contains(out.Partial, "interrupted") || len(out.Results) != 0 || out.NoTrail != "" {
					t.Errorf("err %v outcome %+v: want partial, no result, no claim that no trail was found", err, out)
				}
			}},
		{name: "fifo_in_a_module_directory", files: map[string]string{"main.tf": passing}, fifo: "vars.auto.tfvars",
			check: func(t *testing.T, out Outcome, err error) {
				// The module is UNKNOWN, naming the file; the MUTED "no
				// trail found" beside it does not hide it (exit code 2).
				if err != nil || len(out.Results) != 2 || out.Results[0].Status != trailguard.StatusUnknown ||
					!strings.HasSuffix(out.Results[0].File, "vars.auto.tfvars") ||
					len(out.Notices) != 1 || !strings.Contains(out.Notices[0], "a named pipe (FIFO)") {
					t.Errorf("err %v outcome %+v: want the module UNKNOWN and a note", err, out)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := tree(t, tc.files)
			if tc.fifo != "" {
				if err := mkfifo(filepath.Join(dir, tc.fifo)); err != nil {
					t.Skip(err)
				}
			}
			ctx := tc.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			out, err := Check(ctx, []string{dir}, Options{RequireTrail: tc.require})
			tc.check(t, out, err)
		})
	}
	t.Run("path_that_does_not_exist_is_an_error", func(t *testing.T) {
		if _, err := Check(context.Background(), []string{filepath.Join(t.TempDir(), "absent")}, Options{}); err == nil {
			t.Error("no error")
		}
	})
}

// TestCheck_file_name_that_looks_like_a_position: a result is placed from
// the reader's position, so a file called "x:7: y.yaml" is named whole,
// at the line of its error, never split where its name has a colon.
func TestCheck_file_name_that_looks_like_a_position(t *testing.T) {
	for _, name := range []string{"x:7: y.yaml", "C:12:stack.yaml", "plan:3:.json"} {
		t.Run(name, func(t *testing.T) {
			src := "Resources:\n  T:\n    Type: AWS::CloudTrail::Trail\n  T:\n    Type: AWS::S3::Bucket\n"
			if strings.HasSuffix(name, ".json") {
				src = "{\"format_version\": \"1.2\",\n \"resource_changes\": [\n  {,}\n]}\n"
			}
			dir := tree(t, map[string]string{name: src})
			out, err := Check(context.Background(), []string{dir}, Options{})
			if err != nil || len(out.Results) != 2 {
				t.Fatalf("err %v results %+v", err, out.Results)
			}
			r := out.Results[0]
			wantLine := 4
			if strings.HasSuffix(name, ".json") {
				wantLine = 3
			}
			if r.Status != trailguard.StatusError || r.File != filepath.Join(dir, name) || r.Line != wantLine {
				t.Errorf("%s at %s:%d, want ERROR at %s:%d", r.Status, r.File, r.Line, filepath.Join(dir, name), wantLine)
			}
		})
	}
}
