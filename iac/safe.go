package iac

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Safe escapes what a terminal would act on in a name that comes from the
// files walked (control characters, bidirectional overrides, invalid
// UTF-8), for the notes and reasons Check writes itself: a file called
// "\x1b[2J.yaml" is printed as such, not obeyed. A backslash is escaped
// too, so that a name cannot forge an escape. (report.Escape keeps
// backslashes, as the values it escapes are not names a person compares
// with a listing.)
func Safe(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unicode.IsControl(r), unicode.Is(unicode.Bidi_Control, r), r == '\\':
			if r < 0x80 {
				fmt.Fprintf(&b, `\x%02x`, r)
			} else {
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
