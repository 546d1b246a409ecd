package terraform

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/trailguard/trailguard"
)

// TestRead_limits: hostile files (generated here, far beyond any real
// configuration) are an error naming the file, and the other files of the
// module are still read. Before the limits these inputs ended the process
// (stack overflow) or exhausted memory.
func TestRead_limits(t *testing.T) {
	deep := func(open, close string, n int) string { return strings.Repeat(open, n) + strings.Repeat(close, n) }
	cases := []struct {
		name, file, content string
		err                 string
	}{
		{"brackets_100k_deep", "deep.tf", "x = " + deep("[", "]", 100000) + "\n", "deep.tf:1: nests deeper than"},
		{"objects_100k_deep", "deep.tf", "x = " + deep("{a=", "}", 100000) + "\n", "nests deeper than"},
		{"parentheses_100k_deep", "deep.tf", "x = " + deep("(", ")", 100000) + "\n", "nests deeper than"},
		{"unary_not_100k", "deep.tf", "x = " + strings.Repeat("!", 100000) + "true\n", "nests deeper than"},
		{"unary_minus_100k", "deep.tf", "x = " + strings.Repeat("- ", 100000) + "1\n", "nests deeper than"},
		{"minus_after_a_number_100k", "deep.tf", "x = 1" + strings.Repeat("-", 100000) + "1\n", "nests deeper than"},
		{"binary_operators_100k", "deep.tf", "x = 1" + strings.Repeat(" + 1", 100000) + "\n", "nests deeper than"},
		{"index_chain_100k", "deep.tf", "x = local.a" + strings.Repeat("[local.b]", 100000) + "\n", "nests deeper than"},
		{"unary_chain_split_by_commas_inside_brackets", "deep.tf", "x = " + strings.Repeat("true ? [1, 2] : ", 100000) + "0\n", "nests deeper than"},
		{"conditional_chain_100k", "deep.tf", "x = " + strings.Repeat("true ? 1 : ", 100000) + "0\n", "nests deeper than"},
		{"template_interpolations_100k_deep", "deep.tf", "x = " + deep(`"${`, `}"`, 100000) + "\n", "nests deeper than"},
		{"heredoc_interpolations_deep", "deep.tf", "x = <<EOT\n" + deep("${[", "]}", 100000) + "\nEOT\n", "nests deeper than"},
		{"brackets_after_a_comment_that_never_ends", "deep.tf", "/* \nx = " + deep("[", "]", 100000) + "\n", "nests deeper than"},
		{"json_100k_deep", "deep.tf.json", `{"locals": {"x": ` + deep("[", "]", 100000) + `}}`, "deep.tf.json:1: nests deeper than"},
		{"json_string_template_100k_deep", "deep.tf.json", `{"locals": {"x": "` + deep("${[", "]}", 100000) + `"}}`, "a string nests deeper than"},
		{"json_escaped_template_100k_deep", "deep.tf.json", `{"locals": {"x": "\u0024\u007b` + deep("[", "]", 100000) + `}"}}`, "a string nests deeper than"},
		{"too_big", "big.tf", "# " + strings.Repeat("x", MaxFileSize) + "\n", "more than the 4194304 bytes"},
		{"json_too_many_tokens", "many.tf.json", "{\"locals\": {\"x\": [" + strings.Repeat("1 ", MaxTokens) + "]}}", "tokens"},
		{"too_many_tokens", "many.tf", "x = [" + strings.Repeat("1,", MaxTokens) + "]\n", "tokens"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeModule(t, map[string]string{tc.file: tc.content, "good.tf": passingTrail})
			m := Read(dir, Options{})
			if len(m.Errs) != 1 || !strings.Contains(m.Errs[0].Error(), tc.err) || !strings.Contains(m.Errs[0].Error(), tc.file) {
				t.Errorf("errors %.300v, want one naming %s with %q", m.Errs, tc.file, tc.err)
			}
			if len(m.Trails) != 1 || m.Trails[0].Resource != "aws_cloudtrail.t" {
				t.Errorf("the good file must still be read: %+v", m.Trails)
			}
		})
	}
}

// TestRead_within_limits: what real configurations hold passes the
// checks: brackets inside strings, comments and heredocs, a JSON policy
// in a heredoc, escapes.
func TestRead_within_limits(t *testing.T) {
	cases := []struct{ name, content string }{
		{"brackets_in_strings_and_comments", `# ]]]]] ((((( {{{{{
/* ]]]]] */
locals {
  a = "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
  b = "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
  c = "\" ${"}"} $${literal} %%{literal} \\"
}
` + passingTrail},
		{"policy_heredoc", `locals {
  policy = <<-EOT
    {"Statement": [{"Effect": "Allow", "Resource": ["${"arn"}"]}]}
    EOT
}
` + passingTrail},
		{"long_list_of_negative_numbers", "locals {\n  l = [" + strings.Repeat("-1, ", 5000) + "-1]\n  m = {\n" + strings.Repeat("    a = -1 + 2 * 3\n", 2000) + "  }\n}\n" + passingTrail},
		{"names_with_dashes_and_numbers_with_exponents", "locals {\n  a-b-c = 1e-5 + 2.5E+3 - var.x-y\n}\n" + passingTrail},
		{"many_conditionals_on_separate_lines", strings.Repeat("locals { x = true ? 1 : 0 }\n", 2000) + passingTrail},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := Read(writeModule(t, map[string]string{"main.tf": tc.content}), Options{})
			if len(m.Trails) != 1 || len(m.Unread) != 0 {
				t.Errorf("trails %+v unread %+v", m.Trails, m.Unread)
			}
			for _, e := range m.Errs {
				if strings.Contains(e.Error(), "nests deeper") || strings.Contains(e.Error(), "tokens") {
					t.Errorf("refused: %v", e)
				}
			}
		})
	}
}

// TestRead_non_regular_files: a .tf that is a FIFO or a link to a device
// is skipped with a note (an UNKNOWN result naming it), never read.
func TestRead_non_regular_files(t *testing.T) {
	cases := []struct {
		name string
		make func(path string) error
	}{
		{"fifo", func(p string) error { return syscall.Mkfifo(p, 0o644) }},
		{"symlink_to_dev_zero", func(p string) error { return os.Symlink("/dev/zero", p) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeModule(t, map[string]string{"good.tf": passingTrail})
			if err := tc.make(filepath.Join(dir, "odd.tf")); err != nil {
				t.Skip(err)
			}
			m := Read(dir, Options{})
			if len(m.Unread) != 1 || !strings.Contains(m.Unread[0].File, "odd.tf") || !strings.Contains(m.Unread[0].Reasons[0], "not a regular file") {
				t.Errorf("unread %+v", m.Unread)
			}
			if len(m.Trails) != 1 {
				t.Errorf("trails %+v", m.Trails)
			}
		})
	}
}

// TestRead_instance_limit: count beyond what the reader expands is an
// UNKNOWN result naming it, not a silent cut.
func TestRead_instance_limit(t *testing.T) {
	m := Read(writeModule(t, map[string]string{"main.tf": `resource "aws_cloudtrail" "t" {
  count                 = 100000000
  is_multi_region_trail = true
}`}), Options{})
	if len(m.Unread) != 1 || !strings.Contains(m.Unread[0].Reasons[0], "more than 10000") || m.Unread[0].Resource != "aws_cloudtrail.t" {
		t.Errorf("unread %+v trails %d", m.Unread, len(m.Trails))
	}
}

// TestRead_evaluation_limits: a small file that asks for unbounded work
// (each of these ran for minutes or exhausted memory before the reader
// metered evaluation) gives UNKNOWN for what depends on it, quickly.
func TestRead_evaluation_limits(t *testing.T) {
	list := "[" + strings.Repeat("1, ", 10000) + "1]"
	var doubling strings.Builder
	doubling.WriteString("locals {\n  d0 = \"" + strings.Repeat("x", 1000) + "\"\n")
	for i := 1; i <= 40; i++ {
		fmt.Fprintf(&doubling, "  d%d = \"${local.d%d}${local.d%d}\"\n", i, i-1, i-1)
	}
	doubling.WriteString("  x = local.d40\n}\n")
	cases := []struct {
		name, locals, unread string
	}{
		{"nested_for_expressions", "locals {\n  l = " + list + "\n  x = [for a in local.l : [for b in local.l : [a, b]]]\n}\n", "steps this reader allows"},
		{"locals_that_double", doubling.String(), ""},
		{"flatten_of_a_square", "locals {\n  l = " + list + "\n  s = [for a in local.l : local.l]\n  x = flatten(local.s)\n}\n", ""},
		{"replace_that_multiplies", "locals {\n  s = \"" + strings.Repeat("a", 100000) + "\"\n  x = replace(local.s, \"a\", local.s)\n}\n", ""},
		{"format_width", "locals {\n  x = format(\"%0999999999d\", 1)\n}\n", ""},
		{"tuple_converted_to_a_list", "locals {\n  l = [" + strings.Repeat("\"a\", ", 100000) + "\"a\"]\n  x = join(\",\", local.l)\n}\n", ""},
		{"join_of_many_copies", "locals {\n  s = \"" + strings.Repeat("a", 100000) + "\"\n  l = " + list + "\n  x = join(\",\", [for i in local.l : local.s])\n}\n", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := tc.locals + `resource "aws_cloudtrail" "t" {
  is_multi_region_trail = true
  enable_logging        = length(local.x) > 0
}
`
			m := Read(writeModule(t, map[string]string{"main.tf": src}), Options{})
			if len(m.Trails) != 1 {
				t.Fatalf("trails %+v errors %v", m.Trails, m.Errs)
			}
			if r := trailguard.EvaluateIaC(m.Trails[0], trailguard.Options{}); r.Status != trailguard.StatusUnknown {
				t.Errorf("%s %q, want UNKNOWN", r.Status, r.Reasons)
			}
			if tc.unread != "" && (len(m.Unread) != 1 || !strings.Contains(m.Unread[0].Reasons[0], tc.unread) || m.Unread[0].Line < 1) {
				t.Errorf("unread %+v, want %q", m.Unread, tc.unread)
			}
		})
	}
}

// TestRead_total_size: the files of one configuration together are
// capped too; past the cap a file is an error naming it.
func TestRead_total_size(t *testing.T) {
	files := map[string]string{"a.tf": passingTrail}
	big := "# " + strings.Repeat("x", MaxFileSize-10) + "\n"
	for i := range maxModuleBytes / MaxFileSize { // with a.tf, just over the cap
		files[fmt.Sprintf("z%02d.tf", i)] = big
	}
	m := Read(writeModule(t, files), Options{})
	if len(m.Trails) != 1 || len(m.Errs) != 1 || !strings.Contains(m.Errs[0].Error(), "z07.tf: not read: the files of this configuration exceed") {
		t.Errorf("trails %d errors %v", len(m.Trails), m.Errs)
	}
}
