package terraform

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	tfjson "github.com/hashicorp/terraform-json"

	"github.com/trailguard/trailguard"
)

// IsPlan reports whether b looks like plan JSON (terraform show -json
// PLANFILE): an object with format_version and resource_changes or
// planned_values.
func IsPlan(b []byte) bool {
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

// ReadPlan returns the trails a plan creates or keeps, with the values
// known at plan time; a value the plan marks unknown (after_unknown)
// makes what it decides unknown.
func ReadPlan(file string, b []byte) ([]trailguard.IaCTrail, error) {
	var p tfjson.Plan
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("%s: %s", file, jsonErr(b, err))
	}
	var out []trailguard.IaCTrail
	for _, rc := range p.ResourceChanges {
		if rc == nil || rc.Type != "aws_cloudtrail" || rc.Mode != tfjson.ManagedResourceMode || rc.Change == nil {
			continue
		}
		if rc.Change.Actions.Delete() || rc.Change.After == nil {
			continue // being destroyed: nothing will be deployed
		}
		after, _ := rc.Change.After.(map[string]any)
		unk := unknowns{}
		if au, ok := rc.Change.AfterUnknown.(map[string]any); ok {
			for k, v := range au {
				if anyTrue(v) {
					unk[k] = fmt.Sprintf("%s of %s is known only after apply", k, rc.Address)
				}
			}
		}
		t := trailFromValues(rc.Address, after, unk)
		t.File, t.Line = file, lineOf(b, rc.Address)
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Resource < out[j].Resource })
	return out, nil
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
	return bytes.Count(b[:i], []byte("\n")) + 1
}

// jsonErr names the line of a JSON syntax error.
func jsonErr(b []byte, err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("line %d: %v", bytes.Count(b[:min(int(se.Offset), len(b))], []byte("\n"))+1, err)
	}
	return err.Error()
}
