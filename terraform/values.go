// Package terraform reads CloudTrail trails (aws_cloudtrail resources)
// from Terraform: HCL configurations, evaluated statically as far as they
// can be (variables, tfvars, locals, functions, conditionals, count,
// for_each, local modules, dynamic blocks), and plan JSON
// (terraform show -json). Each trail becomes a trailguard.IaCTrail, judged
// by the one evaluator.
package terraform

import (
	"fmt"
	"strings"

	"github.com/trailguard/trailguard"
)

// unknowns maps an attribute path ("is_multi_region_trail",
// "event_selector") to why its value is not known.
type unknowns map[string]string

// trailFromValues turns an aws_cloudtrail's attribute values (JSON-like:
// bool, string, []any, map[string]any) into an IaC trail. Absent
// attributes take the provider's defaults: is_multi_region_trail false,
// enable_logging true, no selectors (all management events).
func trailFromValues(address string, v map[string]any, unk unknowns) trailguard.IaCTrail {
	t := trailguard.IaCTrail{Resource: address}
	name, _ := v["name"].(string)
	if name == "" {
		name = address
	}
	t.Trail = trailguard.Trail{
		Name:                       name,
		ARN:                        address,
		IsMultiRegion:              boolOf(v["is_multi_region_trail"], false),
		IsOrganizationTrail:        boolOf(v["is_organization_trail"], false),
		IncludeGlobalServiceEvents: boolOf(v["include_global_service_events"], true),
		LogFileValidationEnabled:   boolOf(v["enable_log_file_validation"], false),
		S3BucketName:               str(v["s3_bucket_name"]),
		Status:                     &trailguard.TrailStatus{IsLogging: boolOf(v["enable_logging"], true)},
	}
	sel := &trailguard.EventSelectors{}
	for _, raw := range list(v["event_selector"]) {
		m, _ := raw.(map[string]any)
		es := trailguard.EventSelector{
			ReadWriteType:                 strOr(m["read_write_type"], "All"),
			IncludeManagementEvents:       boolOf(m["include_management_events"], true),
			ExcludeManagementEventSources: strings_(m["exclude_management_event_sources"]),
		}
		for _, dr := range list(m["data_resource"]) {
			d, _ := dr.(map[string]any)
			es.DataResources = append(es.DataResources, trailguard.DataResource{Type: str(d["type"]), Values: strings_(d["values"])})
		}
		sel.Basic = append(sel.Basic, es)
	}
	for _, raw := range list(v["advanced_event_selector"]) {
		m, _ := raw.(map[string]any)
		as := trailguard.AdvancedEventSelector{Name: str(m["name"])}
		for _, f := range list(m["field_selector"]) {
			fm, _ := f.(map[string]any)
			as.FieldSelectors = append(as.FieldSelectors, trailguard.FieldSelector{
				Field: str(fm["field"]), Equals: strings_(fm["equals"]), NotEquals: strings_(fm["not_equals"]),
				StartsWith: strings_(fm["starts_with"]), NotStartsWith: strings_(fm["not_starts_with"]),
				EndsWith: strings_(fm["ends_with"]), NotEndsWith: strings_(fm["not_ends_with"]),
			})
		}
		sel.Advanced = append(sel.Advanced, as)
	}
	if len(sel.Basic) == 0 && len(sel.Advanced) == 0 {
		sel = trailguard.DefaultSelectors()
	}
	t.Trail.Selectors = sel
	for path, why := range unk {
		switch {
		case path == "is_multi_region_trail":
			t.UnknownMultiRegion = why
		case path == "enable_logging":
			t.UnknownLogging = why
		case strings.Contains(path, ".data_resource."):
			// Which data events are recorded does not decide 3.1.
		case strings.HasPrefix(path, "event_selector") || strings.HasPrefix(path, "advanced_event_selector"):
			if t.UnknownSelectors == "" {
				t.UnknownSelectors = why
			}
		}
	}
	return t
}

// boolOf reads a bool as Terraform converts one: true/false, or the
// strings "true"/"false"; anything else (absent) is the default.
func boolOf(v any, def bool) bool {
	switch b := v.(type) {
	case bool:
		return b
	case string:
		switch strings.ToLower(strings.TrimSpace(b)) {
		case "true":
			return true
		case "false":
			return false
		}
	}
	return def
}

func str(v any) string {
	switch s := v.(type) {
	case string:
		return s
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

func strOr(v any, def string) string {
	if s := str(v); s != "" {
		return s
	}
	return def
}

func list(v any) []any {
	switch l := v.(type) {
	case []any:
		return l
	case map[string]any:
		return []any{l}
	}
	return nil
}

func strings_(v any) []string {
	var out []string
	for _, e := range list(v) {
		out = append(out, str(e))
	}
	return out
}
