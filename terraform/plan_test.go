package terraform

import (
	"fmt"
	"strings"
	"testing"

	"github.com/trailguard/trailguard"
)

// planWith is a plan holding one aws_cloudtrail change.
func planWith(actions, after, afterUnknown string) string {
	return fmt.Sprintf(`{
  "format_version": "1.2",
  "resource_changes": [
    {
      "address": "aws_cloudtrail.t",
      "mode": "managed",
      "type": "aws_cloudtrail",
      "name": "t",
      "change": {"actions": %s, "before": {"name": "t"}, "after": %s, "after_unknown": %s}
    }
  ]
}`, actions, after, afterUnknown)
}

// full is every attribute terraform show prints for a passing trail,
// with the one given replaced.
func full(over string) string {
	base := map[string]string{
		"name": `"t"`, "is_multi_region_trail": "true", "enable_logging": "true",
		"include_global_service_events": "true", "event_selector": "[]", "advanced_event_selector": "[]",
	}
	if k, v, ok := strings.Cut(over, "="); ok {
		if v == "" {
			delete(base, k)
		} else {
			base[k] = v
		}
	}
	var parts []string
	for k, v := range base {
		parts = append(parts, fmt.Sprintf("%q: %s", k, v))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// TestReadPlan_cases: plan JSON follows the same rules as HCL: values
// converted as Terraform converts them, unknowns unknown for what they
// decide, a deleted trail absent, a deferred one of unknown existence.
func TestReadPlan_cases(t *testing.T) {
	cases := []struct {
		name string
		plan string
		want want
	}{
		{"created_passing_trail", planWith(`["create"]`, full(""), `{"arn": true}`), want{"PASS", ""}},
		{"enable_logging_string_zero", planWith(`["create"]`, full(`enable_logging="0"`), `{}`), want{"FAIL", "not logging"}},
		{"enable_logging_string_not_a_bool", planWith(`["create"]`, full(`enable_logging="yes"`), `{}`), want{"UNKNOWN", "Terraform rejects this value"}},
		{"multi_region_string_one", planWith(`["update"]`, full(`is_multi_region_trail="1"`), `{}`), want{"PASS", ""}},
		{"enable_logging_known_after_apply", planWith(`["create"]`, full(`enable_logging=`), `{"enable_logging": true}`), want{"UNKNOWN", "known only after apply"}},
		{"enable_logging_missing", planWith(`["create"]`, full(`enable_logging=`), `{}`), want{"UNKNOWN", "enable_logging is not in the plan"}},
		{"enable_logging_null", planWith(`["create"]`, full(`enable_logging=null`), `{}`), want{"UNKNOWN", "enable_logging is null in the plan"}},
		{"global_events_false", planWith(`["create"]`, full(`include_global_service_events=false`), `{}`), want{"", ""}},
		{"selectors_missing", planWith(`["create"]`, `{"name": "t", "is_multi_region_trail": true, "enable_logging": true, "include_global_service_events": true}`, `{}`),
			want{"UNKNOWN", "neither event_selector nor advanced_event_selector"}},
		{"selector_known_after_apply", planWith(`["create"]`, full(`event_selector=[{"read_write_type": "All", "include_management_events": null, "data_resource": []}]`),
			`{"event_selector": [{"include_management_events": true}]}`), want{"UNKNOWN", "event_selector is known only after apply"}},
		{"only_data_resource_known_after_apply", planWith(`["create"]`, full(`event_selector=[{"read_write_type": "All", "include_management_events": true, "data_resource": [{"type": "AWS::S3::Object"}]}]`),
			`{"event_selector": [{"data_resource": [{"values": true}]}]}`), want{"PASS", ""}},
		{"selector_without_management_events", planWith(`["create"]`, full(`event_selector=[{"read_write_type": "All", "data_resource": []}]`), `{}`),
			want{"UNKNOWN", "include_management_events is not in the plan"}},
		{"management_events_string_zero", planWith(`["create"]`, full(`event_selector=[{"read_write_type": "All", "include_management_events": "0"}]`), `{}`), want{"FAIL", ""}},
		{"advanced_not_ends_with", planWith(`["create"]`, full(`advanced_event_selector=[{"name": "m", "field_selector": [{"field": "eventCategory", "equals": ["Management"]}, {"field": "readOnly", "not_ends_with": ["x"]}]}]`), `{}`),
			want{"FAIL", ""}},
		{"deleted", planWith(`["delete"]`, `null`, `{}`), want{"FAIL", "the plan deletes it"}},
		{"replaced", planWith(`["delete", "create"]`, full(""), `{}`), want{"PASS", ""}},
		{"forgotten", planWith(`["forget"]`, `null`, `{}`), want{"UNKNOWN", "plan actions forget"}},
		{"planned_values_only", `{"format_version": "1.2", "planned_values": {"root_module": {"child_modules": [{"address": "module.a", "resources": [
			{"address": "module.a.aws_cloudtrail.t", "mode": "managed", "type": "aws_cloudtrail", "name": "t", "values": ` + full(`enable_logging=false`) + `}]}]}}}`,
			want{"FAIL", "not logging"}},
		{"planned_values_only_with_a_value_unknown_until_apply", `{"format_version": "1.2", "planned_values": {"root_module": {"resources": [
			{"address": "aws_cloudtrail.t", "mode": "managed", "type": "aws_cloudtrail", "name": "t", "values": ` + full(`is_multi_region_trail=`) + `}]}}}`,
			want{"UNKNOWN", "is_multi_region_trail is not in the plan"}},
		{"deferred", `{"format_version": "1.2", "resource_changes": [], "deferred_changes": [{"reason": "provider_config_unknown",
			"resource_change": {"address": "aws_cloudtrail.t", "mode": "managed", "type": "aws_cloudtrail", "name": "t",
			"change": {"actions": ["create"], "after": ` + full("") + `, "after_unknown": {}}}}]}`, want{"UNKNOWN", "defers its change (provider_config_unknown)"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := []byte(tc.plan)
			if !IsPlan(b) {
				t.Fatal("not recognised as a plan")
			}
			ts, err := ReadPlan("plan.json", b)
			if err != nil || len(ts) != 1 {
				t.Fatalf("trails %+v, error %v", ts, err)
			}
			if tc.name == "global_events_false" {
				if ts[0].Trail.IncludeGlobalServiceEvents || !ts[0].Trail.IsMultiRegion || ts[0].UnknownExists != "" {
					t.Errorf("trail %+v", ts[0])
				}
				return
			}
			if tc.name == "advanced_not_ends_with" {
				fs := ts[0].Trail.Selectors.Advanced[0].FieldSelectors
				if len(fs) != 2 || fs[1].Field != "readOnly" || len(fs[1].NotEndsWith) != 1 || fs[1].NotEndsWith[0] != "x" {
					t.Errorf("field selectors %+v", fs)
				}
			}
			r := trailguard.EvaluateIaC(ts[0], trailguard.Options{})
			if string(r.Status) != tc.want.status || !strings.Contains(strings.Join(r.Reasons, " | "), tc.want.reason) {
				t.Errorf("%s %q, want %s with %q", r.Status, r.Reasons, tc.want.status, tc.want.reason)
			}
			if r.File != "plan.json" || r.Line < 2 {
				t.Errorf("at %s:%d", r.File, r.Line)
			}
		})
	}
}

// TestReadPlan_limits: a plan too deep or too big is an error naming the
// file, not a crash.
func TestReadPlan_limits(t *testing.T) {
	cases := []struct {
		name, plan, err string
	}{
		{"nested_100k_deep", `{"format_version": "1.2", "resource_changes": ` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}`, "nests deeper than"},
		{"too_big", `{"format_version": "1.2", "resource_changes": [], "x": "` + strings.Repeat("x", MaxFileSize) + `"}`, "bytes this reader accepts"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !IsPlan([]byte(tc.plan)) {
				t.Error("not taken for a plan: another reader would get it")
			}
			if _, err := ReadPlan("p.json", []byte(tc.plan)); err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "p.json") {
				t.Errorf("error %v, want %q", err, tc.err)
			}
		})
	}
}

// TestReadPlan_positions: a plan's trail points at its values in the
// plan — the attribute that decided it, else its address — and a second
// resource's attributes are never taken for the first one's.
func TestReadPlan_positions(t *testing.T) {
	const plan = `{
  "format_version": "1.2",
  "resource_changes": [
    {
      "address": "aws_cloudtrail.a",
      "mode": "managed", "type": "aws_cloudtrail", "name": "a",
      "change": {"actions": ["create"], "before": null,
        "after": {"name": "a", "include_global_service_events": true,
          "is_multi_region_trail": true,
          "enable_logging": false, "event_selector": [], "advanced_event_selector": []},
        "after_unknown": {}}
    },
    {
      "address": "aws_cloudtrail.b",
      "mode": "managed", "type": "aws_cloudtrail", "name": "b",
      "change": {"actions": ["create"], "before": null,
        "after": {"name": "b", "enable_logging": true, "include_global_service_events": true, "event_selector": [], "advanced_event_selector": []},
        "after_unknown": {}}
    }
  ]
}`
	ts, err := ReadPlan("plan.json", []byte(plan))
	if err != nil || len(ts) != 2 {
		t.Fatalf("err %v trails %+v", err, ts)
	}
	for _, tc := range []struct {
		resource       string
		multi, logging bool
		status         string
		mr, log, res   trailguard.Position
		decided        trailguard.Position
	}{
		{"aws_cloudtrail.a", true, false, "FAIL",
			trailguard.Position{File: "plan.json", Line: 9, Column: 11}, trailguard.Position{File: "plan.json", Line: 10, Column: 11},
			trailguard.Position{File: "plan.json", Line: 5, Column: 7}, trailguard.Position{File: "plan.json", Line: 10, Column: 11}},
		// b's plan shows no is_multi_region_trail: unknown, and the
		// position is not a's.
		{"aws_cloudtrail.b", false, true, "UNKNOWN",
			trailguard.Position{}, trailguard.Position{File: "plan.json", Line: 17, Column: 32},
			trailguard.Position{File: "plan.json", Line: 14, Column: 7}, trailguard.Position{File: "plan.json", Line: 14, Column: 7}},
	} {
		t.Run(tc.resource, func(t *testing.T) {
			var tr trailguard.IaCTrail
			for _, x := range ts {
				if x.Resource == tc.resource {
					tr = x
				}
			}
			if tr.Trail.IsMultiRegion != tc.multi || tr.Trail.Status == nil || tr.Trail.Status.IsLogging != tc.logging {
				t.Errorf("adapted trail: multi-region %v logging %+v", tr.Trail.IsMultiRegion, tr.Trail.Status)
			}
			if tr.Positions.MultiRegion != tc.mr || tr.Positions.Logging != tc.log || tr.Positions.Resource != tc.res {
				t.Errorf("positions %+v", tr.Positions)
			}
			res := trailguard.EvaluateIaC(tr, trailguard.Options{})
			if string(res.Status) != tc.status || res.Decided == nil || *res.Decided != tc.decided {
				t.Errorf("%s %q decided at %+v, want %s at %+v", res.Status, res.Reasons, res.Decided, tc.status, tc.decided)
			}
		})
	}
}
