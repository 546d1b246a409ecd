package report

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Escape makes a string from input safe to show a person, on one line.
//
// Principle 5 of the project: input never controls the terminal, the
// spreadsheet or the process. Every byte the tool shows may come from
// somewhere hostile — a trail name, an ARN, an account name from
// Organizations, an AWS error message, a file's contents or path, a mute
// reason — and a terminal obeys control sequences wherever they appear:
// ESC can clear the screen and paint a green "ALL PASS", a carriage
// return overwrites the verdict, a bidi override (U+202E) reorders what
// the reader sees. So every human-facing writer passes what it shows
// through this one function, at the rendering boundary; the data model
// and the JSON output keep the exact values.
//
// Escape shows, visibly, every character that is not text:
//   - C0 controls (newline and tab included: a newline could forge a
//     report line, a tab shifts table columns), DEL and C1 controls
//     (U+0080–U+009F) as \xNN or \u00NN;
//   - format characters (Unicode Cf: the bidi embeddings, overrides and
//     isolates U+202A–U+202E and U+2066–U+2069, the bidi marks, zero-width
//     characters) and the line and paragraph separators, as \uNNNN;
//   - bytes that are not UTF-8, as \xNN: a lone 0x9B is CSI to a terminal
//     that reads 8-bit controls.
//
// Everything else, backslashes included, is kept as it is so that names
// and paths stay readable.
func Escape(s string) string {
	return escape(s, false)
}

// EscapeLines is Escape for free text that spans lines (an error or a
// warning on standard error): newline and tab are kept, every other
// control is shown escaped.
func EscapeLines(s string) string {
	return escape(s, true)
}

// unsafeRune reports whether a terminal or a text renderer could treat r
// as something other than a character to print.
func unsafeRune(r rune) bool {
	switch {
	case r < 0x20 || r == 0x7f:
		return true
	case r < 0x80:
		return false // printable ASCII: the common case, without table look-ups
	}
	return unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Zl, r) || unicode.Is(unicode.Zp, r)
}

func escape(s string, keepLayout bool) string {
	clean := true
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n == 1) || (unsafeRune(r) && !(keepLayout && (r == '\n' || r == '\t'))) {
			clean = false
			break
		}
		i += n
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case keepLayout && (r == '\n' || r == '\t'):
			b.WriteRune(r)
		case r < 0x80 && unsafeRune(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r) && r <= 0xFFFF:
			fmt.Fprintf(&b, `\u%04x`, r)
		case unsafeRune(r):
			fmt.Fprintf(&b, `\U%08x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// escapedCopy returns a deep copy of r in which every string reachable
// from it (fields, slice elements, map keys and values, through
// pointers) has been passed through esc. A human-facing writer renders
// the copy, so no field — including one added to the model later — can
// reach the output unescaped, and the caller's report is not changed.
func escapedCopy(r *Report, esc func(string) string) *Report {
	v := reflect.ValueOf(r).Elem()
	out := reflect.New(v.Type())
	out.Elem().Set(deepEscape(v, esc))
	return out.Interface().(*Report)
}

func deepEscape(v reflect.Value, esc func(string) string) reflect.Value {
	switch v.Kind() {
	case reflect.String:
		out := reflect.New(v.Type()).Elem()
		out.SetString(esc(v.String()))
		return out
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		out := reflect.New(v.Type().Elem())
		out.Elem().Set(deepEscape(v.Elem(), esc))
		return out
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			out.Index(i).Set(deepEscape(v.Index(i), esc))
		}
		return out
	case reflect.Array:
		out := reflect.New(v.Type()).Elem()
		for i := range v.Len() {
			out.Index(i).Set(deepEscape(v.Index(i), esc))
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeMapWithSize(v.Type(), v.Len())
		for it := v.MapRange(); it.Next(); {
			out.SetMapIndex(deepEscape(it.Key(), esc), deepEscape(it.Value(), esc))
		}
		return out
	case reflect.Struct:
		out := reflect.New(v.Type()).Elem()
		out.Set(v) // unexported fields (a time's location) are copied as they are
		for i := range v.NumField() {
			if out.Field(i).CanSet() {
				out.Field(i).Set(deepEscape(v.Field(i), esc))
			}
		}
		return out
	case reflect.Interface:
		if v.IsNil() {
			return v
		}
		out := reflect.New(v.Type()).Elem()
		out.Set(deepEscape(v.Elem(), esc))
		return out
	}
	return v
}

// jsonTerminalSafe rewrites, in encoded JSON, every character that
// Escape would show escaped as a JSON \u escape. encoding/json already
// escapes C0 controls and replaces invalid UTF-8, but writes DEL, the C1
// controls and bidi overrides as they are; as \u escapes they decode to
// the exact same value and cannot act on a terminal that shows the file.
// Outside strings JSON holds only ASCII punctuation, digits and letters,
// so the rewrite never touches structure.
func jsonTerminalSafe(b []byte) []byte {
	var out bytes.Buffer
	out.Grow(len(b))
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if unsafeRune(r) && r != '\n' && r != '\t' && r != '\r' {
			if r > 0xFFFF {
				hi, lo := utf16.EncodeRune(r)
				fmt.Fprintf(&out, `\u%04x\u%04x`, hi, lo)
			} else {
				fmt.Fprintf(&out, `\u%04x`, r)
			}
		} else {
			out.Write(b[i : i+n])
		}
		i += n
	}
	return out.Bytes()
}

// JSONTerminalSafe is jsonTerminalSafe for the commands that encode their
// own JSON (validate-logs), so that theirs is as safe to show.
func JSONTerminalSafe(b []byte) []byte { return jsonTerminalSafe(b) }
