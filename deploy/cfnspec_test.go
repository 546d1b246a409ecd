package deploy_test

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
)

// The check is written here: the tools that validate templates against
// the specification (cfn-lint, the CDK) are Python and TypeScript, and the
// rules this test needs — types, required and known properties — are a
// short walk over the specification's JSON.

// cfnSpec is the part of the published CloudFormation resource
// specification (@aws-cdk/cfnspec, spec/specification.json) the check
// reads.
type cfnSpec struct {
	Version       string                 `json:"ResourceSpecificationVersion"`
	ResourceTypes map[string]cfnSpecType `json:"ResourceTypes"`
	PropertyTypes map[string]cfnSpecType `json:"PropertyTypes"`
}

type cfnSpecType struct {
	Properties map[string]cfnSpecProp `json:"Properties"`
	Attributes map[string]any         `json:"Attributes"`
}

type cfnSpecProp struct {
	Required      bool   `json:"Required"`
	Type          string `json:"Type"`
	ItemType      string `json:"ItemType"`
	PrimitiveType string `json:"PrimitiveType"`
}

var (
	specOnce sync.Once
	spec     *cfnSpec
	specErr  error
)

// loadSpec reads the specification .ci/run fetches (TRAILGUARD_CFN_SPEC),
// or the copy a developer unpacked in /tmp/cfnspec; without it the test
// skips, unless TRAILGUARD_REQUIRE_CFN_SPEC=1.
func loadSpec(t *testing.T) *cfnSpec {
	t.Helper()
	specOnce.Do(func() {
		path := os.Getenv("TRAILGUARD_CFN_SPEC")
		if path == "" {
			path = "/tmp/cfnspec/package/spec/specification.json"
		}
		b, err := os.ReadFile(path)
		if err != nil {
			specErr = err
			return
		}
		spec = &cfnSpec{}
		specErr = json.Unmarshal(b, spec)
	})
	if specErr != nil {
		if os.Getenv("TRAILGUARD_REQUIRE_CFN_SPEC") == "1" {
			t.Fatalf("CloudFormation resource specification: %v", specErr)
		}
		t.Skipf("no CloudFormation resource specification (npm pack @aws-cdk/cfnspec@2.72.1; set TRAILGUARD_CFN_SPEC): %v", specErr)
	}
	return spec
}

// intrinsic says whether v is a CloudFormation function ({"Ref": …},
// {"Fn::…": …}), whose value is known only at deployment.
func intrinsic(v any) bool {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return false
	}
	for k := range m {
		return k == "Ref" || strings.HasPrefix(k, "Fn::") || k == "Condition"
	}
	return false
}

// checkTemplate returns every way the template departs from the
// specification: unknown resource types, missing required properties,
// unknown property names, recursively into the property types the
// specification names; and every reference that names nothing. Nested templates (a StackSet's TemplateBody) are
// checked too.
func checkTemplate(s *cfnSpec, tmpl map[string]any, where string) []string {
	var errs []string
	res, _ := tmpl["Resources"].(map[string]any)
	if len(res) == 0 {
		return []string{where + ": no Resources"}
	}
	errs = append(errs, checkReferences(s, tmpl, where)...)
	for id, r := range res {
		rm, _ := r.(map[string]any)
		typ, _ := rm["Type"].(string)
		rt, ok := s.ResourceTypes[typ]
		if !ok {
			errs = append(errs, fmt.Sprintf("%s: %s: resource type %q is not in the specification", where, id, typ))
			continue
		}
		props, _ := rm["Properties"].(map[string]any)
		errs = append(errs, checkProps(s, typ, rt, props, where+": "+id)...)
		if body, ok := props["TemplateBody"].(string); ok && typ == "AWS::CloudFormation::StackSet" {
			var nested map[string]any
			if err := json.Unmarshal([]byte(body), &nested); err != nil {
				errs = append(errs, fmt.Sprintf("%s: %s: TemplateBody is not JSON: %v", where, id, err))
			} else {
				errs = append(errs, checkTemplate(s, nested, where+": "+id+".TemplateBody")...)
			}
		}
	}
	sort.Strings(errs)
	return errs
}

func checkProps(s *cfnSpec, resType string, t cfnSpecType, props map[string]any, where string) []string {
	var errs []string
	for name, p := range t.Properties {
		if _, ok := props[name]; p.Required && !ok {
			errs = append(errs, fmt.Sprintf("%s: required property %s is missing", where, name))
		}
	}
	for name, v := range props {
		p, ok := t.Properties[name]
		if !ok {
			errs = append(errs, fmt.Sprintf("%s: property %s is not in the specification", where, name))
			continue
		}
		if intrinsic(v) || p.PrimitiveType != "" {
			continue
		}
		sub := func(typeName string, v any, at string) {
			if intrinsic(v) {
				return
			}
			pt, ok := s.PropertyTypes[resType+"."+typeName]
			if !ok {
				pt, ok = s.PropertyTypes[typeName] // Tag
			}
			m, isMap := v.(map[string]any)
			switch {
			case !ok:
				errs = append(errs, fmt.Sprintf("%s: property type %s.%s is not in the specification", at, resType, typeName))
			case !isMap:
				errs = append(errs, fmt.Sprintf("%s: want a %s structure, got %T", at, typeName, v))
			default:
				errs = append(errs, checkProps(s, resType, pt, m, at)...)
			}
		}
		switch p.Type {
		case "List":
			items, isList := v.([]any)
			if !isList {
				errs = append(errs, fmt.Sprintf("%s.%s: want a list, got %T", where, name, v))
				continue
			}
			if p.ItemType != "" {
				for i, it := range items {
					sub(p.ItemType, it, fmt.Sprintf("%s.%s[%d]", where, name, i))
				}
			}
		case "Map":
			m, isMap := v.(map[string]any)
			if !isMap {
				errs = append(errs, fmt.Sprintf("%s.%s: want a map, got %T", where, name, v))
				continue
			}
			if p.ItemType != "" {
				for k, it := range m {
					sub(p.ItemType, it, where+"."+name+"."+k)
				}
			}
		default:
			sub(p.Type, v, where+"."+name)
		}
	}
	return errs
}

// Every template deploy writes, for every flag combination that changes
// it, uses only resource types and property names of the published
// CloudFormation resource specification, with every required property.
func TestCloudFormation_matches_the_resource_specification(t *testing.T) {
	s := loadSpec(t)
	if s.Version != "117.0.0" {
		t.Logf("specification %s (the check was written against 117.0.0)", s.Version)
	}
	for _, tc := range cases() {
		t.Run(tc.name, func(t *testing.T) {
			var tmpl map[string]any
			if err := json.Unmarshal(emit(t, tc.o), &tmpl); err != nil {
				t.Fatalf("template is not JSON: %v", err)
			}
			for _, e := range checkTemplate(s, tmpl, "template") {
				t.Error(e)
			}
		})
	}
}

// The check itself finds what it is there to find: an unknown type, a
// misspelt property (nested too), a missing required one.
func TestCloudFormation_spec_check_catches_mistakes(t *testing.T) {
	s := loadSpec(t)
	cases := []struct {
		name, template, want string
	}{
		{"unknown_resource_type", `{"Resources":{"X":{"Type":"AWS::Lambda::Functions","Properties":{}}}}`, "not in the specification"},
		{"misspelt_property", `{"Resources":{"X":{"Type":"AWS::SNS::Topic","Properties":{"KmsMasterKeyID":"k"}}}}`, "property KmsMasterKeyID"},
		{"missing_required_property", `{"Resources":{"X":{"Type":"AWS::Lambda::Permission","Properties":{"Action":"lambda:InvokeFunction","Principal":"config.amazonaws.com"}}}}`, "required property FunctionName"},
		{"misspelt_nested_property", `{"Resources":{"X":{"Type":"AWS::Config::ConfigRule","Properties":{"Source":{"Owner":"CUSTOM_LAMBDA","SourceIdentifier":"a","SourceDetail":[]}}}}}`, "Source: property SourceDetail"},
		{"missing_nested_required", `{"Resources":{"X":{"Type":"AWS::Config::ConfigRule","Properties":{"Source":{"SourceIdentifier":"a"}}}}}`, "Source: required property Owner"},
		{"missing_required_in_list_item", `{"Resources":{"X":{"Type":"AWS::CloudFormation::StackSet","Properties":{"StackSetName":"s","PermissionModel":"SERVICE_MANAGED","StackInstancesGroup":[{"Regions":["us-east-1"]}]}}}}`, "StackInstancesGroup[0]: required property DeploymentTargets"},
		{"ref_to_nothing", `{"Resources":{"X":{"Type":"AWS::SNS::Topic","Properties":{"TopicName":{"Ref":"Nope"}}}}}`, "Ref Nope names nothing"},
		{"getatt_unknown_attribute", `{"Resources":{"T":{"Type":"AWS::SNS::Topic"},"X":{"Type":"AWS::SNS::Subscription","Properties":{"Protocol":"email","TopicArn":{"Fn::GetAtt":["T","Arn"]}}}}}`, "has no attribute Arn"},
		{"sub_variable_to_nothing", `{"Resources":{"X":{"Type":"AWS::SNS::Topic","Properties":{"TopicName":{"Fn::Sub":"${AWS::Region}-${Missing}"}}}}}`, "${Missing} names nothing"},
		{"depends_on_nothing", `{"Resources":{"X":{"Type":"AWS::SNS::Topic","DependsOn":["Y"]}}}`, "DependsOn Y"},
		{"undeclared_condition", `{"Resources":{"X":{"Type":"AWS::SNS::Topic","Condition":"C"}}}`, "Condition C is not declared"},
		{"stackset_template_body_checked", `{"Resources":{"X":{"Type":"AWS::CloudFormation::StackSet","Properties":{"StackSetName":"s","PermissionModel":"SERVICE_MANAGED","TemplateBody":"{\"Resources\":{\"R\":{\"Type\":\"AWS::IAM::Rolle\"}}}"}}}}`, "TemplateBody: R: resource type"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var tmpl map[string]any
			if err := json.Unmarshal([]byte(tc.template), &tmpl); err != nil {
				t.Fatal(err)
			}
			errs := checkTemplate(s, tmpl, "template")
			if !strings.Contains(strings.Join(errs, "\n"), tc.want) {
				t.Errorf("errors %q, want one naming %q", errs, tc.want)
			}
		})
	}
}

var subVar = regexp.MustCompile(`\$\{([^}!][^}]*)\}`)

// checkReferences finds every Ref, Fn::GetAtt, Fn::Sub variable,
// DependsOn and Condition of the template that names nothing: a logical id
// that is not a resource, parameter or pseudo parameter, an attribute the
// specification does not give the resource type, a condition not declared.
func checkReferences(s *cfnSpec, tmpl map[string]any, where string) []string {
	var errs []string
	res, _ := tmpl["Resources"].(map[string]any)
	params, _ := tmpl["Parameters"].(map[string]any)
	conds, _ := tmpl["Conditions"].(map[string]any)
	known := func(name string) bool {
		_, r := res[name]
		_, p := params[name]
		return r || p || strings.HasPrefix(name, "AWS::")
	}
	var walk func(v any, at string)
	walk = func(v any, at string) {
		switch v := v.(type) {
		case []any:
			for _, x := range v {
				walk(x, at)
			}
		case map[string]any:
			if r, ok := v["Ref"].(string); ok && len(v) == 1 && !known(r) {
				errs = append(errs, fmt.Sprintf("%s: %s: Ref %s names nothing", where, at, r))
			}
			if ga, ok := v["Fn::GetAtt"].([]any); ok && len(v) == 1 {
				id, _ := ga[0].(string)
				attr, _ := ga[1].(string)
				r, isRes := res[id].(map[string]any)
				if !isRes {
					errs = append(errs, fmt.Sprintf("%s: %s: Fn::GetAtt %s names no resource", where, at, id))
				} else if typ, _ := r["Type"].(string); s.ResourceTypes[typ].Attributes[attr] == nil {
					errs = append(errs, fmt.Sprintf("%s: %s: %s has no attribute %s", where, at, typ, attr))
				}
			}
			if sub, ok := v["Fn::Sub"]; ok && len(v) == 1 {
				str, vars := "", map[string]any{}
				switch sub := sub.(type) {
				case string:
					str = sub
				case []any:
					str, _ = sub[0].(string)
					vars, _ = sub[1].(map[string]any)
				}
				for _, m := range subVar.FindAllStringSubmatch(str, -1) {
					name := strings.SplitN(m[1], ".", 2)[0]
					if _, ok := vars[m[1]]; !ok && !known(name) {
						errs = append(errs, fmt.Sprintf("%s: %s: Fn::Sub variable ${%s} names nothing", where, at, m[1]))
					}
				}
			}
			for k, x := range v {
				walk(x, at+"."+k)
			}
		}
	}
	for id, r := range res {
		rm, _ := r.(map[string]any)
		walk(rm["Properties"], id)
		deps := rm["DependsOn"]
		if d, ok := deps.(string); ok {
			deps = []any{d}
		}
		for _, d := range func() []any { l, _ := deps.([]any); return l }() {
			if _, ok := res[d.(string)]; !ok {
				errs = append(errs, fmt.Sprintf("%s: %s: DependsOn %v names no resource", where, id, d))
			}
		}
		if c, ok := rm["Condition"].(string); ok {
			if _, ok := conds[c]; !ok {
				errs = append(errs, fmt.Sprintf("%s: %s: Condition %s is not declared", where, id, c))
			}
		}
	}
	walk(tmpl["Outputs"], "Outputs")
	walk(tmpl["Conditions"], "Conditions")
	return errs
}
