package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestEscape(t *testing.T) {
	for _, c := range []struct {
		name, in, want, lines string
	}{
		{"plain_text_is_kept", "arn:aws:cloudtrail:us-east-1:111111111111:trail/main", "arn:aws:cloudtrail:us-east-1:111111111111:trail/main", ""},
		{"letters_and_symbols_of_any_script_are_kept", "Zürich → 東京 ✓ C:\\logs", "Zürich → 東京 ✓ C:\\logs", ""},
		{"esc_clear_screen", "\x1b[2J\x1b[HALL PASS", `\x1b[2J\x1b[HALL PASS`, ""},
		{"carriage_return_overwrites_a_line", "FAIL\rPASS", `FAIL\x0dPASS`, ""},
		{"newline_forges_a_line", "a\nSummary: 9 PASS", `a\x0aSummary: 9 PASS`, "a\nSummary: 9 PASS"},
		{"tab_shifts_columns", "a\tb", `a\x09b`, "a\tb"},
		{"nul_and_bell", "\x00\x07", `\x00\x07`, ""},
		{"del", "a\x7fb", `a\x7fb`, ""},
		{"c1_csi_as_utf8", "a\u009b31mb", `a\u009b31mb`, ""},
		{"c1_next_line", "a\u0085b", `a\u0085b`, ""},
		{"c1_csi_as_a_lone_byte", "a\x9b31mb", `a\x9b31mb`, ""},
		{"invalid_utf8", "\xff\xfe", `\xff\xfe`, ""},
		{"bidi_right_to_left_override", "txt.\u202eexe", `txt.\u202eexe`, ""},
		{"bidi_embeddings_and_pop", "\u202a\u202b\u202c\u202d", `\u202a\u202b\u202c\u202d`, ""},
		{"bidi_isolates", "\u2066\u2067\u2068\u2069", `\u2066\u2067\u2068\u2069`, ""},
		{"bidi_marks", "\u200e\u200f\u061c", `\u200e\u200f\u061c`, ""},
		{"zero_width_and_bom", "a\u200bb\ufeff", `a\u200bb\ufeff`, ""},
		{"line_and_paragraph_separators", "a\u2028b\u2029", `a\u2028b\u2029`, ""},
		{"format_character_outside_the_bmp", "a\U000e0001", `a\U000e0001`, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := Escape(c.in); got != c.want {
				t.Errorf("Escape(%q) = %q, want %q", c.in, got, c.want)
			}
			want := c.lines
			if want == "" {
				want = c.want
			}
			if got := EscapeLines(c.in); got != want {
				t.Errorf("EscapeLines(%q) = %q, want %q", c.in, got, want)
			}
		})
	}
}

// checkSafe fails when out holds anything a terminal could obey: a byte
// below 0x20 other than newline and tab (allowed only when lines), DEL, a
// C1 control, a format character (bidi overrides and isolates), a line
// separator, or bytes that are not UTF-8.
func checkSafe(t *testing.T, what string, out string, lines bool) {
	t.Helper()
	for i := 0; i < len(out); {
		r, n := utf8.DecodeRuneInString(out[i:])
		bad := ""
		switch {
		case r == utf8.RuneError && n == 1:
			bad = "invalid UTF-8"
		case (r == '\n' || r == '\t') && lines:
		case unsafeRune(r):
			bad = "control or format character"
		}
		if bad != "" {
			t.Fatalf("%s: %s %q at byte %d: …%q…", what, bad, out[i:i+n], i, out[max(i-40, 0):min(i+40, len(out))])
		}
		i += n
	}
}

// FuzzEscape: whatever the input, the output of Escape holds nothing a
// terminal would obey (no newline or tab either), EscapeLines keeps only
// newline and tab, and a string that was safe already comes back
// unchanged.
func FuzzEscape(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "hostile", "*"))
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkSafe(t, "Escape", Escape(s), false)
		checkSafe(t, "EscapeLines", EscapeLines(s), true)
		safe := utf8.ValidString(s)
		for _, r := range s {
			safe = safe && !unsafeRune(r)
		}
		if safe && Escape(s) != s {
			t.Fatalf("Escape changed the safe string %q into %q", s, Escape(s))
		}
		if strings.Count(EscapeLines(s), "\n") != strings.Count(s, "\n") {
			t.Fatalf("EscapeLines changed the number of lines of %q", s)
		}
	})
}
