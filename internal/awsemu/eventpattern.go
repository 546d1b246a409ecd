package awsemu

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// EventBridge event patterns
// (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html
// and eb-event-patterns-content-based-filtering.html): a pattern is a JSON
// object mirroring the event; each leaf is an array of alternatives (OR)
// and every field named must match (AND). Alternatives are exact values
// (strings, numbers, booleans, null) or the content filters prefix,
// suffix, anything-but, exists, equals-ignore-case and numeric. Written here rather
// than taken from a library: no maintained Go implementation of the
// EventBridge pattern language exists outside AWS's own event ruler, whose
// model the emulator must not share with what it tests.

// maxPatternLen is the EventPattern length limit of PutRule.
const maxPatternLen = 4096

// maxPatternDepth bounds the nesting of a pattern.
const maxPatternDepth = 32

// eventPattern is a parsed, validated pattern.
type eventPattern struct {
	fields map[string]*patternNode
}

// patternNode is either a nested pattern or a leaf list of alternatives.
type patternNode struct {
	nested *eventPattern
	alts   []matcher
}

type matcher struct {
	kind  string // "exact", "prefix", "suffix", "anything-but", "exists", "equals-ignore-case"
	value any    // exact value; string for prefix/suffix/ignore-case; bool for exists
	// anything-but: the excluded values, or a prefix/suffix
	butValues []any
	butPrefix string
	butSuffix string
	// numeric: comparisons that must all hold
	numeric []numericCmp
}

type numericCmp struct {
	op  string
	val float64
}

// parseEventPattern reads and validates a pattern, with the reasons
// EventBridge gives in InvalidEventPatternException.
func parseEventPattern(s string) (*eventPattern, error) {
	if len(s) > maxPatternLen {
		return nil, fmt.Errorf("event pattern longer than %d characters", maxPatternLen)
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("Filter is not valid JSON: %v", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("Filter is not valid JSON: content after the pattern")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("Filter is not an object")
	}
	if len(obj) == 0 {
		return nil, fmt.Errorf("Empty objects are not allowed")
	}
	return parsePatternObject(obj, 0)
}

func parsePatternObject(obj map[string]any, depth int) (*eventPattern, error) {
	if depth > maxPatternDepth {
		return nil, fmt.Errorf("pattern nested deeper than %d levels", maxPatternDepth)
	}
	p := &eventPattern{fields: map[string]*patternNode{}}
	for k, v := range obj {
		switch x := v.(type) {
		case map[string]any:
			if len(x) == 0 {
				return nil, fmt.Errorf("Empty objects are not allowed")
			}
			n, err := parsePatternObject(x, depth+1)
			if err != nil {
				return nil, err
			}
			p.fields[k] = &patternNode{nested: n}
		case []any:
			if len(x) == 0 {
				return nil, fmt.Errorf("Empty arrays are not allowed")
			}
			node := &patternNode{}
			for _, a := range x {
				m, err := parseMatcher(a)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", k, err)
				}
				node.alts = append(node.alts, m)
			}
			p.fields[k] = node
		default:
			return nil, fmt.Errorf("\"%s\" must be an object or an array", k)
		}
	}
	return p, nil
}

func parseMatcher(a any) (matcher, error) {
	obj, ok := a.(map[string]any)
	if !ok {
		if _, isArr := a.([]any); isArr {
			return matcher{}, fmt.Errorf("Match value must be String, number, true, false, or null")
		}
		return matcher{kind: "exact", value: a}, nil
	}
	if len(obj) != 1 {
		return matcher{}, fmt.Errorf("a content filter must have exactly one key")
	}
	for k, v := range obj {
		switch k {
		case "prefix", "suffix", "equals-ignore-case":
			s, ok := v.(string)
			if !ok {
				return matcher{}, fmt.Errorf("%s match pattern must be a string", k)
			}
			return matcher{kind: k, value: s}, nil
		case "exists":
			b, ok := v.(bool)
			if !ok {
				return matcher{}, fmt.Errorf("exists match pattern must be either true or false")
			}
			return matcher{kind: k, value: b}, nil
		case "numeric":
			return parseNumeric(v)
		case "anything-but":
			m := matcher{kind: k}
			switch x := v.(type) {
			case string, json.Number:
				m.butValues = []any{x}
			case []any:
				if len(x) == 0 {
					return matcher{}, fmt.Errorf("Empty arrays are not allowed")
				}
				for _, b := range x {
					switch b.(type) {
					case string, json.Number:
					default:
						return matcher{}, fmt.Errorf("Inside anything but list, start|null|boolean is not supported")
					}
				}
				m.butValues = x
			case map[string]any:
				if len(x) != 1 {
					return matcher{}, fmt.Errorf("anything-but takes one content filter")
				}
				if s, ok := x["prefix"].(string); ok {
					m.butPrefix = s
				} else if s, ok := x["suffix"].(string); ok {
					m.butSuffix = s
				} else {
					return matcher{}, fmt.Errorf("Unsupported anything-but pattern")
				}
				if m.butPrefix == "" && m.butSuffix == "" {
					return matcher{}, fmt.Errorf("Null prefix/suffix not allowed")
				}
			default:
				return matcher{}, fmt.Errorf("Value of anything-but must be an array or single string/number value")
			}
			return m, nil
		}
		return matcher{}, fmt.Errorf("Unrecognized match type %s", k)
	}
	return matcher{}, nil
}

// matchEvent reports whether an event (JSON) matches the pattern.
func (p *eventPattern) matchEvent(event []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(event))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return false
	}
	obj, ok := v.(map[string]any)
	return ok && p.match(obj)
}

// match: every field of the pattern matches the event.
func (p *eventPattern) match(obj map[string]any) bool {
	for k, node := range p.fields {
		v, present := obj[k]
		if node.nested != nil {
			sub, _ := v.(map[string]any)
			if sub == nil {
				// An absent object matches only a pattern that asks for
				// absent fields (exists: false) all the way down.
				sub = map[string]any{}
			}
			if !node.nested.match(sub) {
				return false
			}
			continue
		}
		if !node.matchLeaf(v, present) {
			return false
		}
	}
	return true
}

// matchLeaf: one of the alternatives matches the value; for an array
// value, one of its elements.
func (n *patternNode) matchLeaf(v any, present bool) bool {
	for _, m := range n.alts {
		if m.kind == "exists" {
			want := m.value.(bool)
			// exists works on leaf values: an object is not a leaf, and an
			// empty array has no leaf.
			has := present
			if _, isObj := v.(map[string]any); isObj {
				has = false
			}
			if arr, isArr := v.([]any); isArr && len(arr) == 0 {
				has = false
			}
			if has == want {
				return true
			}
			continue
		}
		if !present {
			continue
		}
		if arr, ok := v.([]any); ok {
			for _, el := range arr {
				if m.matchValue(el) {
					return true
				}
			}
			continue
		}
		if m.matchValue(v) {
			return true
		}
	}
	return false
}

func (m matcher) matchValue(v any) bool {
	switch m.kind {
	case "exact":
		return sameJSONValue(m.value, v)
	case "prefix":
		s, ok := v.(string)
		return ok && strings.HasPrefix(s, m.value.(string))
	case "suffix":
		s, ok := v.(string)
		return ok && strings.HasSuffix(s, m.value.(string))
	case "equals-ignore-case":
		s, ok := v.(string)
		return ok && strings.EqualFold(s, m.value.(string))
	case "numeric":
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		f, err := n.Float64()
		if err != nil {
			return false
		}
		for _, c := range m.numeric {
			if !c.holds(f) {
				return false
			}
		}
		return true
	case "anything-but":
		if m.butPrefix != "" {
			s, ok := v.(string)
			return ok && !strings.HasPrefix(s, m.butPrefix)
		}
		if m.butSuffix != "" {
			s, ok := v.(string)
			return ok && !strings.HasSuffix(s, m.butSuffix)
		}
		switch v.(type) {
		case string, json.Number:
		default:
			return false // anything-but compares strings and numbers only
		}
		for _, b := range m.butValues {
			if sameJSONValue(b, v) {
				return false
			}
		}
		return true
	}
	return false
}

// sameJSONValue compares leaf values: strings exactly, numbers by value,
// booleans and null by identity. A string never equals a number.
func sameJSONValue(a, b any) bool {
	switch x := a.(type) {
	case json.Number:
		y, ok := b.(json.Number)
		if !ok {
			return false
		}
		fx, err1 := x.Float64()
		fy, err2 := y.Float64()
		if err1 != nil || err2 != nil {
			return string(x) == string(y)
		}
		return fx == fy
	case string:
		y, ok := b.(string)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case nil:
		return b == nil
	}
	return false
}

// parseNumeric reads a numeric filter: one comparison ["<", 10] or a
// range of a lower and an upper bound [">", 0, "<=", 5].
func parseNumeric(v any) (matcher, error) {
	arr, ok := v.([]any)
	if !ok || (len(arr) != 2 && len(arr) != 4) {
		return matcher{}, fmt.Errorf("Value of numeric must be an array of one or two comparisons")
	}
	m := matcher{kind: "numeric"}
	for i := 0; i < len(arr); i += 2 {
		op, ok := arr[i].(string)
		if !ok {
			return matcher{}, fmt.Errorf("Unrecognized numeric range operator")
		}
		switch op {
		case "<", "<=", "=", ">", ">=":
		default:
			return matcher{}, fmt.Errorf("Unrecognized numeric range operator: %s", op)
		}
		n, ok := arr[i+1].(json.Number)
		if !ok {
			return matcher{}, fmt.Errorf("Value of %s must be numeric", op)
		}
		f, err := n.Float64()
		if err != nil {
			return matcher{}, fmt.Errorf("Value of %s must be numeric", op)
		}
		m.numeric = append(m.numeric, numericCmp{op, f})
	}
	if len(m.numeric) == 2 {
		lo, hi := m.numeric[0], m.numeric[1]
		if (lo.op != ">" && lo.op != ">=") || (hi.op != "<" && hi.op != "<=") || lo.val >= hi.val {
			return matcher{}, fmt.Errorf("Bad numeric range operator: a range is a lower bound (> or >=) then a higher upper bound (< or <=)")
		}
	}
	return m, nil
}

func (c numericCmp) holds(f float64) bool {
	switch c.op {
	case "<":
		return f < c.val
	case "<=":
		return f <= c.val
	case "=":
		return f == c.val
	case ">":
		return f > c.val
	case ">=":
		return f >= c.val
	}
	return false
}
