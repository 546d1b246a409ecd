package ignore

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, text, reason string
		ok                 bool
	}{
		{"hash", "# trailguard:ignore cis-aws-3.1 reviewed by security", "reviewed by security", true},
		{"double_slash", "// trailguard:ignore cis-aws-3.1 test trail", "test trail", true},
		{"block_comment_on_one_line", "/* trailguard:ignore cis-aws-3.1 kept */", "kept", true},
		{"block_comment_middle_line", " * trailguard:ignore cis-aws-3.1 kept", "kept", true},
		{"marker_stripped_by_the_parser", "trailguard:ignore cis-aws-3.1 yaml comment", "yaml comment", true},
		{"tabs_and_trailing_space", "#\ttrailguard:ignore\tcis-aws-3.1\t reason \t", "reason", true},
		{"no_reason", "# trailguard:ignore cis-aws-3.1", "", false},
		{"no_reason_but_spaces", "# trailguard:ignore cis-aws-3.1   ", "", false},
		{"another_rule", "# trailguard:ignore cis-aws-3.10 reason", "", false},
		{"rule_prefix_only", "# trailguard:ignore cis-aws-3 reason", "", false},
		{"not_at_the_start", "# see trailguard:ignore cis-aws-3.1 reason", "", false},
		{"other_tool", "# tfsec:ignore cis-aws-3.1 reason", "", false},
		{"rule_id_dot_is_literal", "# trailguard:ignore cis-aws-301 reason", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, ok := Parse(tc.text)
			if r != tc.reason || ok != tc.ok {
				t.Errorf("Parse(%q) = %q, %v; want %q, %v", tc.text, r, ok, tc.reason, tc.ok)
			}
		})
	}
}

func TestFind(t *testing.T) {
	directive := func(line int, alone bool) Comment {
		return Comment{Line: line, Text: "# trailguard:ignore cis-aws-3.1 why", Alone: alone}
	}
	other := func(line int) Comment { return Comment{Line: line, Text: "# owner: platform", Alone: true} }
	for _, tc := range []struct {
		name     string
		comments []Comment
		line     int
		want     string
	}{
		{"right_above", []Comment{directive(9, true)}, 10, "why"},
		{"on_the_line", []Comment{directive(10, false)}, 10, "why"},
		{"top_of_a_comment_block", []Comment{directive(7, true), other(8), other(9)}, 10, "why"},
		{"blank_line_between", []Comment{directive(8, true)}, 10, ""},
		{"after_code_on_the_line_above", []Comment{directive(9, false)}, 10, ""},
		{"code_in_the_block", []Comment{directive(7, true), other(8), {Line: 9, Text: "# x", Alone: false}}, 10, ""},
		{"below_the_resource", []Comment{directive(11, true)}, 10, ""},
		{"no_comments", nil, 10, ""},
		{"first_line", []Comment{directive(1, false)}, 1, "why"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Find(tc.comments, tc.line); got != tc.want {
				t.Errorf("Find = %q, want %q", got, tc.want)
			}
		})
	}
}

// FuzzParse: any comment text parses without panicking, and a reason,
// when found, is trimmed and not empty.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"# trailguard:ignore cis-aws-3.1 reason", "/* trailguard:ignore cis-aws-3.1 x */", "*", "#", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		r, ok := Parse(text)
		if ok != (r != "") || r != strings.TrimSpace(r) {
			t.Errorf("Parse(%q) = %q, %v", text, r, ok)
		}
		Find([]Comment{{Line: 1, Text: text, Alone: true}}, 2)
	})
}
