package textpos

import "testing"

func TestLineCol(t *testing.T) {
	cases := []struct {
		name      string
		data      string
		off       int64
		line, col int
	}{
		{"start_of_file", "abc\ndef", 0, 1, 1},
		{"inside_first_line", "abc\ndef", 2, 1, 3},
		{"on_the_newline", "abc\ndef", 3, 1, 4},
		{"start_of_second_line", "abc\ndef", 4, 2, 1},
		{"end_of_file", "abc\ndef", 7, 2, 4},
		{"past_the_end_is_clamped", "abc\ndef", 99, 2, 4},
		{"negative_is_clamped", "abc\ndef", -5, 1, 1},
		{"empty_file", "", 0, 1, 1},
		{"empty_lines", "\n\n\nx", 3, 4, 1},
		{"crlf_counts_lines_by_newline", "a\r\nb", 3, 2, 1},
		{"multibyte_counts_bytes", "é\nxé", 6, 2, 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			line, col := LineCol([]byte(tc.data), tc.off)
			if line != tc.line || col != tc.col {
				t.Errorf("LineCol(%q, %d) = %d:%d, want %d:%d", tc.data, tc.off, line, col, tc.line, tc.col)
			}
			if got := Line([]byte(tc.data), tc.off); got != tc.line {
				t.Errorf("Line(%q, %d) = %d, want %d", tc.data, tc.off, got, tc.line)
			}
		})
	}
}
