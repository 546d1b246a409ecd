package cloudformation

import (
	"strings"

	"gopkg.in/yaml.v3"
)

// rules evaluates the template's Rules: CloudFormation refuses to create
// or update the stack when, for a rule whose RuleCondition holds (or that
// has none), an assertion is false. Known true: no rule refuses; rejected:
// one does, with the parameters given; unknown: it depends on values known
// only at deploy time (Fn::ValueOf and the like read the account).
func (t *tmpl) rules(n *yaml.Node) result {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return result{v: true}
	}
	var unknown result
	for i := 0; i+1 < len(n.Content); i += 2 {
		name, body := n.Content[i].Value, n.Content[i+1]
		applies := result{v: true}
		if rc := get(body, "RuleCondition"); rc != nil {
			applies = t.eval(rc)
			if applies.known() {
				b, ok := toBool(applies.v)
				if !ok {
					return rejectedf("rule %s: RuleCondition is not a boolean", name)
				}
				if !b {
					continue
				}
			} else if applies.rejected != "" {
				return rejectedf("rule %s: %s", name, applies.rejected)
			}
		}
		for _, a := range seq(get(body, "Assertions")) {
			as := get(a, "Assert")
			if as == nil {
				return rejectedf("rule %s: an assertion without Assert", name)
			}
			r := t.eval(as)
			switch {
			case r.rejected != "":
				return rejectedf("rule %s: %s", name, r.rejected)
			case r.unknown != "":
				if unknown.unknown == "" {
					unknown = unknownf("rule %s: %s", name, r.unknown)
				}
				continue
			}
			b, ok := toBool(r.v)
			switch {
			case !ok:
				return rejectedf("rule %s: an assertion is not a boolean", name)
			case b:
			case applies.unknown != "":
				if unknown.unknown == "" {
					unknown = unknownf("rule %s: an assertion fails when its RuleCondition holds: %s", name, applies.unknown)
				}
			default:
				why := "an assertion fails"
				if d := get(a, "AssertDescription"); d != nil && deref(d).Kind == yaml.ScalarNode {
					why += " (" + deref(d).Value + ")"
				}
				return rejectedf("line %d: rule %s: %s", deref(as).Line, name, why)
			}
		}
	}
	if unknown.unknown != "" {
		return unknown
	}
	return result{v: true}
}

// ruleFunc evaluates the functions of the Rules section that need no
// AWS call: Fn::Contains, Fn::EachMemberEquals, Fn::EachMemberIn.
func (t *tmpl) ruleFunc(fn string, a []*yaml.Node, line int) result {
	if len(a) != 2 {
		return rejectedf("line %d: %s takes two arguments", line, fn)
	}
	x, y := t.eval(a[0]), t.eval(a[1])
	if !x.known() {
		return x
	}
	if !y.known() {
		return y
	}
	in := func(v any, l []any) bool {
		for _, e := range l {
			if same(e, v) {
				return true
			}
		}
		return false
	}
	switch fn {
	case "Fn::Contains":
		return result{v: in(y.v, asList(x.v))}
	case "Fn::EachMemberEquals":
		for _, e := range asList(x.v) {
			if !same(e, y.v) {
				return result{v: false}
			}
		}
		return result{v: true}
	default: // Fn::EachMemberIn
		for _, e := range asList(x.v) {
			if !in(e, asList(y.v)) {
				return result{v: false}
			}
		}
		return result{v: true}
	}
}

// describe names an intrinsic's argument in a reason: a scalar as it is,
// a list of scalars joined with dots (GetAtt's [resource, attribute]),
// a mapping by its Name.
func describe(arg *yaml.Node) string {
	arg = deref(arg)
	switch arg.Kind {
	case yaml.ScalarNode:
		return arg.Value
	case yaml.SequenceNode:
		var parts []string
		for _, c := range arg.Content {
			if c = deref(c); c.Kind == yaml.ScalarNode {
				parts = append(parts, c.Value)
			} else {
				parts = append(parts, "(expression)")
			}
		}
		return strings.Join(parts, ".")
	case yaml.MappingNode:
		if n := get(arg, "Name"); n != nil && n.Kind == yaml.ScalarNode {
			return n.Value
		}
	}
	return "(expression)"
}

// condition evaluates a named condition of the Conditions section. A
// condition that is not defined, refers to itself or is not a boolean is
// rejected by CloudFormation.
func (t *tmpl) condition(name string) result {
	if r, ok := t.condCache[name]; ok {
		return r
	}
	n, ok := t.conditions[name]
	if !ok {
		return rejectedf("condition %s is not defined in Conditions", name)
	}
	if t.evaluating[name] {
		return rejectedf("condition %s refers to itself", name)
	}
	t.evaluating[name] = true
	r := t.eval(n)
	delete(t.evaluating, name)
	switch {
	case r.known():
		b, ok := toBool(r.v)
		if !ok {
			r = rejectedf("condition %s is not a boolean", name)
		} else {
			r = result{v: b}
		}
	case r.rejected != "":
		r.rejected = "condition " + name + ": " + r.rejected
	default:
		r.unknown = "condition " + name + ": " + r.unknown
	}
	if t.fatal == nil {
		t.condCache[name] = r
	}
	return r
}

func (t *tmpl) condExpr(fn string, a []*yaml.Node, line int) result {
	vals := make([]any, 0, len(a))
	var unknown result
	for _, n := range a {
		r := t.eval(n)
		if r.known() && fn != "Fn::Equals" {
			b, ok := toBool(r.v)
			if !ok {
				return rejectedf("line %d: %s takes conditions", line, fn)
			}
			r.v = b
		}
		switch {
		case r.rejected != "":
			return r
		case r.unknown != "":
			// Fn::And with a known false (Fn::Or with a known true) is
			// decided whatever the unknown operand is.
			if unknown.unknown == "" {
				unknown = r
			}
			continue
		}
		vals = append(vals, r.v)
	}
	switch fn {
	case "Fn::Equals":
		if len(a) != 2 {
			return rejectedf("line %d: Fn::Equals takes two values", line)
		}
		if unknown.unknown != "" {
			return unknown
		}
		return result{v: same(vals[0], vals[1])}
	case "Fn::Not":
		if len(a) != 1 {
			return rejectedf("line %d: Fn::Not takes one condition", line)
		}
		if unknown.unknown != "" {
			return unknown
		}
		return result{v: !vals[0].(bool)}
	case "Fn::And":
		if len(a) < 2 || len(a) > 10 {
			return rejectedf("line %d: Fn::And takes 2 to 10 conditions", line)
		}
		for _, v := range vals {
			if !v.(bool) {
				return result{v: false}
			}
		}
		if unknown.unknown != "" {
			return unknown
		}
		return result{v: true}
	default: // Fn::Or
		if len(a) < 2 || len(a) > 10 {
			return rejectedf("line %d: Fn::Or takes 2 to 10 conditions", line)
		}
		for _, v := range vals {
			if v.(bool) {
				return result{v: true}
			}
		}
		if unknown.unknown != "" {
			return unknown
		}
		return result{v: false}
	}
}
