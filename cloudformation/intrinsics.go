package cloudformation

import (
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/trailguard/trailguard"
)

// resolveNode follows aliases and Fn::If (with a known condition) to the
// node that stands for a value, so that a whole Properties block chosen by
// a condition is read property by property. AWS::NoValue gives nil.
func (t *tmpl) resolveNode(n *yaml.Node) (*yaml.Node, result) {
	for range MaxDepth {
		if n == nil {
			return nil, result{}
		}
		n = deref(n)
		fn, arg, ok := intrinsic(n)
		if !ok {
			return n, result{}
		}
		switch fn {
		case "Fn::If":
			a := seq(arg)
			if len(a) != 3 {
				return nil, rejectedf("line %d: Fn::If takes [condition, value if true, value if false]", n.Line)
			}
			c := t.condition(deref(a[0]).Value)
			if !c.known() {
				return nil, c
			}
			if c.v == true {
				n = a[1]
			} else {
				n = a[2]
			}
		case "Ref":
			if deref(arg).Value == "AWS::NoValue" {
				return nil, result{}
			}
			return nil, unknownf("line %d: Properties is a Ref, known only at deploy time", n.Line)
		default:
			return nil, unknownf("line %d: Properties is %s, known only at deploy time", n.Line, fn)
		}
	}
	return nil, rejectedf("line %d: Fn::If nested more than %d levels deep", n.Line, MaxDepth)
}

// eval evaluates a node, intrinsic functions included. It counts the
// nodes it visits, aliases expanded, and the depth it reaches: past the
// limits (or once the context ends) evaluation stops for the whole
// template with t.fatal set.
func (t *tmpl) eval(n *yaml.Node) result {
	if t.fatal != nil {
		return unknownf("not evaluated: %v", t.fatal)
	}
	t.visited++
	if t.visited > MaxExpandedNodes {
		t.fatal = trailguard.ErrorAt(t.file, n.Line, "evaluating the template expands more than %d nodes (nested YAML aliases?)", MaxExpandedNodes)
		return unknownf("not evaluated")
	}
	if t.visited%1024 == 0 {
		if err := t.ctx.Err(); err != nil {
			t.fatal = trailguard.ErrorAt(t.file, n.Line, "not read: %w", err)
			return unknownf("not evaluated")
		}
	}
	t.depth++
	defer func() { t.depth-- }()
	if t.depth > MaxDepth {
		t.fatal = trailguard.ErrorAt(t.file, n.Line, "evaluating the template nests more than %d levels deep", MaxDepth)
		return unknownf("not evaluated")
	}
	if n.Kind == yaml.AliasNode {
		return t.eval(n.Alias)
	}
	if fn, arg, ok := intrinsic(n); ok {
		return dynamicRef(t.call(fn, arg, n.Line), n.Line)
	}
	switch n.Kind {
	case yaml.ScalarNode:
		return dynamicRef(result{v: scalar(n)}, n.Line)
	case yaml.SequenceNode:
		var out []any
		for _, c := range n.Content {
			r := t.eval(c)
			if !r.known() {
				return r
			}
			if !r.noValue {
				out = append(out, r.v)
			}
		}
		return result{v: out}
	case yaml.MappingNode:
		out := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			r := t.eval(n.Content[i+1])
			if !r.known() {
				return r
			}
			if !r.noValue {
				out[n.Content[i].Value] = r.v
			}
		}
		return result{v: out}
	}
	return unknownf("line %d: unsupported value", n.Line)
}

var dynamicRefPattern = regexp.MustCompile(`\{\{resolve:[^}]*\}\}`)

// dynamicRef makes a string holding a {{resolve:ssm:...}},
// {{resolve:ssm-secure:...}} or {{resolve:secretsmanager:...}} dynamic
// reference unknown: CloudFormation reads it from Systems Manager or
// Secrets Manager when the stack is deployed.
func dynamicRef(r result, line int) result {
	if s, ok := r.v.(string); ok && r.known() && strings.Contains(s, "{{resolve:") {
		ref := dynamicRefPattern.FindString(s)
		if ref == "" {
			ref = "{{resolve:...}}"
		}
		return unknownf("line %d: the dynamic reference %s is resolved only at deploy time", line, ref)
	}
	return r
}

// intrinsic recognises !Fn short forms and {"Fn::X": ...} / {"Ref": ...}
// long forms.
func intrinsic(n *yaml.Node) (string, *yaml.Node, bool) {
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		fn := strings.TrimPrefix(n.Tag, "!")
		if fn != "Ref" && fn != "Condition" {
			fn = "Fn::" + fn
		}
		arg := *n
		arg.Tag = ""
		if arg.Kind == yaml.ScalarNode {
			arg.Tag = "!!str"
		}
		return fn, &arg, true
	}
	if n.Kind == yaml.MappingNode && len(n.Content) == 2 {
		k := n.Content[0].Value
		if k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::") {
			return k, n.Content[1], true
		}
	}
	return "", nil, false
}

// seq is the list of arguments of an intrinsic, aliases followed.
func seq(arg *yaml.Node) []*yaml.Node {
	if arg = deref(arg); arg != nil && arg.Kind == yaml.SequenceNode {
		return arg.Content
	}
	return nil
}

var subRef = regexp.MustCompile(`\$\{([^}]*)\}`)

func (t *tmpl) call(fn string, arg *yaml.Node, line int) result {
	switch fn {
	case "Ref":
		return t.ref(deref(arg).Value, line)
	case "Condition":
		return t.condition(deref(arg).Value)
	case "Fn::If":
		a := seq(arg)
		if len(a) != 3 {
			return rejectedf("line %d: Fn::If takes [condition, value if true, value if false]", line)
		}
		c := t.condition(deref(a[0]).Value)
		if !c.known() {
			return c
		}
		if c.v == true {
			return t.eval(a[1])
		}
		return t.eval(a[2])
	case "Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or":
		return t.condExpr(fn, seq(arg), line)
	case "Fn::FindInMap":
		a := seq(arg)
		if len(a) < 3 {
			return rejectedf("line %d: Fn::FindInMap takes [map, key, key]", line)
		}
		var keys []string
		for _, k := range a[:3] {
			r := t.eval(k)
			if !r.known() {
				return r
			}
			k, ok := text(r.v)
			if !ok {
				return rejectedf("line %d: a key of Fn::FindInMap is %s, not a string", line, brief(r.v))
			}
			keys = append(keys, k)
		}
		v := get(get(get(t.mappings, keys[0]), keys[1]), keys[2])
		if v == nil && len(a) == 4 {
			// AWS::LanguageExtensions: [map, key, key, {DefaultValue: v}].
			if d := get(a[3], "DefaultValue"); d != nil {
				return t.eval(d)
			}
		}
		if v == nil {
			return rejectedf("line %d: Mappings has no %s.%s.%s", line, keys[0], keys[1], keys[2])
		}
		return t.eval(v)
	case "Fn::Sub":
		str, vars := deref(arg), map[string]*yaml.Node{}
		if a := seq(arg); len(a) == 2 {
			str = deref(a[0])
			vars = pairs(a[1])
		}
		var stop result
		out := subRef.ReplaceAllStringFunc(str.Value, func(m string) string {
			name := m[2 : len(m)-1]
			if strings.HasPrefix(name, "!") {
				return "${" + name[1:] + "}"
			}
			if !stop.known() {
				return ""
			}
			var r result
			if v, ok := vars[name]; ok {
				r = t.eval(v)
			} else if strings.Contains(name, ".") {
				r = unknownf("line %d: ${%s} is an attribute known only at deploy time", line, name)
			} else {
				r = t.ref(name, line)
			}
			if !r.known() {
				stop = r
				return ""
			}
			v, ok := text(r.v)
			if !ok {
				stop = rejectedf("line %d: ${%s} in Fn::Sub is %s, not a string", line, name, brief(r.v))
			}
			return v
		})
		if !stop.known() {
			return stop
		}
		if !t.produce(len(out), line) {
			return unknownf("not evaluated")
		}
		return result{v: out}
	case "Fn::Join":
		a := seq(arg)
		if len(a) != 2 {
			return rejectedf("line %d: Fn::Join takes [delimiter, list]", line)
		}
		l := t.eval(a[1])
		if !l.known() {
			return l
		}
		var parts []string
		size := 0
		for _, e := range asList(l.v) {
			p, ok := text(e)
			if !ok {
				return rejectedf("line %d: Fn::Join takes a list of strings, not one holding %s", line, brief(e))
			}
			parts = append(parts, p)
			size += len(p) + len(deref(a[0]).Value)
		}
		if !t.produce(size, line) {
			return unknownf("not evaluated")
		}
		return result{v: strings.Join(parts, deref(a[0]).Value)}
	case "Fn::Split":
		a := seq(arg)
		if len(a) != 2 {
			return rejectedf("line %d: Fn::Split takes [delimiter, string]", line)
		}
		s := t.eval(a[1])
		if !s.known() {
			return s
		}
		str, ok := text(s.v)
		if !ok {
			return rejectedf("line %d: Fn::Split takes a string, not %s", line, brief(s.v))
		}
		var out []any
		for _, p := range strings.Split(str, deref(a[0]).Value) {
			out = append(out, p)
		}
		return result{v: out}
	case "Fn::Select":
		a := seq(arg)
		if len(a) != 2 {
			return rejectedf("line %d: Fn::Select takes [index, list]", line)
		}
		ir := t.eval(a[0])
		if !ir.known() {
			return ir
		}
		l := t.eval(a[1])
		if !l.known() {
			return l
		}
		list := asList(l.v)
		idx, _ := text(ir.v)
		i, err := strconv.Atoi(idx)
		if err != nil || i < 0 || i >= len(list) {
			return rejectedf("line %d: Fn::Select index %s out of range", line, brief(ir.v))
		}
		return result{v: list[i]}
	case "Fn::Contains", "Fn::EachMemberEquals", "Fn::EachMemberIn":
		return t.ruleFunc(fn, seq(arg), line)
	case "Fn::ValueOf", "Fn::ValueOfAll", "Fn::RefAll":
		return unknownf("line %d: %s reads the account when the stack is deployed", line, fn)
	case "Fn::GetAtt":
		return unknownf("line %d: Fn::GetAtt %s is an attribute known only at deploy time", line, describe(arg))
	case "Fn::ImportValue":
		return unknownf("line %d: Fn::ImportValue %s is another stack's export, known only at deploy time", line, describe(arg))
	case "Fn::Transform":
		return unknownf("line %d: Fn::Transform %s: a macro's output is known only at deploy time", line, describe(arg))
	}
	return unknownf("line %d: %s is known only at deploy time", line, fn)
}

// produce counts the bytes of a string built by Fn::Join or Fn::Sub;
// past MaxValueBytes for the template, evaluation stops with t.fatal set.
func (t *tmpl) produce(n, line int) bool {
	t.produced += n
	if t.produced > MaxValueBytes {
		t.fatal = trailguard.ErrorAt(t.file, line, "evaluating the template builds more than %d bytes of strings (nested YAML aliases?)", MaxValueBytes)
		return false
	}
	return true
}
