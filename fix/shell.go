package fix

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// sh quotes one value for the shell, so that a printed command runs as
// printed whatever the value holds: a bucket, trail name or policy read
// from an account is input, and must never end the quoting, start a
// command or reach the terminal as a control sequence. Printable text is
// single-quoted (a ' inside becomes '\”); text with control characters,
// invalid UTF-8 or invisible formatting runes uses bash's $'...' quoting
// with every such byte as \xHH. Hand-written because the standard
// library has no shell quoting and the rule is this short.
func sh(s string) string {
	plain := true
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsPrint(r) && r != ' ' {
			plain = false
			break
		}
	}
	if plain {
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	var b strings.Builder
	b.WriteString("$'")
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '\\' || r == '\'':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == utf8.RuneError || !unicode.IsPrint(r) && r != ' ':
			for _, c := range []byte(s[i : i+n]) {
				b.WriteString(`\x`)
				b.WriteByte("0123456789abcdef"[c>>4])
				b.WriteByte("0123456789abcdef"[c&15])
			}
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	b.WriteByte('\'')
	return b.String()
}
