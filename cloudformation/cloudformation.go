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

// Parses reports whether b is well-formed YAML (JSON included).
func Parses(b []byte) bool {
	var n yaml.Node
	err := yaml.Unmarshal(b, &n)
	return err == nil
}
