package terraform

import (
	"bytes"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// scanner follows the states of HCL's own lexer (hclsyntax
// scan_tokens.rl: code, quoted template, heredoc template, with its
// brace counting that decides where an interpolation ends) closely
// enough to measure nesting without building tokens. It is hand-written
// because neither hclsyntax nor encoding/json offers a depth limit, and
// lexing with hclsyntax.LexConfig first would itself hold every token.
// Where it cannot be exact it counts more, never less: a deeper count
// only refuses a file, a shallower one could let the parser overflow.
type scanner struct {
	src  []byte
	i    int
	line int

	modes     []byte // call stack of template modes: 's' quoted, 'h' heredoc, 'c' code inside one
	markers   [][]byte
	startLine []bool // heredoc: at the start of a line
	braces    int
	retBraces []int
	paren     int
	brack     int
	tokens    int

	// Operators nest the syntax tree without brackets: a unary operator
	// or a conditional is parsed recursively, a chain of binary operators
	// or of index and splat suffixes builds a tree as deep as the chain,
	// which evaluation then walks recursively. levels holds, for every
	// open bracket, brace, parenthesis or interpolation, the operators of
	// the element being read there (a comma ends an element, and a
	// newline does in a block or object body); chain is their sum.
	levels []level
	chain  int
}

// level is one open bracket and the operators of its current element.
type level struct {
	kind byte // '(', '[', '{' (braces and interpolations)
	ops  int
}

var errTooDeep = fmt.Errorf("nests deeper than %d levels (brackets, templates or chained operators); not read", MaxNesting)

var errTooManyTokens = fmt.Errorf("holds more than %d tokens; not read", MaxTokens)

func (s *scanner) depth() int { return s.braces + s.paren + s.brack + len(s.modes) }

func (s *scanner) token() error {
	s.tokens++
	if s.tokens > MaxTokens {
		return errTooManyTokens
	}
	if s.depth() > MaxNesting || s.chain > MaxNesting || len(s.levels) > 4*MaxNesting {
		return errTooDeep
	}
	return nil
}

func (s *scanner) openLevel(kind byte) { s.levels = append(s.levels, level{kind: kind}) }

func (s *scanner) closeLevel() {
	if n := len(s.levels); n > 0 {
		s.chain -= s.levels[n-1].ops
		s.levels = s.levels[:n-1]
	}
}

// endElement resets the operators of the current element.
func (s *scanner) endElement() {
	if n := len(s.levels); n > 0 {
		s.chain -= s.levels[n-1].ops
		s.levels[n-1].ops = 0
	} else {
		s.chain = 0
	}
}

func (s *scanner) op() {
	s.chain++
	if n := len(s.levels); n > 0 {
		s.levels[n-1].ops++
	}
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '-' || c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

// scan runs over the source; template starts in a bare template (the
// content of a JSON string) rather than in code.
func (s *scanner) scan(template bool) error {
	s.line = 1
	if template {
		s.modes = append(s.modes, 'b')
		s.markers = append(s.markers, nil)
		s.startLine = append(s.startLine, false)
	}
	for s.i < len(s.src) {
		var err error
		mode := byte('m')
		if n := len(s.modes); n > 0 {
			mode = s.modes[n-1]
		}
		switch mode {
		case 'm', 'c':
			err = s.code()
		case 's':
			err = s.quoted()
		case 'h', 'b':
			err = s.heredoc(mode == 'b')
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *scanner) push(mode byte, marker []byte) error {
	s.modes = append(s.modes, mode)
	s.markers = append(s.markers, marker)
	s.startLine = append(s.startLine, mode == 'h')
	return s.token()
}

func (s *scanner) pop() {
	n := len(s.modes) - 1
	s.modes, s.markers, s.startLine = s.modes[:n], s.markers[:n], s.startLine[:n]
}

// interp opens ${ or %{ (with an optional ~) from a template.
func (s *scanner) interp() error {
	s.i += 2
	if s.i < len(s.src) && s.src[s.i] == '~' {
		s.i++
	}
	s.braces++
	s.retBraces = append(s.retBraces, s.braces)
	s.openLevel('{')
	if n := len(s.startLine); n > 0 {
		s.startLine[n-1] = false
	}
	return s.push('c', nil)
}

func (s *scanner) code() error {
	c := s.src[s.i]
	next := byte(0)
	if s.i+1 < len(s.src) {
		next = s.src[s.i+1]
	}
	// The last byte that is not a space: after an operand, [ is an index
	// and - is binary.
	prev := byte(0)
	for j := s.i - 1; j >= 0 && j >= s.i-64; j-- {
		if b := s.src[j]; b != ' ' && b != '\t' && b != '\r' {
			prev = b
			break
		}
	}
	afterOperand := isIdentByte(prev) || prev == ']' || prev == ')' || prev == '}' || prev == '"'
	switch {
	case c == '\n':
		s.line++
		s.i++
		if n := len(s.levels); n == 0 || s.levels[n-1].kind == '{' {
			s.endElement() // a newline ends an attribute or an object element
		}
		return s.token()
	case c == ' ' || c == '\t' || c == '\r':
		s.i++
		return nil
	case c == '#' || (c == '/' && next == '/'):
		for s.i < len(s.src) && s.src[s.i] != '\n' {
			s.i++
		}
		return s.token()
	case c == '/' && next == '*':
		end := bytes.Index(s.src[s.i+2:], []byte("*/"))
		if end < 0 {
			// Unterminated: the lexer reads on as code, and so do we.
			s.i++
			s.op()
			return s.token()
		}
		s.line += bytes.Count(s.src[s.i:s.i+2+end], []byte("\n"))
		s.i += 2 + end + 2
		return s.token()
	case c == '"':
		s.i++
		return s.push('s', nil)
	case c == '<' && next == '<':
		if marker, n := heredocIntro(s.src[s.i:]); n > 0 {
			s.i += n
			s.line++
			return s.push('h', marker)
		}
		s.i += 2
		s.op()
		return s.token()
	case c == '{':
		s.i++
		s.braces++
		s.openLevel('{')
		return s.token()
	case c == '}' || (c == '~' && next == '}'):
		if c == '~' {
			s.i++
		}
		s.i++
		s.closeLevel()
		if n := len(s.retBraces); n > 0 && s.retBraces[n-1] == s.braces {
			s.retBraces = s.retBraces[:n-1]
			s.braces--
			if len(s.modes) > 0 {
				s.pop()
			}
			return s.token()
		}
		if c == '~' {
			// As the lexer: ~} always ends a template sequence.
			s.braces--
			return s.token()
		}
		if s.braces > 0 {
			s.braces--
		}
		return s.token()
	case c == '(':
		s.paren++
		s.openLevel('(')
	case c == ')':
		if s.paren > 0 {
			s.paren--
		}
		s.closeLevel()
	case c == '[':
		if afterOperand {
			s.op() // an index or a splat: one more suffix in a chain
		}
		s.brack++
		s.openLevel('[')
	case c == ']':
		if s.brack > 0 {
			s.brack--
		}
		s.closeLevel()
	case c == ',':
		s.endElement()
	case c >= '0' && c <= '9':
		// A number, as the lexer reads it: digits, a fraction, an
		// exponent. What follows (1----2) is operators, not a name.
		s.i = numberEnd(s.src, s.i)
		return s.token()
	case c == '_' || c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'):
		// A name: dashes inside it are part of it (a-b).
		for s.i < len(s.src) && isIdentByte(s.src[s.i]) {
			s.i++
		}
		return s.token()
	case strings.IndexByte("?!-+*/%<>=&|.", c) >= 0:
		s.op()
	}
	s.i++
	return s.token()
}

// numberEnd is the end of the number literal at i.
func numberEnd(b []byte, i int) int {
	digits := func(i int) int {
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i
	}
	i = digits(i)
	if i+1 < len(b) && b[i] == '.' && b[i+1] >= '0' && b[i+1] <= '9' {
		i = digits(i + 1)
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		j := i + 1
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		if j < len(b) && b[j] >= '0' && b[j] <= '9' {
			i = digits(j)
		}
	}
	return i
}

// heredocIntro matches <<ID or <<-ID followed by a newline, as the
// lexer's BeginHeredocTmpl, and returns the marker and the length.
func heredocIntro(b []byte) ([]byte, int) {
	i := 2
	if i < len(b) && b[i] == '-' {
		i++
	}
	start := i
	// Ident as the lexer has it: (ID_Start | '_') (ID_Continue | '-')*.
	for first := true; i < len(b); first = false {
		r, size := utf8.DecodeRune(b[i:])
		ok := r == '_' || unicode.IsLetter(r) || unicode.Is(unicode.Nl, r)
		if !first {
			ok = ok || r == '-' || unicode.In(r, unicode.Nd, unicode.Mn, unicode.Mc, unicode.Pc)
		}
		if !ok || r == utf8.RuneError {
			break
		}
		i += size
	}
	if i == start {
		return nil, 0
	}
	end := i
	if i < len(b) && b[i] == '\r' {
		i++
	}
	if i < len(b) && b[i] == '\n' {
		return b[start:end], i + 1
	}
	return nil, 0
}

// templateEscape handles $ and % in a template: ${ and %{ open an
// interpolation, $${ and %%{ are literal.
func (s *scanner) templateEscape() (bool, error) {
	c := s.src[s.i]
	if c != '$' && c != '%' {
		return false, nil
	}
	if s.i+1 < len(s.src) && s.src[s.i+1] == '{' {
		return true, s.interp()
	}
	if s.i+2 < len(s.src) && s.src[s.i+1] == c && s.src[s.i+2] == '{' {
		s.i += 3
		return true, s.token()
	}
	s.i++
	return true, s.token()
}

func (s *scanner) quoted() error {
	c := s.src[s.i]
	switch {
	case c == '"':
		s.i++
		s.pop()
		return s.token()
	case c == '\\':
		s.i++
		if s.i < len(s.src) && s.src[s.i] != '\n' && s.src[s.i] != '\r' {
			s.i++
		}
		return nil
	case c == '\n':
		s.line++ // the lexer stays in the string
		s.i++
		return s.token()
	}
	if ok, err := s.templateEscape(); ok {
		return err
	}
	s.i++
	return nil
}

// heredoc reads one line (or up to an interpolation) of a heredoc or a
// bare template.
func (s *scanner) heredoc(bare bool) error {
	if ok, err := s.templateEscape(); ok {
		return err
	}
	n := len(s.modes) - 1
	start := s.i
	for s.i < len(s.src) && s.src[s.i] != '\n' && s.src[s.i] != '$' && s.src[s.i] != '%' {
		s.i++
	}
	if s.i < len(s.src) && s.src[s.i] == '\n' {
		line := trimSpace(s.src[start:s.i])
		s.i++
		s.line++
		if !bare && s.startLine[n] && string(line) == string(s.markers[n]) {
			s.pop()
			return s.token()
		}
		s.startLine[n] = true
		return s.token()
	}
	if s.i > start {
		s.startLine[n] = false
	}
	return s.token()
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r' || b[0] == '\n' || b[0] == '\v' || b[0] == '\f') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\r' || b[len(b)-1] == '\v' || b[len(b)-1] == '\f') {
		b = b[:len(b)-1]
	}
	return b
}
