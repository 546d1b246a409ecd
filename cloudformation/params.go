package cloudformation

import (
	"strings"

	"gopkg.in/yaml.v3"
)

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
