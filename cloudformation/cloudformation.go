// Package cloudformation reads CloudTrail trails (AWS::CloudTrail::Trail)
// from CloudFormation templates, YAML or JSON, SAM templates and CDK synth
// output. Intrinsic functions are evaluated statically where their inputs
// are known (Ref to parameters, Fn::If with the template's Conditions,
// Fn::Equals/Not/And/Or, Fn::FindInMap, Fn::Sub, Fn::Join, Fn::Select), in
// their short (!Ref) and long (Ref:, Fn::If:) forms; what depends on
// deploy-time values (pseudo parameters, Fn::GetAtt, imports) is unknown,
// and says so.
package cloudformation

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/trailguard/trailguard"
)

// Options are parameter values given on the command line (--cfn-param
// Key=Value), overriding the template's defaults.
type Options struct {
	Params map[string]string
}

// template is one parsed template.
type template struct {
	file       string
	lines      []string
	params     map[string]*yaml.Node // Parameters.<name>
	conditions map[string]*yaml.Node
	mappings   *yaml.Node
	opts       Options
	condCache  map[string]result
	evaluating map[string]bool
}

// result is an evaluated value: v when known, else why it is not.
type result struct {
	v       any
	unknown string
	noValue bool // AWS::NoValue: the property is removed
}

// IsTemplate reports whether b is a CloudFormation template: a mapping
// whose Resources hold at least one resource with an AWS:: type (or that
// declares AWSTemplateFormatVersion).
func IsTemplate(b []byte) bool {
	var doc struct {
		Version   any `yaml:"AWSTemplateFormatVersion"`
		Resources map[string]struct {
			Type string `yaml:"Type"`
		} `yaml:"Resources"`
	}
	if yaml.Unmarshal(b, &doc) != nil {
		return false
	}
	if doc.Version != nil {
		return true
	}
	for _, r := range doc.Resources {
		if strings.HasPrefix(r.Type, "AWS::") {
			return true
		}
	}
	return false
}

// Read returns the trails of a template. A template that does not parse is
// an error naming the file and line.
func Read(file string, b []byte, o Options) ([]trailguard.IaCTrail, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, fmt.Errorf("%s: %s", file, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: a template is a mapping of sections", file, doc.Line)
	}
	root := doc.Content[0]
	t := &template{file: file, lines: strings.Split(string(b), "\n"), params: map[string]*yaml.Node{}, conditions: map[string]*yaml.Node{},
		opts: o, condCache: map[string]result{}, evaluating: map[string]bool{}}
	if p := get(root, "Parameters"); p != nil {
		for k, v := range pairs(p) {
			t.params[k] = v
		}
	}
	if c := get(root, "Conditions"); c != nil {
		for k, v := range pairs(c) {
			t.conditions[k] = v
		}
	}
	t.mappings = get(root, "Mappings")
	resources := get(root, "Resources")
	if resources == nil || resources.Kind != yaml.MappingNode {
		return nil, nil
	}
	var out []trailguard.IaCTrail
	for i := 0; i+1 < len(resources.Content); i += 2 {
		key, res := resources.Content[i], resources.Content[i+1]
		if typ := get(res, "Type"); typ == nil || typ.Value != "AWS::CloudTrail::Trail" {
			continue
		}
		if c := get(res, "Condition"); c != nil {
			r := t.condition(c.Value)
			if r.unknown == "" && r.v == false {
				continue // not created with these parameters
			}
		}
		tr := t.trail(key.Value, get(res, "Properties"))
		tr.File, tr.Line = file, key.Line
		tr.Ignore = ignoreReason(t.lines, key)
		out = append(out, tr)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Line < out[j].Line })
	return out, nil
}

// trail builds the IaC trail from a resource's Properties.
func (t *template) trail(id string, props *yaml.Node) trailguard.IaCTrail {
	it := trailguard.IaCTrail{Resource: id}
	prop := func(name string) result {
		n := get(props, name)
		if n == nil {
			return result{noValue: true}
		}
		return t.eval(n)
	}
	boolProp := func(name string, def bool) (bool, string) {
		r := prop(name)
		switch {
		case r.unknown != "":
			return def, fmt.Sprintf("%s of %s: %s", name, id, r.unknown)
		case r.noValue:
			return def, ""
		}
		b, ok := toBool(r.v)
		if !ok {
			return def, fmt.Sprintf("%s of %s is %v, not a boolean", name, id, r.v)
		}
		return b, ""
	}
	name := id
	if r := prop("TrailName"); r.unknown == "" && !r.noValue {
		name = fmt.Sprint(r.v)
	}
	multi, unkMulti := boolProp("IsMultiRegionTrail", false)
	// CloudFormation requires IsLogging: a trail without it is not logging
	// as far as the template says.
	logging, unkLog := boolProp("IsLogging", false)
	global, _ := boolProp("IncludeGlobalServiceEvents", true)
	org, _ := boolProp("IsOrganizationTrail", false)
	validation, _ := boolProp("EnableLogFileValidation", false)
	it.Trail = trailguard.Trail{Name: name, ARN: id, IsMultiRegion: multi, IsOrganizationTrail: org,
		IncludeGlobalServiceEvents: global, LogFileValidationEnabled: validation,
		Status: &trailguard.TrailStatus{IsLogging: logging}}
	it.UnknownMultiRegion, it.UnknownLogging = unkMulti, unkLog

	sel := &trailguard.EventSelectors{}
	if r := prop("EventSelectors"); r.unknown != "" {
		it.UnknownSelectors = "EventSelectors of " + id + ": " + r.unknown
	} else {
		for _, e := range asList(r.v) {
			m, _ := e.(map[string]any)
			es := trailguard.EventSelector{ReadWriteType: "All", IncludeManagementEvents: true}
			if v, ok := m["ReadWriteType"]; ok {
				es.ReadWriteType = fmt.Sprint(v)
			}
			if v, ok := m["IncludeManagementEvents"]; ok {
				es.IncludeManagementEvents, _ = toBool(v)
			}
			es.ExcludeManagementEventSources = strs(m["ExcludeManagementEventSources"])
			for _, d := range asList(m["DataResources"]) {
				dm, _ := d.(map[string]any)
				es.DataResources = append(es.DataResources, trailguard.DataResource{Type: fmt.Sprint(dm["Type"]), Values: strs(dm["Values"])})
			}
			sel.Basic = append(sel.Basic, es)
		}
	}
	if r := prop("AdvancedEventSelectors"); r.unknown != "" {
		it.UnknownSelectors = "AdvancedEventSelectors of " + id + ": " + r.unknown
	} else {
		for _, e := range asList(r.v) {
			m, _ := e.(map[string]any)
			as := trailguard.AdvancedEventSelector{}
			if v, ok := m["Name"]; ok {
				as.Name = fmt.Sprint(v)
			}
			for _, f := range asList(m["FieldSelectors"]) {
				fm, _ := f.(map[string]any)
				as.FieldSelectors = append(as.FieldSelectors, trailguard.FieldSelector{
					Field: fmt.Sprint(fm["Field"]), Equals: strs(fm["Equals"]), NotEquals: strs(fm["NotEquals"]),
					StartsWith: strs(fm["StartsWith"]), NotStartsWith: strs(fm["NotStartsWith"]),
					EndsWith: strs(fm["EndsWith"]), NotEndsWith: strs(fm["NotEndsWith"]),
				})
			}
			sel.Advanced = append(sel.Advanced, as)
		}
	}
	if len(sel.Basic) == 0 && len(sel.Advanced) == 0 {
		sel = trailguard.DefaultSelectors()
	}
	it.Trail.Selectors = sel
	return it
}

// eval evaluates a node, intrinsic functions included.
func (t *template) eval(n *yaml.Node) result {
	if n.Kind == yaml.AliasNode {
		return t.eval(n.Alias)
	}
	if fn, arg, ok := intrinsic(n); ok {
		return t.call(fn, arg, n.Line)
	}
	switch n.Kind {
	case yaml.ScalarNode:
		return result{v: scalar(n)}
	case yaml.SequenceNode:
		var out []any
		for _, c := range n.Content {
			r := t.eval(c)
			if r.unknown != "" {
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
			if r.unknown != "" {
				return r
			}
			if !r.noValue {
				out[n.Content[i].Value] = r.v
			}
		}
		return result{v: out}
	}
	return result{unknown: fmt.Sprintf("line %d: unsupported value", n.Line)}
}

// intrinsic recognises !Fn short forms and {"Fn::X": ...} / {"Ref": ...}
// long forms.
func intrinsic(n *yaml.Node) (string, *yaml.Node, bool) {
	if strings.HasPrefix(n.Tag, "!") && n.Tag != "!!str" && !strings.HasPrefix(n.Tag, "!!") {
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

var subRef = regexp.MustCompile(`\$\{([^}]*)\}`)

func (t *template) call(fn string, arg *yaml.Node, line int) result {
	args := func() []*yaml.Node {
		if arg.Kind == yaml.SequenceNode {
			return arg.Content
		}
		return nil
	}
	switch fn {
	case "Ref":
		return t.ref(arg.Value, line)
	case "Condition":
		return t.condition(arg.Value)
	case "Fn::If":
		a := args()
		if len(a) != 3 {
			return result{unknown: fmt.Sprintf("line %d: Fn::If takes [condition, value if true, value if false]", line)}
		}
		c := t.condition(a[0].Value)
		if c.unknown != "" {
			return c
		}
		if c.v == true {
			return t.eval(a[1])
		}
		return t.eval(a[2])
	case "Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or":
		return t.condExpr(fn, args(), line)
	case "Fn::FindInMap":
		a := args()
		if len(a) < 3 {
			return result{unknown: fmt.Sprintf("line %d: Fn::FindInMap takes [map, key, key]", line)}
		}
		var keys []string
		for _, k := range a[:3] {
			r := t.eval(k)
			if r.unknown != "" {
				return r
			}
			keys = append(keys, fmt.Sprint(r.v))
		}
		v := get(get(get(t.mappings, keys[0]), keys[1]), keys[2])
		if v == nil {
			return result{unknown: fmt.Sprintf("line %d: Mappings has no %s.%s.%s", line, keys[0], keys[1], keys[2])}
		}
		return t.eval(v)
	case "Fn::Sub":
		str, vars := arg, map[string]*yaml.Node{}
		if a := args(); len(a) == 2 {
			str = a[0]
			for k, v := range pairs(a[1]) {
				vars[k] = v
			}
		}
		var unknown string
		out := subRef.ReplaceAllStringFunc(str.Value, func(m string) string {
			name := m[2 : len(m)-1]
			if strings.HasPrefix(name, "!") {
				return "${" + name[1:] + "}"
			}
			var r result
			if v, ok := vars[name]; ok {
				r = t.eval(v)
			} else if strings.Contains(name, ".") {
				r = result{unknown: "${" + name + "} is an attribute known at deploy time"}
			} else {
				r = t.ref(name, line)
			}
			if r.unknown != "" {
				unknown = r.unknown
				return ""
			}
			return fmt.Sprint(r.v)
		})
		if unknown != "" {
			return result{unknown: unknown}
		}
		return result{v: out}
	case "Fn::Join":
		a := args()
		if len(a) != 2 {
			return result{unknown: fmt.Sprintf("line %d: Fn::Join takes [delimiter, list]", line)}
		}
		l := t.eval(a[1])
		if l.unknown != "" {
			return l
		}
		var parts []string
		for _, e := range asList(l.v) {
			parts = append(parts, fmt.Sprint(e))
		}
		return result{v: strings.Join(parts, a[0].Value)}
	case "Fn::Select":
		a := args()
		if len(a) != 2 {
			return result{unknown: fmt.Sprintf("line %d: Fn::Select takes [index, list]", line)}
		}
		i, err := strconv.Atoi(a[0].Value)
		l := t.eval(a[1])
		if l.unknown != "" {
			return l
		}
		list := asList(l.v)
		if err != nil || i < 0 || i >= len(list) {
			return result{unknown: fmt.Sprintf("line %d: Fn::Select index %s out of range", line, a[0].Value)}
		}
		return result{v: list[i]}
	}
	return result{unknown: fmt.Sprintf("line %d: %s is known only at deploy time", line, fn)}
}

func (t *template) ref(name string, line int) result {
	if name == "AWS::NoValue" {
		return result{noValue: true}
	}
	if strings.HasPrefix(name, "AWS::") {
		return result{unknown: fmt.Sprintf("line %d: Ref %s is known only at deploy time", line, name)}
	}
	if v, ok := t.opts.Params[name]; ok {
		return result{v: v}
	}
	p, ok := t.params[name]
	if !ok {
		return result{unknown: fmt.Sprintf("line %d: Ref %s names a resource, known only at deploy time", line, name)}
	}
	if d := get(p, "Default"); d != nil {
		return t.eval(d)
	}
	return result{unknown: fmt.Sprintf("line %d: Ref %s: the parameter has no Default and no value is given (--cfn-param %s=...)", line, name, name)}
}

// condition evaluates a named condition of the Conditions section.
func (t *template) condition(name string) result {
	if r, ok := t.condCache[name]; ok {
		return r
	}
	n, ok := t.conditions[name]
	if !ok || t.evaluating[name] {
		return result{unknown: fmt.Sprintf("condition %s is not defined (or refers to itself)", name)}
	}
	t.evaluating[name] = true
	r := t.eval(n)
	delete(t.evaluating, name)
	if r.unknown == "" {
		b, ok := toBool(r.v)
		if !ok {
			r = result{unknown: fmt.Sprintf("condition %s is not a boolean", name)}
		} else {
			r = result{v: b}
		}
	} else {
		r.unknown = "condition " + name + ": " + r.unknown
	}
	t.condCache[name] = r
	return r
}

func (t *template) condExpr(fn string, a []*yaml.Node, line int) result {
	vals := make([]any, 0, len(a))
	for _, n := range a {
		var r result
		if fn == "Fn::Equals" {
			r = t.eval(n)
		} else {
			r = t.eval(n)
			if r.unknown == "" {
				b, ok := toBool(r.v)
				if !ok {
					return result{unknown: fmt.Sprintf("line %d: %s takes conditions", line, fn)}
				}
				r.v = b
			}
		}
		if r.unknown != "" {
			return r
		}
		vals = append(vals, r.v)
	}
	switch fn {
	case "Fn::Equals":
		if len(vals) != 2 {
			return result{unknown: fmt.Sprintf("line %d: Fn::Equals takes two values", line)}
		}
		return result{v: fmt.Sprint(vals[0]) == fmt.Sprint(vals[1])}
	case "Fn::Not":
		if len(vals) != 1 {
			return result{unknown: fmt.Sprintf("line %d: Fn::Not takes one condition", line)}
		}
		return result{v: !vals[0].(bool)}
	case "Fn::And":
		for _, v := range vals {
			if !v.(bool) {
				return result{v: false}
			}
		}
		return result{v: true}
	default: // Fn::Or
		for _, v := range vals {
			if v.(bool) {
				return result{v: true}
			}
		}
		return result{v: false}
	}
}

func get(n *yaml.Node, key string) *yaml.Node {
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
	out := map[string]*yaml.Node{}
	if n == nil || n.Kind != yaml.MappingNode {
		return out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		out[n.Content[i].Value] = n.Content[i+1]
	}
	return out
}

// scalar decodes a plain scalar as YAML would (bool, number, string),
// keeping quoted values strings.
func scalar(n *yaml.Node) any {
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

func strs(v any) []string {
	var out []string
	for _, e := range asList(v) {
		out = append(out, fmt.Sprint(e))
	}
	return out
}

var ignoreComment = regexp.MustCompile(`#\s*trailguard:ignore\s+cis-aws-3\.1\s+(\S.*?)\s*$`)

// ignoreReason finds a trailguard:ignore comment on the resource's line or
// in the comment lines right above it.
func ignoreReason(lines []string, key *yaml.Node) string {
	for _, c := range []string{key.LineComment, key.HeadComment} {
		for _, l := range strings.Split(c, "\n") {
			if m := ignoreComment.FindStringSubmatch(strings.TrimSpace(l)); m != nil {
				return m[1]
			}
		}
	}
	for i := key.Line - 2; i >= 0 && i < len(lines); i-- {
		s := strings.TrimSpace(lines[i])
		if !strings.HasPrefix(s, "#") {
			break
		}
		if m := ignoreComment.FindStringSubmatch(s); m != nil {
			return m[1]
		}
	}
	return ""
}

// Parses reports whether b is well-formed YAML (JSON included).
func Parses(b []byte) bool {
	var n yaml.Node
	err := yaml.Unmarshal(b, &n)
	return err == nil
}
