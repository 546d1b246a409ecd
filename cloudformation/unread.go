package cloudformation

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/trailguard/trailguard"
)

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
