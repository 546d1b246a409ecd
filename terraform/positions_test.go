package terraform

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailguard/trailguard"
)

// TestRead_positions: each trail carries where its deciding attributes
// are written (file, line, column), so that a report points at the one
// that decided the verdict; an attribute that is not written has no
// position (its default decides) and the verdict points at the resource.
// The adapted trail is checked beside the verdict, so that a reader bug
// and an evaluator bug look different.
func TestRead_positions(t *testing.T) {
	type pos struct {
		file      string
		line, col int
	}
	cases := []struct {
		name    string
		files   map[string]string
		multi   bool           // the adapted trail's IsMultiRegion
		logging bool           // the adapted trail's logging state
		want    map[string]pos // IaCPositions field → position; missing: zero
		status  string
		decided pos
	}{
		{
			name: "every_deciding_attribute_written",
			files: map[string]string{"main.tf": `resource "aws_cloudtrail" "t" {
  name                  = "t"
  is_multi_region_trail = true
  enable_logging        = false
  include_global_service_events = true
  event_selector {
    read_write_type = "All"
  }
}
`},
			multi: true, logging: false,
			want: map[string]pos{"Resource": {"main.tf", 1, 1}, "MultiRegion": {"main.tf", 3, 3}, "Logging": {"main.tf", 4, 3},
				"GlobalEvents": {"main.tf", 5, 3}, "Selectors": {"main.tf", 6, 3}},
			status: "FAIL", decided: pos{"main.tf", 4, 3},
		},
		{
			name: "multi_region_left_to_its_default",
			files: map[string]string{"main.tf": `

  resource "aws_cloudtrail" "t" {
    name = "t"
  }
`},
			multi: false, logging: true,
			want:   map[string]pos{"Resource": {"main.tf", 3, 3}},
			status: "FAIL", decided: pos{"main.tf", 3, 3},
		},
		{
			name: "single_region_written_false",
			files: map[string]string{"main.tf": `resource "aws_cloudtrail" "t" {
  name = "t"
    is_multi_region_trail = false
}
`},
			multi: false, logging: true,
			want:   map[string]pos{"Resource": {"main.tf", 1, 1}, "MultiRegion": {"main.tf", 3, 5}},
			status: "FAIL", decided: pos{"main.tf", 3, 5},
		},
		{
			name: "selector_decides",
			files: map[string]string{"main.tf": `resource "aws_cloudtrail" "t" {
  is_multi_region_trail = true
  advanced_event_selector {
    field_selector {
      field  = "eventCategory"
      equals = ["Data"]
    }
  }
}
`},
			multi: true, logging: true,
			want:   map[string]pos{"Resource": {"main.tf", 1, 1}, "MultiRegion": {"main.tf", 2, 3}, "Selectors": {"main.tf", 3, 3}},
			status: "FAIL", decided: pos{"main.tf", 3, 3},
		},
		{
			name: "unknown_logging_points_at_enable_logging",
			files: map[string]string{"main.tf": `variable "on" {}
resource "aws_cloudtrail" "t" {
  is_multi_region_trail = true
  enable_logging = var.on
}
`},
			multi: true, logging: true,
			want:   map[string]pos{"Resource": {"main.tf", 2, 1}, "MultiRegion": {"main.tf", 3, 3}, "Logging": {"main.tf", 4, 3}},
			status: "UNKNOWN", decided: pos{"main.tf", 4, 3},
		},
		{
			name: "override_file_sets_the_deciding_attribute",
			files: map[string]string{
				"main.tf": `resource "aws_cloudtrail" "t" {
  is_multi_region_trail = true
}
`,
				"override.tf": `resource "aws_cloudtrail" "t" {
  is_multi_region_trail = false
}
`},
			multi: false, logging: true,
			want:   map[string]pos{"Resource": {"main.tf", 1, 1}, "MultiRegion": {"override.tf", 2, 3}},
			status: "FAIL", decided: pos{"override.tf", 2, 3},
		},
		{
			name: "local_module_positions_in_the_module_file",
			files: map[string]string{
				"main.tf": `module "audit" {
  source = "./audit"
}
`,
				"audit/trail.tf": `resource "aws_cloudtrail" "t" {
  is_multi_region_trail = true
  enable_logging = false
}
`},
			multi: true, logging: false,
			want:   map[string]pos{"Resource": {"audit/trail.tf", 1, 1}, "MultiRegion": {"audit/trail.tf", 2, 3}, "Logging": {"audit/trail.tf", 3, 3}},
			status: "FAIL", decided: pos{"audit/trail.tf", 3, 3},
		},
		{
			name: "count_zero_decides",
			files: map[string]string{"main.tf": `resource "aws_cloudtrail" "t" {
  is_multi_region_trail = true
  count = 0
}
`},
			multi: true, logging: true,
			want:   map[string]pos{"Resource": {"main.tf", 1, 1}, "MultiRegion": {"main.tf", 2, 3}, "Exists": {"main.tf", 3, 3}},
			status: "FAIL", decided: pos{"main.tf", 3, 3},
		},
		{
			name: "unknown_for_each_decides",
			files: map[string]string{"main.tf": `variable "names" {}
resource "aws_cloudtrail" "t" {
  for_each = var.names
  is_multi_region_trail = true
}
`},
			multi: true, logging: true,
			want:   map[string]pos{"Resource": {"main.tf", 2, 1}, "MultiRegion": {"main.tf", 4, 3}, "Exists": {"main.tf", 3, 3}},
			status: "UNKNOWN", decided: pos{"main.tf", 3, 3},
		},
		{
			name: "false_precondition_decides",
			files: map[string]string{"main.tf": `resource "aws_cloudtrail" "t" {
  is_multi_region_trail = true
  lifecycle {
    precondition {
      condition     = 1 == 2
      error_message = "no"
    }
  }
}
`},
			multi: true, logging: true,
			want:   map[string]pos{"Resource": {"main.tf", 1, 1}, "MultiRegion": {"main.tf", 2, 3}, "Exists": {"main.tf", 5, 7}},
			status: "FAIL", decided: pos{"main.tf", 5, 7},
		},
		{
			name: "unknown_global_service_events_decide_existence",
			files: map[string]string{"main.tf": `variable "g" {}
resource "aws_cloudtrail" "t" {
  is_multi_region_trail = true
  include_global_service_events = var.g
}
`},
			multi: true, logging: true,
			want: map[string]pos{"Resource": {"main.tf", 2, 1}, "MultiRegion": {"main.tf", 3, 3},
				"GlobalEvents": {"main.tf", 4, 3}, "Exists": {"main.tf", 4, 3}},
			status: "UNKNOWN", decided: pos{"main.tf", 4, 3},
		},
		{
			name: "json_configuration",
			files: map[string]string{"main.tf.json": `{"resource": {"aws_cloudtrail": {"t": {
  "is_multi_region_trail": true,
  "enable_logging": false
}}}}
`},
			multi: true, logging: false,
			want:   map[string]pos{"MultiRegion": {"main.tf.json", 2, 3}, "Logging": {"main.tf.json", 3, 3}},
			status: "FAIL", decided: pos{"main.tf.json", 3, 3},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeModule(t, tc.files)
			m := Read(dir, Options{})
			if len(m.Trails) != 1 || len(m.Errs) != 0 {
				t.Fatalf("trails %+v errors %v", m.Trails, m.Errs)
			}
			tr := m.Trails[0]
			if tr.Trail.IsMultiRegion != tc.multi || tr.Trail.Status == nil || tr.Trail.Status.IsLogging != tc.logging {
				t.Errorf("adapted trail: multi-region %v logging %+v, want %v %v", tr.Trail.IsMultiRegion, tr.Trail.Status, tc.multi, tc.logging)
			}
			rel := func(p trailguard.Position) pos {
				if p.IsZero() {
					return pos{}
				}
				r, err := filepath.Rel(dir, p.File)
				if err != nil {
					t.Fatal(err)
				}
				return pos{filepath.ToSlash(r), p.Line, p.Column}
			}
			got := map[string]trailguard.Position{"Resource": tr.Positions.Resource, "MultiRegion": tr.Positions.MultiRegion,
				"Logging": tr.Positions.Logging, "GlobalEvents": tr.Positions.GlobalEvents, "Selectors": tr.Positions.Selectors,
				"Exists": tr.Positions.Exists}
			for field, p := range got {
				if w := tc.want[field]; rel(p) != w {
					if field == "Resource" && w == (pos{}) {
						continue // not asserted
					}
					t.Errorf("%s at %+v, want %+v", field, rel(p), w)
				}
			}
			res := trailguard.EvaluateIaC(tr, trailguard.Options{})
			if string(res.Status) != tc.status {
				t.Errorf("verdict %s %q, want %s", res.Status, res.Reasons, tc.status)
			}
			if res.Decided == nil || rel(*res.Decided) != tc.decided {
				t.Errorf("decided at %+v, want %+v", res.Decided, tc.decided)
			}
		})
	}
}

// TestRead_ignore_comments: a trailguard:ignore directive mutes the
// resource only when it is a comment, as the HCL lexer reads it, on the
// resource's line or in the comment lines right above it.
func TestRead_ignore_comments(t *testing.T) {
	const trail = "resource \"aws_cloudtrail\" \"t\" {\n  name = \"t\"\n}\n"
	for _, tc := range []struct {
		name, src, want string
	}{
		{"hash_comment_above", "# trailguard:ignore cis-aws-3.1 reviewed\n" + trail, "reviewed"},
		{"slash_comment_above_other_comments", "// trailguard:ignore cis-aws-3.1 regional test trail\n// owner: platform\n" + trail, "regional test trail"},
		{"block_comment_above", "/*\n * trailguard:ignore cis-aws-3.1 kept for a test\n */\n" + trail, "kept for a test"},
		{"comment_on_the_resource_line", "resource \"aws_cloudtrail\" \"t\" { # trailguard:ignore cis-aws-3.1 inline\n  name = \"t\"\n}\n", "inline"},
		{"blank_line_ends_the_block", "# trailguard:ignore cis-aws-3.1 too far\n\n" + trail, ""},
		{"code_between", "# trailguard:ignore cis-aws-3.1 for the local\nlocals { x = 1 }\n" + trail, ""},
		{"heredoc_text_is_not_a_comment", "locals {\n  doc = <<EOT\n# trailguard:ignore cis-aws-3.1 forged\nEOT\n}\n" + trail, ""},
		{"heredoc_line_right_above", "locals {\n  doc = <<EOT\nx\n# trailguard:ignore cis-aws-3.1 forged\nEOT\n}\n" + trail, ""},
		{"string_on_the_resource_line", "resource \"aws_cloudtrail\" \"t\" { name = \"# trailguard:ignore cis-aws-3.1 forged\" }\n", ""},
		{"another_rule", "# trailguard:ignore cis-aws-3.2 other control\n" + trail, ""},
		{"no_reason", "# trailguard:ignore cis-aws-3.1\n" + trail, ""},
		{"directive_not_at_the_comment_start", "# see trailguard:ignore cis-aws-3.1 docs\n" + trail, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := Read(writeModule(t, map[string]string{"main.tf": tc.src}), Options{})
			if len(m.Trails) != 1 || len(m.Errs) != 0 {
				t.Fatalf("trails %+v errors %v", m.Trails, m.Errs)
			}
			if got := m.Trails[0].Ignore; got != tc.want {
				t.Errorf("ignore %q, want %q", got, tc.want)
			}
		})
	}
}

// TestRead_errors_are_placed: every file the reader cannot take is an
// error that carries its file and line as data (trailguard.PositionError),
// the message starting with them.
func TestRead_errors_are_placed(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		opts  func(dir string) Options
		file  string // relative to the module
		line  int
	}{
		{name: "syntax_error", files: map[string]string{"main.tf": "locals {\n  a = 1\n  b = = 2\n}\n"}, file: "main.tf", line: 3},
		{name: "duplicate_resource", files: map[string]string{"a.tf": passingTrail, "b.tf": "\n\n" + passingTrail}, file: "b.tf", line: 4},
		{name: "override_of_nothing", files: map[string]string{"main.tf": passingTrail, "x_override.tf": "\nresource \"aws_cloudtrail\" \"u\" {}\n"}, file: "x_override.tf", line: 2},
		{name: "nesting_too_deep", files: map[string]string{"main.tf": "\nlocals {\n  x = " + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + "\n}\n"}, file: "main.tf", line: 3},
		{name: "json_syntax_error", files: map[string]string{"main.tf.json": "{\n\"locals\": {\n \"a\": ,\n}}"}, file: "main.tf.json", line: 3},
		{name: "missing_var_file", files: map[string]string{"main.tf": passingTrail},
			opts: func(dir string) Options { return Options{VarFiles: []string{filepath.Join(dir, "absent.tfvars")}} }, file: "absent.tfvars", line: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeModule(t, tc.files)
			o := Options{}
			if tc.opts != nil {
				o = tc.opts(dir)
			}
			m := Read(dir, o)
			if len(m.Errs) == 0 {
				t.Fatalf("no error; trails %+v", m.Trails)
			}
			var pe *trailguard.PositionError
			err := m.Errs[0]
			want := filepath.Join(dir, tc.file)
			if !errors.As(err, &pe) || pe.Pos.File != want || pe.Pos.Line != tc.line || !strings.HasPrefix(err.Error(), pe.Pos.String()+": ") {
				t.Errorf("error %q at %+v, want one at %s:%d", err, pe, want, tc.line)
			}
		})
	}
}
