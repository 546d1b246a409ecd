package terraform

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	tfjson "github.com/hashicorp/terraform-json"
	"github.com/zclconf/go-cty/cty"

	"github.com/trailguard/trailguard"
)

// IsPlan reports whether b looks like plan JSON (terraform show -json
// PLANFILE): an object with format_version and resource_changes or
// planned_values.
//
// A file over the reader's limits that carries those keys is taken for a
// plan, so that ReadPlan reports the breach rather than another reader
// taking the file.
func IsPlan(b []byte) bool {
	if len(b) > MaxFileSize || checkJSON("", b, false) != nil {
		head := b[:min(len(b), 1<<16)]
		return bytes.Contains(head, []byte(`"format_version"`)) &&
			(bytes.Contains(b, []byte(`"resource_changes"`)) || bytes.Contains(b, []byte(`"planned_values"`)))
	}
	var probe struct {
		FormatVersion   string          `json:"format_version"`
		ResourceChanges json.RawMessage `json:"resource_changes"`
		PlannedValues   json.RawMessage `json:"planned_values"`
	}
	if json.Unmarshal(b, &probe) != nil {
		return false
	}
	return probe.FormatVersion != "" && (probe.ResourceChanges != nil || probe.PlannedValues != nil)
}

// ReadPlanFile reads a plan file within the reader's limits (a regular
// file of at most MaxFileSize bytes) and returns its trails.
func ReadPlanFile(file string) ([]trailguard.IaCTrail, error) {
	b, err := readFile(file)
	if err != nil {
		return nil, err
	}
	return ReadPlan(file, b)
}

// ReadPlan returns the trails a plan creates, keeps or deletes, with the
// values known at plan time. The same rules as for HCL apply: a value the
// plan marks unknown (after_unknown), or that Terraform would not convert
// to the attribute's type, makes what it decides unknown; a deciding
// attribute the plan does not show at all is unknown (terraform show
// always prints every attribute); a trail the plan deletes is absent; a
// trail whose change is deferred may or may not exist.
func ReadPlan(file string, b []byte) ([]trailguard.IaCTrail, error) {
	if len(b) > MaxFileSize {
		return nil, trailguard.ErrorAt(file, 0, "%d bytes, more than the %d bytes this reader accepts", len(b), MaxFileSize)
	}
	if err := checkJSON(file, b, false); err != nil {
		return nil, err
	}
	var p tfjson.Plan
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, jsonErr(file, b, err)
	}
	var out []trailguard.IaCTrail
	var index *planIndex // built at the first trail
	add := func(rc *tfjson.ResourceChange, deferred string) {
		if rc == nil || rc.Type != "aws_cloudtrail" || rc.Mode != tfjson.ManagedResourceMode {
			return
		}
		t := planTrail(rc, deferred)
		t.File, t.Line = file, lineOf(b, rc.Address)
		if index == nil {
			index = newPlanIndex(b)
		}
		t.Positions = index.positions(file, rc.Address)
		out = append(out, t)
	}
	for _, rc := range p.ResourceChanges {
		add(rc, "")
	}
	for _, dc := range p.DeferredChanges {
		if dc != nil {
			reason := dc.Reason
			if reason == "" {
				reason = "no reason given"
			}
			add(dc.ResourceChange, reason)
		}
	}
	if p.ResourceChanges == nil && p.PlannedValues != nil && p.PlannedValues.RootModule != nil {
		// No changes listed: the planned values are what will exist.
		// Values not known until apply are absent from them, and a
		// deciding value that is absent is unknown.
		var walk func(m *tfjson.StateModule, depth int)
		walk = func(m *tfjson.StateModule, depth int) {
			if m == nil || depth > MaxNesting {
				return
			}
			for _, r := range m.Resources {
				if r == nil {
					continue
				}
				add(&tfjson.ResourceChange{Address: r.Address, Mode: r.Mode, Type: r.Type, Name: r.Name,
					Change: &tfjson.Change{Actions: tfjson.Actions{tfjson.ActionNoop}, After: r.AttributeValues}}, "")
			}
			for _, c := range m.ChildModules {
				walk(c, depth+1)
			}
		}
		walk(p.PlannedValues.RootModule, 0)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Resource < out[j].Resource })
	return out, nil
}

// planTrail is one aws_cloudtrail of a plan.
func planTrail(rc *tfjson.ResourceChange, deferred string) trailguard.IaCTrail {
	addr := rc.Address
	if addr == "" {
		addr = "aws_cloudtrail." + rc.Name
	}
	if rc.Change == nil {
		t := trailFromObject(addr, newObject())
		t.UnknownExists = addr + ": the plan shows no change for it"
		return t
	}
	acts := rc.Change.Actions
	after, _ := rc.Change.After.(map[string]any)
	var absent, unknownExists string
	switch {
	case acts.Delete():
		absent = addr + ": the plan deletes it"
	case acts.NoOp() || acts.Create() || acts.Update() || acts.Replace() || acts.Read():
		if after == nil {
			unknownExists = addr + ": the plan shows no values after the change"
		}
	default:
		unknownExists = fmt.Sprintf("%s: plan actions %s", addr, strings.Join(actionNames(acts), ", "))
		if after == nil {
			after, _ = rc.Change.Before.(map[string]any)
		}
	}
	if deferred != "" {
		unknownExists = joinWhy(unknownExists, fmt.Sprintf("%s: the plan defers its change (%s)", addr, deferred))
	}
	o := planObject(after, rc.Change.AfterUnknown, addr, "")
	for _, name := range []string{"is_multi_region_trail", "enable_logging", "include_global_service_events"} {
		if absent != "" {
			break
		}
		if f, ok := o.attrs[name]; !ok {
			o.attrs[name] = field{why: fmt.Sprintf("%s.%s is not in the plan (terraform show prints every attribute)", addr, name)}
		} else if f.why == "" && f.v.IsNull() {
			// The AWS provider plans these with their defaults: null
			// is not what terraform show prints, so it proves nothing.
			o.attrs[name] = field{why: fmt.Sprintf("%s.%s is null in the plan", addr, name)}
		}
	}
	for i, es := range o.blocks["event_selector"] {
		for _, name := range []string{"read_write_type", "include_management_events"} {
			if f, ok := es.attrs[name]; !ok || (f.why == "" && f.v.IsNull()) {
				o.why["event_selector"] = fmt.Sprintf("%s event_selector %d: %s is not in the plan (terraform show prints it)", addr, i, name)
			}
		}
	}
	_, basic := o.attrs["event_selector"]
	_, advanced := o.attrs["advanced_event_selector"]
	delete(o.attrs, "event_selector")
	delete(o.attrs, "advanced_event_selector")
	if !basic && !advanced && o.blocks["event_selector"] == nil && o.blocks["advanced_event_selector"] == nil && absent == "" {
		o.why["event_selector"] = addr + ": the plan shows neither event_selector nor advanced_event_selector"
	}
	t := trailFromObject(addr, o)
	t.Absent = absent
	t.UnknownExists = joinWhy(unknownExists, t.UnknownExists)
	return t
}

func actionNames(a tfjson.Actions) []string {
	out := make([]string, 0, len(a))
	for _, x := range a {
		out = append(out, string(x))
	}
	return out
}

// planObject turns a plan's after values (and after_unknown) into the
// object the trail is read from. Nested blocks are lists of objects.
func planObject(after map[string]any, unknown any, addr, path string) object {
	o := newObject()
	um, _ := unknown.(map[string]any)
	if b, ok := unknown.(bool); ok && b {
		// the whole object is unknown
		um = map[string]any{}
		for k := range after {
			um[k] = true
		}
	}
	keys := map[string]bool{}
	for k := range after {
		keys[k] = true
	}
	for k := range um {
		keys[k] = true
	}
	for k := range keys {
		v, inAfter := after[k]
		where := fmt.Sprintf("%s %s%s", addr, path, k)
		switch k {
		case "event_selector", "advanced_event_selector", "data_resource", "field_selector":
			if anyTrue(um[k]) && !onlyUnder(um[k], "data_resource") {
				if k == "data_resource" {
					continue // which data events are recorded does not decide 3.1
				}
				o.why[k] = where + " is known only after apply"
			}
			o.attrs[k] = field{} // the plan shows the block list (possibly empty)
			list, _ := v.([]any)
			uList, _ := um[k].([]any)
			for i, e := range list {
				m, ok := e.(map[string]any)
				if !ok {
					o.why[k] = where + ": not an object list"
					continue
				}
				var u any
				if i < len(uList) {
					u = uList[i]
				}
				o.blocks[k] = append(o.blocks[k], planObject(m, u, addr, path+k+"."))
			}
			if v != nil && list == nil {
				o.why[k] = where + ": not a list"
			}
			continue
		}
		if anyTrue(um[k]) {
			o.attrs[k] = field{where: where, why: where + " is known only after apply"}
			continue
		}
		if !inAfter {
			continue
		}
		o.attrs[k] = field{v: jsonValue(v), where: fmt.Sprintf("%s = %s", where, short(fmt.Sprint(v)))}
	}
	delete(o.attrs, "data_resource")
	delete(o.attrs, "field_selector")
	return o
}

// onlyUnder reports whether every unknown marked in an after_unknown
// value of a block list lies under the named nested block.
func onlyUnder(v any, name string) bool {
	list, ok := v.([]any)
	if !ok {
		return false
	}
	for _, e := range list {
		switch m := e.(type) {
		case bool:
			if m {
				return false
			}
		case map[string]any:
			for k, x := range m {
				if k != name && anyTrue(x) {
					return false
				}
			}
		default:
			return false
		}
	}
	return true
}

// jsonValue is a JSON value as the cty value it stands for, so that it
// is converted to the attribute's type as Terraform converts values.
// Plan values are decoded by encoding/json, whose nesting limit bounds
// this recursion.
func jsonValue(v any) cty.Value {
	switch t := v.(type) {
	case nil:
		return cty.NullVal(cty.DynamicPseudoType)
	case bool:
		return cty.BoolVal(t)
	case string:
		return cty.StringVal(t)
	case float64:
		return cty.NumberFloatVal(t)
	case json.Number:
		if n, err := cty.ParseNumberVal(string(t)); err == nil {
			return n
		}
		return cty.StringVal(string(t))
	case []any:
		if len(t) == 0 {
			return cty.EmptyTupleVal
		}
		elems := make([]cty.Value, len(t))
		for i, e := range t {
			elems[i] = jsonValue(e)
		}
		return cty.TupleVal(elems)
	case map[string]any:
		if len(t) == 0 {
			return cty.EmptyObjectVal
		}
		attrs := make(map[string]cty.Value, len(t))
		for k, e := range t {
			attrs[k] = jsonValue(e)
		}
		return cty.ObjectVal(attrs)
	}
	return cty.DynamicVal
}

// anyTrue reports whether an after_unknown value marks anything unknown.
func anyTrue(v any) bool {
	switch t := v.(type) {
	case bool:
		return t
	case []any:
		for _, e := range t {
			if anyTrue(e) {
				return true
			}
		}
	case map[string]any:
		for _, e := range t {
			if anyTrue(e) {
				return true
			}
		}
	}
	return false
}

// lineOf is the line of the first "address": "<address>" in the plan,
// so that a result points somewhere a person can look.
func lineOf(b []byte, address string) int {
	quoted, _ := json.Marshal(address)
	i := bytes.Index(b, append([]byte(`"address":`), quoted...))
	if i < 0 {
		i = bytes.Index(b, quoted)
	}
	if i < 0 {
		return 1
	}
	return offsetPos("", b, i).Line
}

// jsonErr places a JSON decoding error at its line.
func jsonErr(file string, b []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	pos := trailguard.Position{File: file}
	switch {
	case errors.As(err, &se):
		pos = offsetPos(file, b, int(se.Offset)-1) // Offset counts the byte in error
	case errors.As(err, &te):
		pos = offsetPos(file, b, int(te.Offset)-1)
	}
	return &trailguard.PositionError{Pos: pos, Err: err}
}
