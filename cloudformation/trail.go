package cloudformation

import (
	"fmt"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/trailguard/trailguard"
)

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
	if tr.Absent == "" && absent != "" {
		tr.Absent = absent
		tr.Positions.Exists = t.pos(c)
	}
	if unknown != "" {
		if tr.Absent == "" {
			tr.Positions.Exists = t.pos(c)
		}
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
		var rej []string
		sel.Basic, rej = t.basicSelectors(id, asList(r.v))
		rejected = append(rejected, rej...)
	}
	if r := listProp("AdvancedEventSelectors"); r.rejected != "" {
		rejected = append(rejected, "AdvancedEventSelectors of "+id+": "+r.rejected)
	} else if r.unknown != "" {
		it.UnknownSelectors = "AdvancedEventSelectors of " + id + ": " + r.unknown
	} else {
		var rej []string
		sel.Advanced, rej = t.advancedSelectors(id, asList(r.v))
		rejected = append(rejected, rej...)
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

// basicSelectors reads the entries of a trail's EventSelectors; rejected
// names what CloudFormation refuses in them.
func (t *tmpl) basicSelectors(id string, entries []any) (out []trailguard.EventSelector, rejected []string) {
	for _, e := range entries {
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
		out = append(out, es)
	}
	return out, rejected
}

// advancedSelectors reads the entries of a trail's AdvancedEventSelectors;
// rejected names what CloudFormation refuses in them.
func (t *tmpl) advancedSelectors(id string, entries []any) (out []trailguard.AdvancedEventSelector, rejected []string) {
	for _, e := range entries {
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
		out = append(out, as)
	}
	return out, rejected
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
