package awscli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// maxDepth bounds how deeply objects and lists may nest in a document. The
// deepest real one, get-event-selectors' output, nests five levels; a
// document nested deeper is not AWS CLI output and is refused before
// anything recurses into it.
const maxDepth = 32

// Decode reads data, the JSON the AWS CLI printed, into v, a pointer to
// one of this package's types (or any struct in the same style), exactly:
// see checkExact. An error is a *DecodeError, which says where in data the
// problem is, so that the caller can name the line.
func Decode(data []byte, v any) error {
	var exact *exactError
	if err := checkExact(data, reflect.TypeOf(v)); errors.As(err, &exact) {
		return &DecodeError{Offset: exact.offset, Err: err}
	}
	err := json.Unmarshal(data, v)
	if err == nil {
		return nil
	}
	de := &DecodeError{Offset: -1, Err: err}
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
		tim *timeError
	)
	switch {
	case errors.As(err, &syn):
		// Offset is just past the byte that broke the syntax; a document
		// cut short is reported where its text ends.
		de.Offset = syn.Offset - 1
		if strings.Contains(syn.Error(), "end of JSON input") {
			de.Offset = int64(len(bytes.TrimRight(data, " \t\r\n")))
		}
		de.Err = errors.New(strings.TrimPrefix(syn.Error(), "json: "))
	case errors.As(err, &typ):
		de.Offset = typ.Offset
		de.Err = typeErr(typ)
	case errors.As(err, &tim):
		if i := bytes.Index(data, tim.raw); i >= 0 {
			de.Offset = int64(i)
		}
		de.Err = tim
	}
	return de
}

// DecodeError is a document that is not what the AWS CLI prints. Offset is
// the byte of data where the problem is, -1 when it is not at one place.
type DecodeError struct {
	Offset int64
	Err    error
}

func (e *DecodeError) Error() string { return e.Err.Error() }

func (e *DecodeError) Unwrap() error { return e.Err }

// typeErr says in JSON terms, not Go ones, what a member should have held.
func typeErr(e *json.UnmarshalTypeError) error {
	want := "another type"
	if e.Type != nil {
		t := e.Type
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch t.Kind() {
		case reflect.Bool:
			want = "true or false"
		case reflect.String:
			want = "a string"
		case reflect.Slice, reflect.Array:
			want = "a list"
		case reflect.Struct, reflect.Map:
			want = "an object"
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
			reflect.Float32, reflect.Float64:
			want = "a number"
		}
	}
	if e.Field == "" {
		return fmt.Errorf("expected %s, found %s", want, e.Value)
	}
	return fmt.Errorf("%s: expected %s, found %s", e.Field, want, e.Value)
}

// Marshal prints v as the AWS CLI prints JSON (Python's json.dumps with
// indent=4 and ensure_ascii=False): four-space indent, non-ASCII and HTML
// characters as they are, a final newline.
func Marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "    ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// checkExact holds a document to what the CLI prints, exactly. Go's
// encoding/json matches object keys to struct fields without regard to
// case and lets a repeated key overwrite the first, so {"IsLogging": false,
// "isLogging": true} would read as logging. checkExact walks the
// document's tokens first, against the shape of the value it will be
// decoded into, and refuses:
//
//   - a key repeated in one object (the CLI never prints one twice);
//   - a key that differs only in case (or Unicode folding) from a member
//     of the shape: the CLI prints member names exactly, so such a key is
//     not that member, and it is refused rather than silently dropped,
//     since it can only come from an edit;
//   - a member tagged `cli:"required"` that is missing or null: the CLI
//     always prints it, and it decides the verdict, so a default would
//     turn missing data into a verdict;
//   - nesting deeper than maxDepth.
//
// Keys the shape does not know are allowed (newer CLI versions add
// members); their values are still checked for repeated keys and depth.
// encoding/json then decodes the same bytes, and since every key left
// matches a member exactly or none at all, its case-insensitive matching
// can no longer pick a wrong one. Hand-written because no JSON library the
// module uses reports repeated keys with their position.
func checkExact(data []byte, typ reflect.Type) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	w := walker{dec: dec, data: data}
	if err := w.value(shapeOf(typ), "", 0); err != nil && err != errSyntax {
		return err
	}
	// Trailing data is a syntax error that encoding/json reports with its
	// position.
	return nil
}

// errSyntax stops the walk at a syntax error, which encoding/json then
// reports with its position.
var errSyntax = errors.New("syntax error")

// exactError is a breach of the rules of checkExact at one byte offset.
type exactError struct {
	offset int64
	msg    string
}

func (e *exactError) Error() string { return e.msg }

type walker struct {
	dec  *json.Decoder
	data []byte
}

// shape is what checkExact knows of a Go type: for structs, their members
// by exact JSON name; for lists and maps, their elements. Nil for a type
// decoded by its own UnmarshalJSON (timestamps) or a plain value.
type shape struct {
	members  map[string]*member
	elem     *shape
	isStruct bool
}

type member struct {
	name     string
	required bool
	shape    *shape
}

var unmarshaler = reflect.TypeOf((*json.Unmarshaler)(nil)).Elem()

func shapeOf(t reflect.Type) *shape {
	if t == nil {
		return nil
	}
	for {
		if t.Implements(unmarshaler) || reflect.PointerTo(t).Implements(unmarshaler) {
			return nil
		}
		if t.Kind() != reflect.Pointer {
			break
		}
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		s := &shape{isStruct: true, members: map[string]*member{}}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			s.members[name] = &member{name: name, required: f.Tag.Get("cli") == "required", shape: shapeOf(f.Type)}
		}
		return s
	case reflect.Slice, reflect.Array, reflect.Map:
		return &shape{elem: shapeOf(t.Elem())}
	}
	return nil
}

func (w *walker) fail(format string, args ...any) error {
	return &exactError{offset: w.dec.InputOffset(), msg: fmt.Sprintf(format, args...)}
}

// value checks the next value against s. where names it in errors
// ("trailList[2].IsLogging"); depth counts the enclosing objects and lists.
func (w *walker) value(s *shape, where string, depth int) error {
	tok, err := w.dec.Token()
	if err != nil {
		return errSyntax
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	if depth+1 > maxDepth {
		return w.fail("nested more than %d levels deep: not AWS CLI output", maxDepth)
	}
	var elem *shape
	if s != nil {
		elem = s.elem
	}
	switch d {
	case '[':
		for i := 0; w.dec.More(); i++ {
			if err := w.value(elem, fmt.Sprintf("%s[%d]", where, i), depth+1); err != nil {
				return err
			}
		}
		if _, err := w.dec.Token(); err != nil {
			return errSyntax
		}
		return nil
	case '{':
		return w.object(s, where, depth)
	}
	return nil
}

func (w *walker) object(s *shape, where string, depth int) error {
	seen := map[string]bool{}
	present := map[string]bool{}
	for w.dec.More() {
		tok, err := w.dec.Token()
		if err != nil {
			return errSyntax
		}
		key, _ := tok.(string)
		path := printable(key)
		if where != "" {
			path = where + "." + printable(key)
		}
		if seen[key] {
			return w.fail("duplicate key: %s appears twice: the AWS CLI prints each member once", path)
		}
		seen[key] = true
		var next *shape
		var m *member
		if s != nil && s.isStruct {
			m = s.members[key]
			if m == nil {
				for name := range s.members {
					if strings.EqualFold(name, key) {
						return w.fail("key %s is not %s (keys are case-sensitive, and a key in another case is no member but a near-duplicate): the AWS CLI prints member names exactly", path, joinPath(where, name))
					}
				}
			} else {
				next = m.shape
			}
		} else if s != nil {
			next = s.elem
		}
		// Null is told from a value by peeking at the raw token.
		if m != nil && m.required {
			raw := w.peekNull()
			present[key] = !raw
		}
		if err := w.value(next, path, depth+1); err != nil {
			return err
		}
	}
	if _, err := w.dec.Token(); err != nil {
		return errSyntax
	}
	if s != nil && s.isStruct {
		var missing []string
		for name, m := range s.members {
			if m.required && !present[name] {
				missing = append(missing, joinPath(where, name))
			}
		}
		if len(missing) > 0 {
			sort.Strings(missing)
			return w.fail("%s missing or null: the AWS CLI always prints it and the verdict depends on it", strings.Join(missing, ", "))
		}
	}
	return nil
}

// peekNull reports whether the next value is the literal null, without
// consuming it.
func (w *walker) peekNull() bool {
	off := w.dec.InputOffset()
	if off < 0 || off > int64(len(w.data)) {
		return false
	}
	rest := bytes.TrimLeft(w.data[off:], " \t\r\n:")
	return bytes.HasPrefix(rest, []byte("null"))
}

// printable returns a key from the file as it may be shown in a reason:
// as is when it is plain text, else quoted with its control characters
// escaped, so that a file never writes to the terminal through an error.
func printable(key string) string {
	for _, r := range key {
		if !unicode.IsPrint(r) {
			return strconv.Quote(key)
		}
	}
	return key
}

func joinPath(where, name string) string {
	if where == "" {
		return name
	}
	return where + "." + name
}
