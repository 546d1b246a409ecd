// Package cloudformation reads CloudTrail trails (AWS::CloudTrail::Trail)
// from CloudFormation templates, YAML or JSON, SAM templates and CDK synth
// output. Intrinsic functions are evaluated statically where their inputs
// are known (Ref to parameters, Fn::If with the template's Conditions,
// Fn::Equals/Not/And/Or, Fn::FindInMap, Fn::Sub, Fn::Join, Fn::Select,
// Fn::Split), in their short (!Ref) and long (Ref:, Fn::If:) forms.
//
// What cannot be known before the stack is deployed is UNKNOWN, and says
// why: pseudo parameters (AWS::AccountId, AWS::StackName, AWS::Region
// unless given), Fn::GetAtt, Fn::ImportValue, a Ref to a resource,
// parameters of Systems Manager types, {{resolve:...}} dynamic references,
// macros. Whether a trail exists is such a fact too: a Condition that
// cannot be decided makes the trail's existence unknown (worst case: no
// trail), a false one means it is not created (FAIL); the template's
// Rules, which may refuse the whole stack, count the same way. A property
// this reader does not know may be one CloudFormation refuses: the
// trail's creation is unknown. A nested stack, a
// registry module or a macro that may add trails is an UNKNOWN result
// naming it, never silence. A configuration CloudFormation rejects creates
// nothing: the trail is FAIL with "AWS rejects this configuration: ...".
//
// Templates are outside input. The reader refuses a template larger than
// MaxTemplateBytes, nested deeper than MaxDepth or with a duplicate key,
// and bounds the work of evaluating it (YAML aliases expand while
// evaluating: MaxExpandedNodes), each breach an error naming the file and
// line, so that one hostile file cannot exhaust memory or time while the
// others are checked. It stops when its context is cancelled.
package cloudformation

import (
	"bytes"
	"context"
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

// Limits on one template. A CloudFormation template body is at most 1 MB
// (S3-hosted templates likewise); MaxTemplateBytes leaves room for CDK
// output and comments. Real templates nest a few levels of intrinsics
// inside a few levels of sections: MaxDepth is far above that and far
// below what would exhaust a stack. MaxExpandedNodes bounds the nodes
// visited while evaluating, aliases expanded, so that a small file of
// nested aliases (a "billion laughs") cannot take memory or time in
// proportion to its expansion; MaxValueBytes bounds the strings that
// Fn::Join and Fn::Sub build from them.
const (
	MaxTemplateBytes = 4 << 20
	MaxDepth         = 100
	MaxExpandedNodes = 200_000
	MaxValueBytes    = 8 << 20
)

// Options are parameter values given on the command line (--cfn-param
// Key=Value), overriding the template's defaults. A pseudo parameter may
// be given too (AWS::Region=eu-west-1, AWS::AccountId=...): it is then
// taken as known. For a parameter of type AWS::SSM::Parameter::Value<...>
// the value given is, as for CloudFormation, the name of a Systems
// Manager parameter, whose value is only read at deploy time: it stays
// unknown.
type Options struct {
	Params map[string]string
}

// Template is what a template declares that matters to the control: its
// trails, and the parts that were not read (nested stacks, modules,
// macros) as UNKNOWN results naming them.
type Template struct {
	Trails []trailguard.IaCTrail
	Unread []trailguard.Result
	// Parameters names the parameters the template declares, so that a
	// --cfn-param no template declares can be reported.
	Parameters []string
}

// tmpl is one parsed template under evaluation.
type tmpl struct {
	ctx          context.Context
	file         string
	lines        []string
	commentText  map[string]bool       // text of the comments the parser read; see ignoreReason
	mayIgnore    bool                  // the file names trailguard:ignore somewhere
	params       map[string]*yaml.Node // Parameters.<name>
	conditions   map[string]*yaml.Node
	resources    map[string]*yaml.Node
	mappings     *yaml.Node
	opts         Options
	condCache    map[string]result
	evaluating   map[string]bool
	selectorKeys []selectorKey // keys of the selectors of the trail being built
	visited      int           // nodes visited while evaluating, aliases expanded
	produced     int           // bytes of strings built by Fn::Join and Fn::Sub
	notText      string        // a non-string met where selectors want strings
	depth        int           // current evaluation depth
	fatal        error         // a limit was breached or the context ended
}

// result is an evaluated value: v when known, else why it is not (unknown:
// decided only at deploy time; rejected: CloudFormation refuses it).
type result struct {
	v        any
	unknown  string
	rejected string
	noValue  bool // AWS::NoValue: the property is removed
}

func (r result) known() bool { return r.unknown == "" && r.rejected == "" }

func unknownf(format string, args ...any) result {
	return result{unknown: fmt.Sprintf(format, args...)}
}

func rejectedf(format string, args ...any) result {
	return result{rejected: fmt.Sprintf(format, args...)}
}

// IsTemplate reports whether b is a CloudFormation template: a mapping
// that declares AWSTemplateFormatVersion or whose Resources hold at least
// one resource with an AWS:: type. It reads the document tree only (no
// alias is expanded) and does not judge duplicates: Read reports those.
func IsTemplate(b []byte) bool {
	if len(b) > MaxTemplateBytes {
		// Too large to be read; Read reports it when the file looks like
		// a template.
		return false
	}
	var doc yaml.Node
	if yaml.Unmarshal(b, &doc) != nil || len(doc.Content) == 0 {
		return false
	}
	root := deref(doc.Content[0])
	if root.Kind != yaml.MappingNode {
		return false
	}
	if get(root, "AWSTemplateFormatVersion") != nil {
		return true
	}
	res := get(root, "Resources")
	if res == nil || res.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i+1 < len(res.Content); i += 2 {
		if strings.HasPrefix(res.Content[i].Value, "Fn::") { // Fn::Transform, Fn::ForEach::...
			return true
		}
		if typ := get(res.Content[i+1], "Type"); typ != nil && resourceType.MatchString(typ.Value) {
			return true
		}
	}
	return false
}

// resourceType matches CloudFormation resource type names: AWS::S3::Bucket,
// a registry type (Org::Service::Thing, a module ending in ::MODULE),
// Custom::Name.
var resourceType = regexp.MustCompile(`^(AWS|Alexa)::\w+::\w+|^\w+::\w+::\w+(::MODULE)?$|^Custom::\w+`)

// Read returns the trails of a template and the parts of it that were not
// read. A template that does not parse, breaches a limit or has a
// duplicate key is an error naming the file and line; so is a cancelled
// context (errors.Is(err, ctx.Err())).
func Read(ctx context.Context, file string, b []byte, o Options) (*Template, error) {
	if len(b) > MaxTemplateBytes {
		return nil, trailguard.ErrorAt(file, 0, "%d bytes, more than the %d-byte limit of a template", len(b), MaxTemplateBytes)
	}
	if err := ctx.Err(); err != nil {
		return nil, trailguard.ErrorAt(file, 0, "not read: %w", err)
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return &Template{}, nil
		}
		return nil, yamlErr(file, err)
	}
	// A second document would be a second template CloudFormation never
	// sees; an empty one (a trailing ---) is nothing.
	for {
		var more yaml.Node
		err := dec.Decode(&more)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, yamlErr(file, err)
		}
		if len(more.Content) > 0 && !(more.Content[0].Kind == yaml.ScalarNode && more.Content[0].ShortTag() == "!!null") {
			return nil, trailguard.ErrorAt(file, more.Line, "a second YAML document: a template is one document")
		}
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, trailguard.ErrorAt(file, doc.Line, "a template is a mapping of sections")
	}
	if err := checkTree(ctx, file, doc.Content[0]); err != nil {
		return nil, err
	}
	root := doc.Content[0]
	t := &tmpl{ctx: ctx, file: file, lines: strings.Split(string(b), "\n"), params: pairs(get(root, "Parameters")),
		conditions: pairs(get(root, "Conditions")), resources: pairs(get(root, "Resources")),
		mappings: get(root, "Mappings"), opts: o, condCache: map[string]result{}, evaluating: map[string]bool{},
		mayIgnore: bytes.Contains(b, []byte("trailguard:ignore"))}
	out := &Template{}
	for name := range t.params {
		out.Parameters = append(out.Parameters, name)
	}
	sort.Strings(out.Parameters)
	out.Unread = append(out.Unread, t.transforms(get(root, "Transform"))...)
	resources := get(root, "Resources")
	if resources == nil || resources.Kind != yaml.MappingNode {
		return out, nil
	}
	rules := t.rules(get(root, "Rules"))
	for i := 0; i+1 < len(resources.Content); i += 2 {
		key, res := resources.Content[i], deref(resources.Content[i+1])
		if u, ok := t.unreadResource(key, res); ok {
			out.Unread = append(out.Unread, u)
			continue
		}
		if typ := get(res, "Type"); typ == nil || typ.Value != "AWS::CloudTrail::Trail" {
			continue
		}
		tr := t.trail(key.Value, get(res, "Properties"))
		if c := get(res, "Condition"); c != nil {
			t.exists(&tr, key.Value, c)
		}
		switch {
		case rules.rejected != "" && tr.Absent == "":
			tr.Absent = "AWS rejects this configuration: " + rules.rejected
		case rules.unknown != "":
			tr.UnknownExists = strings.Join(appendNonEmpty([]string{"whether the stack is created: " + rules.unknown}, tr.UnknownExists), "; ")
		}
		tr.File, tr.Line = file, key.Line
		tr.Positions.Resource = t.pos(key)
		tr.Ignore = t.ignoreReason(root, key)
		out.Trails = append(out.Trails, tr)
		if t.fatal != nil {
			break
		}
	}
	if t.fatal != nil {
		return nil, t.fatal
	}
	sort.Slice(out.Trails, func(i, j int) bool { return out.Trails[i].Line < out.Trails[j].Line })
	sort.Slice(out.Unread, func(i, j int) bool { return out.Unread[i].Line < out.Unread[j].Line })
	return out, nil
}

// checkTree refuses what CloudFormation would refuse or what would make
// evaluation unbounded, before anything is evaluated: nesting deeper than
// MaxDepth and a key given twice in one mapping (CloudFormation's own
// parsers reject duplicates in JSON and YAML, and which one wins is
// undefined). Aliases are not followed: each node is visited once, so the
// walk is linear in the size of the file. Errors are placed at the line.
func checkTree(ctx context.Context, file string, root *yaml.Node) error {
	type item struct {
		n     *yaml.Node
		depth int
	}
	stack := []item{{root, 1}}
	for visited := 0; len(stack) > 0; visited++ {
		if visited%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return trailguard.ErrorAt(file, 0, "not read: %w", err)
			}
		}
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if it.depth > MaxDepth {
			return trailguard.ErrorAt(file, it.n.Line, "nested more than %d levels deep", MaxDepth)
		}
		if it.n.Kind == yaml.MappingNode {
			seen := make(map[string]int, len(it.n.Content)/2)
			for i := 0; i+1 < len(it.n.Content); i += 2 {
				k := it.n.Content[i]
				if k.Kind != yaml.ScalarNode {
					continue
				}
				if k.Tag == "!!merge" {
					// CloudFormation does not support hash merges, and
					// merged keys would escape what this reader looks at.
					return trailguard.ErrorAt(file, k.Line, "YAML merge key <<: CloudFormation does not support hash merges; write the keys out")
				}
				if first, ok := seen[k.Value]; ok {
					return trailguard.ErrorAt(file, k.Line, "duplicate key %q (first at line %d): CloudFormation rejects a template with a key given twice", k.Value, first)
				}
				seen[k.Value] = k.Line
			}
		}
		for _, c := range it.n.Content {
			stack = append(stack, item{c, it.depth + 1})
		}
	}
	return nil
}

// safeTransforms are the AWS transforms that cannot add, remove or change
// a CloudTrail trail: SAM expands AWS::Serverless::* resources (its nested
// applications are reported on their own), Secrets Manager adds rotation
// functions, CodeDeployBlueGreen ECS resources. AWS::LanguageExtensions
// adds Fn::ForEach, whose loops are reported where they may hold a trail.
// Any other macro (AWS::Include, an account's own) rewrites the template
// at deploy time in ways that cannot be known here.
var safeTransforms = map[string]bool{
	"AWS::Serverless-2016-10-31":     true,
	"AWS::SecretsManager-2020-07-23": true,
	"AWS::SecretsManager-2024-09-16": true,
	"AWS::CodeDeployBlueGreen":       true,
	"AWS::LanguageExtensions":        true,
}

// transforms reports the template-level macros that may change trails.
func (t *tmpl) transforms(n *yaml.Node) []trailguard.Result {
	if n == nil {
		return nil
	}
	n = deref(n)
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items = n.Content
	}
	var out []trailguard.Result
	for _, it := range items {
		it = deref(it)
		name := it.Value
		if it.Kind == yaml.MappingNode { // {Name: AWS::Include, Parameters: ...}
			if nm := get(it, "Name"); nm != nil {
				name = nm.Value
			}
		}
		if safeTransforms[name] {
			continue
		}
		if name == "" {
			name = "(not a name)"
		}
		out = append(out, trailguard.UnreadResult(t.file, it.Line, "Transform "+name,
			fmt.Sprintf("the macro %s rewrites the template when it is deployed and may add or change a trail", name)))
	}
	return out
}

// nestedTypes are resources that deploy another template this reader does
// not see.
var nestedTypes = map[string]string{
	"AWS::CloudFormation::Stack":                            "nested stack",
	"AWS::Serverless::Application":                          "nested SAM application",
	"AWS::CloudFormation::StackSet":                         "stack set",
	"AWS::ServiceCatalog::CloudFormationProvisionedProduct": "Service Catalog product",
}

// unreadResource reports a resource that stands for code this reader does
// not see: a nested stack, a registry module (a type ending in ::MODULE),
// a Fn::Transform snippet macro in place of resources, or a Fn::ForEach
// loop (AWS::LanguageExtensions) that declares a trail or a nested stack.
// A resource whose Condition is false is not created and is not reported.
func (t *tmpl) unreadResource(key, res *yaml.Node) (trailguard.Result, bool) {
	id := key.Value
	why := ""
	switch {
	case id == "Fn::Transform":
		why = "Fn::Transform in Resources: a macro adds resources when the stack is deployed"
	case strings.HasPrefix(id, "Fn::ForEach::"):
		if containsType(res) {
			why = id + ": a loop of AWS::LanguageExtensions that declares a trail or a nested stack is not expanded"
		}
	case get(res, "Fn::Transform") != nil:
		why = "Fn::Transform in resource " + id + ": a macro writes the resource when the stack is deployed"
	default:
		typ := get(res, "Type")
		if typ == nil {
			return trailguard.Result{}, false
		}
		if kind, ok := nestedTypes[typ.Value]; ok {
			why = fmt.Sprintf("%s %s (%s): its template is not read here; check it on its own", kind, id, typ.Value)
		} else if strings.HasSuffix(typ.Value, "::MODULE") {
			why = fmt.Sprintf("module %s (%s): a registry module's resources are not read here", id, typ.Value)
		}
	}
	if why == "" {
		return trailguard.Result{}, false
	}
	if c := get(res, "Condition"); c != nil {
		r := t.condition(c.Value)
		if r.known() && r.v == false {
			return trailguard.Result{}, false
		}
		if !r.known() {
			why += " (created or not depending on Condition " + c.Value + ")"
		}
	}
	return trailguard.UnreadResult(t.file, key.Line, id, why), true
}

// containsType reports whether a subtree names a trail, nested stack or
// module type. Aliases are not followed (their targets are walked where
// they are defined).
func containsType(n *yaml.Node) bool {
	stack := []*yaml.Node{n}
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if c.Kind == yaml.ScalarNode {
			if _, nested := nestedTypes[c.Value]; nested || c.Value == "AWS::CloudTrail::Trail" || strings.HasSuffix(c.Value, "::MODULE") {
				return true
			}
		}
		stack = append(stack, c.Content...)
	}
	return false
}

// exists applies a resource's Condition to the trail: false means the
// trail is not created (Absent), undecidable means its existence is
// unknown (UnknownExists), and a condition CloudFormation refuses means
// nothing is created.
func (t *tmpl) exists(tr *trailguard.IaCTrail, id string, c *yaml.Node) {
	c = deref(c)
	absent, unknown := "", ""
	if c.Kind != yaml.ScalarNode {
		absent = fmt.Sprintf("AWS rejects this configuration: line %d: the Condition of %s must name a condition", c.Line, id)
	} else {
		r := t.condition(c.Value)
		switch {
		case r.rejected != "":
			absent = "AWS rejects this configuration: " + r.rejected
		case r.unknown != "":
			unknown = fmt.Sprintf("Condition %s of %s decides whether the trail is created: %s", c.Value, id, r.unknown)
		case r.v == false:
			absent = fmt.Sprintf("Condition %s of %s is false", c.Value, id)
		}
	}
	// What the properties already said stays: a refused property is not
	// made good by a condition, and two unknowns are both named.
	if tr.Absent == "" {
		tr.Absent = absent
	}
	if unknown != "" {
		tr.UnknownExists = strings.Join(appendNonEmpty([]string{unknown}, tr.UnknownExists), "; ")
	}
}

// trail builds the IaC trail from a resource's Properties.
func (t *tmpl) trail(id string, propsNode *yaml.Node) trailguard.IaCTrail {
	it := trailguard.IaCTrail{Resource: id}
	var rejected []string
	props, whole := t.resolveNode(propsNode)
	if whole.rejected != "" {
		rejected = append(rejected, "Properties of "+id+": "+whole.rejected)
	}
	prop := func(name string) result {
		if !whole.known() {
			return whole
		}
		n := get(props, name)
		if n == nil {
			return result{noValue: true}
		}
		return t.eval(n)
	}
	boolProp := func(name string, def bool) (bool, string) {
		r := prop(name)
		switch {
		case r.rejected != "":
			rejected = append(rejected, fmt.Sprintf("%s of %s: %s", name, id, r.rejected))
			return def, ""
		case r.unknown != "":
			return def, fmt.Sprintf("%s of %s: %s", name, id, r.unknown)
		case r.noValue:
			return def, ""
		}
		b, ok := toBool(r.v)
		if !ok {
			rejected = append(rejected, fmt.Sprintf("%s of %s is %s, not a boolean", name, id, brief(r.v)))
			return def, ""
		}
		return b, ""
	}
	name := id
	if r := prop("TrailName"); r.known() && !r.noValue {
		if s, ok := text(r.v); ok {
			name = s
		}
	}
	multi, unkMulti := boolProp("IsMultiRegionTrail", false)
	// CloudFormation requires IsLogging: a trail without it is not logging
	// as far as the template says.
	logging, unkLog := boolProp("IsLogging", false)
	global, unkGlobal := boolProp("IncludeGlobalServiceEvents", true)
	org, _ := boolProp("IsOrganizationTrail", false)
	validation, _ := boolProp("EnableLogFileValidation", false)
	if unkGlobal != "" && unkMulti == "" && multi {
		// A multi-region trail without global service events is rejected:
		// an unknown value here decides whether the trail is created.
		unkMulti = unkGlobal
	}
	it.Trail = trailguard.Trail{Name: name, ARN: id, IsMultiRegion: multi, IsOrganizationTrail: org,
		IncludeGlobalServiceEvents: global, LogFileValidationEnabled: validation,
		Status: &trailguard.TrailStatus{IsLogging: logging}}
	it.UnknownMultiRegion, it.UnknownLogging = unkMulti, unkLog
	it.Positions.MultiRegion = t.keyPos(props, "IsMultiRegionTrail")
	it.Positions.Logging = t.keyPos(props, "IsLogging")
	it.Positions.GlobalEvents = t.keyPos(props, "IncludeGlobalServiceEvents")
	it.Positions.Selectors = t.keyPos(props, "EventSelectors")
	if adv := t.keyPos(props, "AdvancedEventSelectors"); it.Positions.Selectors.IsZero() || !adv.IsZero() && adv.Line < it.Positions.Selectors.Line {
		it.Positions.Selectors = adv
	}

	// listProp is a list-valued property: a value of another type is
	// rejected, a null one is unknown (whether CloudFormation drops it or
	// refuses it is not established here).
	listProp := func(name string) result {
		r := prop(name)
		if !r.known() || r.noValue {
			return r
		}
		switch r.v.(type) {
		case []any:
			return r
		case nil:
			return unknownf("%s is null", name)
		}
		return rejectedf("%s is not a list", name)
	}
	sel := &trailguard.EventSelectors{}
	if r := listProp("EventSelectors"); r.rejected != "" {
		rejected = append(rejected, "EventSelectors of "+id+": "+r.rejected)
	} else if r.unknown != "" {
		it.UnknownSelectors = "EventSelectors of " + id + ": " + r.unknown
	} else {
		for _, e := range asList(r.v) {
			m, ok := e.(map[string]any)
			if !ok {
				rejected = append(rejected, fmt.Sprintf("an EventSelectors entry of %s is not an object", id))
				continue
			}
			t.noteKeys(m, eventSelectorProperties, "EventSelectors key")
			es := trailguard.EventSelector{ReadWriteType: "All", IncludeManagementEvents: true}
			if v, ok := m["ReadWriteType"]; ok {
				es.ReadWriteType, _ = text(v)
				switch es.ReadWriteType {
				case "All", "ReadOnly", "WriteOnly":
				default:
					rejected = append(rejected, fmt.Sprintf("ReadWriteType of %s is %s, not All, ReadOnly or WriteOnly", id, brief(v)))
				}
			}
			if v, ok := m["IncludeManagementEvents"]; ok {
				b, ok := toBool(v)
				if !ok {
					rejected = append(rejected, fmt.Sprintf("IncludeManagementEvents of %s is %s, not a boolean", id, brief(v)))
				}
				es.IncludeManagementEvents = b
			}
			es.ExcludeManagementEventSources = t.strs(m["ExcludeManagementEventSources"])
			for _, d := range asList(m["DataResources"]) {
				dm, _ := d.(map[string]any)
				typ, _ := text(dm["Type"])
				es.DataResources = append(es.DataResources, trailguard.DataResource{Type: typ, Values: t.strs(dm["Values"])})
			}
			sel.Basic = append(sel.Basic, es)
		}
	}
	if r := listProp("AdvancedEventSelectors"); r.rejected != "" {
		rejected = append(rejected, "AdvancedEventSelectors of "+id+": "+r.rejected)
	} else if r.unknown != "" {
		it.UnknownSelectors = "AdvancedEventSelectors of " + id + ": " + r.unknown
	} else {
		for _, e := range asList(r.v) {
			m, ok := e.(map[string]any)
			if !ok {
				rejected = append(rejected, fmt.Sprintf("an AdvancedEventSelectors entry of %s is not an object", id))
				continue
			}
			t.noteKeys(m, advancedSelectorProperties, "AdvancedEventSelectors key")
			as := trailguard.AdvancedEventSelector{}
			if v, ok := m["Name"]; ok {
				as.Name, _ = text(v)
			}
			for _, f := range asList(m["FieldSelectors"]) {
				fm, ok := f.(map[string]any)
				if !ok {
					rejected = append(rejected, fmt.Sprintf("a FieldSelectors entry of %s is not an object", id))
					continue
				}
				t.noteKeys(fm, fieldSelectorProperties, "FieldSelectors key")
				field, _ := text(fm["Field"])
				as.FieldSelectors = append(as.FieldSelectors, trailguard.FieldSelector{
					Field: field, Equals: t.strs(fm["Equals"]), NotEquals: t.strs(fm["NotEquals"]),
					StartsWith: t.strs(fm["StartsWith"]), NotStartsWith: t.strs(fm["NotStartsWith"]),
					EndsWith: t.strs(fm["EndsWith"]), NotEndsWith: t.strs(fm["NotEndsWith"]),
				})
			}
			sel.Advanced = append(sel.Advanced, as)
		}
	}
	if t.notText != "" {
		rejected = append(rejected, fmt.Sprintf("a selector of %s holds %s where a string is expected", id, t.notText))
		t.notText = ""
	}
	if len(sel.Basic) > 0 && len(sel.Advanced) > 0 {
		rejected = append(rejected, id+" sets both EventSelectors and AdvancedEventSelectors; a trail takes one or the other")
	}
	if len(sel.Basic) == 0 && len(sel.Advanced) == 0 {
		sel = trailguard.DefaultSelectors()
	}
	it.Trail.Selectors = sel
	var unknownKeys []string
	if props != nil && props.Kind == yaml.MappingNode {
		for i := 0; i < len(props.Content); i += 2 {
			rej, unk := checkKey(props.Content[i].Value, trailProperties, "property", id)
			rejected, unknownKeys = appendNonEmpty(rejected, rej), appendNonEmpty(unknownKeys, unk)
		}
	}
	for _, k := range t.selectorKeys {
		rej, unk := checkKey(k.key, k.known, k.what, id)
		rejected, unknownKeys = appendNonEmpty(rejected, rej), appendNonEmpty(unknownKeys, unk)
	}
	t.selectorKeys = nil
	if len(rejected) > 0 {
		it.Absent = "AWS rejects this configuration: " + strings.Join(rejected, "; ")
	}
	if len(unknownKeys) > 0 {
		it.UnknownExists = strings.Join(unknownKeys, "; ")
	}
	return it
}

// The property names of AWS::CloudTrail::Trail and of its selector types
// (CloudFormation resource specification). CloudFormation refuses a
// property it does not know, and names are case-sensitive: a key that
// differs from a known one only in case (eventSelectors) is rejected; any
// other unknown key may be a property newer than this list, so the trail's
// creation is unknown rather than refused.
var (
	trailProperties = []string{"AdvancedEventSelectors", "AggregationConfigurations", "CloudWatchLogsLogGroupArn",
		"CloudWatchLogsRoleArn", "EnableLogFileValidation", "EventSelectors", "IncludeGlobalServiceEvents",
		"InsightSelectors", "IsLogging", "IsMultiRegionTrail", "IsOrganizationTrail", "KMSKeyId", "S3BucketName",
		"S3KeyPrefix", "SnsTopicName", "Tags", "TrailName"}
	eventSelectorProperties    = []string{"DataResources", "ExcludeManagementEventSources", "IncludeManagementEvents", "ReadWriteType"}
	advancedSelectorProperties = []string{"FieldSelectors", "Name"}
	fieldSelectorProperties    = []string{"EndsWith", "Equals", "Field", "NotEndsWith", "NotEquals", "NotStartsWith", "StartsWith"}
)

// selectorKey is a key met inside a selector, checked once the trail is
// built.
type selectorKey struct {
	key   string
	known []string
	what  string
}

// checkKey judges one property name: rejected when it is a known name in
// the wrong case, unknown when it is not known at all.
func checkKey(key string, known []string, what, id string) (rejected, unknown string) {
	for _, k := range known {
		if k == key {
			return "", ""
		}
	}
	for _, k := range known {
		if strings.EqualFold(k, key) {
			return fmt.Sprintf("%s %s of %s is spelt %s (names are case-sensitive)", what, key, id, k), ""
		}
	}
	return "", fmt.Sprintf("%s %s of %s is not one this reader knows: CloudFormation refuses it unless it is newer than this reader", what, key, id)
}

func appendNonEmpty(l []string, s string) []string {
	if s == "" {
		return l
	}
	return append(l, s)
}

// noteKeys records the keys of a selector map for checkKey.
func (t *tmpl) noteKeys(m map[string]any, known []string, what string) {
	for k := range m {
		t.selectorKeys = append(t.selectorKeys, selectorKey{k, known, what})
	}
	sort.Slice(t.selectorKeys, func(i, j int) bool { return t.selectorKeys[i].key < t.selectorKeys[j].key })
}

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

// pseudoParams are CloudFormation's pseudo parameters. Each depends on
// where and as what the stack is deployed, so each is unknown unless
// given with --cfn-param; AWS::Partition and AWS::URLSuffix follow from a
// given AWS::Region.
var pseudoParams = map[string]bool{
	"AWS::AccountId": true, "AWS::NotificationARNs": true, "AWS::Partition": true, "AWS::Region": true,
	"AWS::StackId": true, "AWS::StackName": true, "AWS::URLSuffix": true,
}

func (t *tmpl) ref(name string, line int) result {
	if name == "AWS::NoValue" {
		return result{noValue: true}
	}
	if pseudoParams[name] {
		if v, ok := t.opts.Params[name]; ok {
			return result{v: v}
		}
		if region, ok := t.opts.Params["AWS::Region"]; ok {
			if v := fromRegion(name, region); v != "" {
				return result{v: v}
			}
		}
		return unknownf("line %d: Ref %s is known only at deploy time (--cfn-param %s=... gives it)", line, name, name)
	}
	p, ok := t.params[name]
	if !ok {
		if _, res := t.resources[name]; res {
			return unknownf("line %d: Ref %s names a resource, known only at deploy time", line, name)
		}
		return rejectedf("line %d: Ref %s names no parameter or resource of the template", line, name)
	}
	typ := ""
	if ty := get(p, "Type"); ty != nil {
		typ = strings.TrimSpace(ty.Value)
	}
	given, isGiven := t.opts.Params[name]
	switch {
	case strings.HasPrefix(typ, "AWS::SSM::Parameter::Value<"):
		// The parameter's value, given or default, is the name of a
		// Systems Manager parameter; CloudFormation reads the value behind
		// it at deploy time.
		path := given
		if !isGiven {
			if d := get(p, "Default"); d != nil {
				path = deref(d).Value
			}
		}
		return unknownf("line %d: Ref %s is the value of the Systems Manager parameter %q (type %s), read only at deploy time", line, name, path, typ)
	case typ == "AWS::SSM::Parameter::Name" && !isGiven:
		// Ref gives the name itself, but the stack is created only if a
		// parameter of that name exists then: the default is not taken
		// as known.
		return unknownf("line %d: Ref %s is a Systems Manager parameter name (type %s) checked only at deploy time (--cfn-param %s=... gives it)", line, name, typ, name)
	}
	var r result
	switch d := get(p, "Default"); {
	case isGiven:
		r = result{v: given}
	case d != nil:
		r = t.eval(d)
	}
	if isGiven || get(p, "Default") != nil {
		if r.known() && !isList(typ) {
			if allowed := get(p, "AllowedValues"); allowed != nil && !t.allows(allowed, r.v) {
				return rejectedf("line %d: parameter %s is %s, not one of its AllowedValues", line, name, brief(r.v))
			}
		}
		return t.paramValue(typ, r)
	}
	return unknownf("line %d: Ref %s: the parameter has no Default and no value is given (--cfn-param %s=...)", line, name, name)
}

func isList(typ string) bool { return typ == "CommaDelimitedList" || strings.HasPrefix(typ, "List<") }

// allows reports whether a parameter's AllowedValues hold v; CloudFormation
// refuses to create a stack with any other value. AllowedValues that
// cannot be read are taken to allow it.
func (t *tmpl) allows(allowed *yaml.Node, v any) bool {
	l := t.eval(allowed)
	if !l.known() {
		return true
	}
	list, ok := l.v.([]any)
	if !ok {
		return true
	}
	for _, a := range list {
		if same(a, v) {
			return true
		}
	}
	return false
}

// paramValue gives a parameter's value as Ref returns it: a list for the
// list types (from a comma-delimited string), the string otherwise.
func (t *tmpl) paramValue(typ string, r result) result {
	if !r.known() {
		return r
	}
	if s, ok := r.v.(string); ok && isList(typ) {
		var out []any
		for _, p := range strings.Split(s, ",") {
			out = append(out, strings.TrimSpace(p))
		}
		return result{v: out}
	}
	return r
}

// fromRegion derives AWS::Partition and AWS::URLSuffix from a region name
// for the partitions whose names and suffixes are public; others stay
// unknown.
func fromRegion(name, region string) string {
	partition, suffix := "aws", "amazonaws.com"
	switch {
	case strings.HasPrefix(region, "cn-"):
		partition, suffix = "aws-cn", "amazonaws.com.cn"
	case strings.HasPrefix(region, "us-gov-"):
		partition = "aws-us-gov"
	case strings.Contains(region, "-iso"), strings.HasPrefix(region, "eusc-"):
		return ""
	}
	switch name {
	case "AWS::Partition":
		return partition
	case "AWS::URLSuffix":
		return suffix
	}
	return ""
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

// Parses reports whether b is well-formed YAML (JSON included).
func Parses(b []byte) bool {
	var n yaml.Node
	err := yaml.Unmarshal(b, &n)
	return err == nil
}
