package cloudformation

import (
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// deref follows aliases to the node they stand for. yaml.v3 refuses an
// alias to an enclosing node, so the chain ends.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func get(n *yaml.Node, key string) *yaml.Node {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func pairs(n *yaml.Node) map[string]*yaml.Node {
	n = deref(n)
	out := map[string]*yaml.Node{}
	if n == nil || n.Kind != yaml.MappingNode {
		return out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		out[n.Content[i].Value] = n.Content[i+1]
	}
	return out
}

// yaml11Bools are the plain scalars YAML 1.1 reads as booleans besides
// true and false. CloudFormation reads templates as YAML 1.1, yaml.v3 as
// YAML 1.2, where they are strings: IsLogging: yes is true to AWS.
var yaml11Bools = map[string]bool{
	"yes": true, "Yes": true, "YES": true, "on": true, "On": true, "ON": true,
	"no": false, "No": false, "NO": false, "off": false, "Off": false, "OFF": false,
}

// scalar decodes a plain scalar as CloudFormation's YAML 1.1 would (bool,
// number, string), keeping quoted values strings.
func scalar(n *yaml.Node) any {
	if b, ok := yaml11Bools[n.Value]; ok && n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) == 0 && n.Tag == "!!str" {
		return b
	}
	switch n.ShortTag() {
	case "!!bool":
		b, _ := strconv.ParseBool(strings.ToLower(n.Value))
		return b
	case "!!int", "!!float":
		return n.Value
	case "!!null":
		return nil
	}
	return n.Value
}

// toBool reads a boolean as CloudFormation does: true/false or the
// strings "true"/"false" in any case.
func toBool(v any) (bool, bool) {
	switch b := v.(type) {
	case bool:
		return b, true
	case string:
		switch strings.ToLower(strings.TrimSpace(b)) {
		case "true":
			return true, true
		case "false":
			return false, true
		}
	}
	return false, false
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// strs reads a list of strings; an element that is not one is noted in
// t.notText (CloudFormation refuses it).
func (t *tmpl) strs(v any) []string {
	var out []string
	for _, e := range asList(v) {
		s, ok := text(e)
		if !ok && t.notText == "" {
			t.notText = brief(e)
		}
		out = append(out, s)
	}
	return out
}

// text is a scalar value as CloudFormation compares and joins it; ok is
// false for a list, an object or null. Evaluated values are never printed
// whole with fmt: through aliases, a list can hold one long string a great
// many times over, and printing it would cost that much memory.
func text(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

// brief names a value in a reason: a scalar quoted and cut to 64 bytes, a
// list or an object by its kind.
func brief(v any) string {
	switch v.(type) {
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	case nil:
		return "null"
	}
	s, _ := text(v)
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return strconv.Quote(s)
}

// same compares two values as Fn::Equals does: scalars by their text,
// lists element by element, objects key by key. Its work is bounded by
// the evaluation that built the values.
func same(a, b any) bool {
	switch x := a.(type) {
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !same(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			if w, ok := y[k]; !ok || !same(v, w) {
				return false
			}
		}
		return true
	}
	s, ok1 := text(a)
	u, ok2 := text(b)
	return ok1 && ok2 && s == u
}
