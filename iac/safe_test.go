package iac

import "testing"

// TestSafe: names from the walked tree cannot drive the terminal through
// the notes and reasons Check writes itself.
func TestSafe(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"plain_path", "infra/stack.yaml", "infra/stack.yaml"},
		{"escape_sequence", "\x1b[2J.yaml", `\x1b[2J.yaml`},
		{"newline_forging_a_line", "a\ntrailguard: all good", `a\x0atrailguard: all good`},
		{"carriage_return", "a\rb", `a\x0db`},
		{"c1_control", "a\u009bb", `a\u009bb`},
		{"bidi_override", "a\u202eb", `a\u202eb`},
		{"invalid_utf8", "a\xffb", `a\xffb`},
		{"backslash_so_escapes_cannot_be_forged", `a\x1b`, `a\x5cx1b`},
		{"non_ascii_letters_kept", "répertoire/modèle.yaml", "répertoire/modèle.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Safe(tc.in); got != tc.want {
				t.Errorf("Safe(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
