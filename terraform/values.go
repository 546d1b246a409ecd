package terraform

import (
	"fmt"
	"strings"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/trailguard/trailguard"
)

// field is one declared value: the value, where it is written (to name
// it in a reason), or why it is not known.
type field struct {
	v     cty.Value           // cty.NilVal when not set
	where string              // `enable_logging = "0" (main.tf:12)`
	why   string              // not empty: the value is not known, and why
	pos   trailguard.Position // where the attribute is written; zero in a plan
}

// object is a resource body or a nested block, evaluated: attributes by
// name and nested blocks by type. why names the block types whose blocks
// could not be expanded statically (a dynamic block over an unknown
// for_each).
type object struct {
	attrs  map[string]field
	blocks map[string][]object
	why    map[string]string
	// blockPos is where the first block of each type is written (zero
	// in a plan).
	blockPos map[string]trailguard.Position
}

func newObject() object {
	return object{attrs: map[string]field{}, blocks: map[string][]object{}, why: map[string]string{}, blockPos: map[string]trailguard.Position{}}
}

// get converts the attribute to ty as Terraform converts a value to the
// type the AWS provider declares for it. It returns the null value (set
// false) when the attribute is not set or null, and why it is not known
// when it is unknown or Terraform would reject the conversion.
func (o object) get(name string, ty cty.Type) (v cty.Value, set bool, why string) {
	f, ok := o.attrs[name]
	if !ok || f.v == cty.NilVal {
		if ok && f.why != "" {
			return cty.NullVal(ty), true, f.why
		}
		return cty.NullVal(ty), false, ""
	}
	if f.why != "" {
		return cty.UnknownVal(ty), true, f.why
	}
	if f.v.IsNull() {
		return cty.NullVal(ty), false, ""
	}
	if hasBigTuple(f.v) {
		return cty.UnknownVal(ty), true, fmt.Sprintf("%s: %s", f.where, errBigTuple)
	}
	cv, err := convert.Convert(f.v, ty)
	if err != nil {
		return cty.UnknownVal(ty), true, fmt.Sprintf("%s: Terraform rejects this value: %s", f.where, errText(err))
	}
	if !cv.IsWhollyKnown() {
		return cv, true, f.where + ": a value not known statically"
	}
	if ty.IsCollectionType() {
		for it := cv.ElementIterator(); it.Next(); {
			if _, e := it.Element(); e.IsNull() {
				return cty.UnknownVal(ty), true, f.where + ": Terraform rejects this value: a null element"
			}
		}
	}
	return cv, true, ""
}

func errText(err error) string {
	if pe, ok := err.(cty.PathError); ok && len(pe.Path) > 0 {
		return pe.Error() + " (in a nested element)"
	}
	return err.Error()
}

func (o object) boolean(name string, def bool) (bool, string) {
	v, set, why := o.get(name, cty.Bool)
	if why != "" || !set {
		return def, why
	}
	return v.True(), ""
}

func (o object) str(name, def string) (string, string) {
	v, set, why := o.get(name, cty.String)
	if why != "" || !set {
		return def, why
	}
	return v.AsString(), ""
}

func (o object) strings(name string, ty cty.Type) ([]string, string) {
	v, set, why := o.get(name, ty)
	if why != "" || !set {
		return nil, why
	}
	var out []string
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		out = append(out, e.AsString())
	}
	return out, ""
}

// trailFromObject turns an evaluated aws_cloudtrail into an IaC trail.
// Attributes not set take the AWS provider's defaults
// (is_multi_region_trail false, enable_logging true,
// include_global_service_events true, no selectors: all management
// events); a value that is set but not known, or that Terraform would
// reject, is unknown for what it decides.
func trailFromObject(address string, o object) trailguard.IaCTrail {
	t := trailguard.IaCTrail{Resource: address}
	name, _ := o.str("name", "")
	if name == "" {
		name = address
	}
	var whyMR, whyLog, whyIGSE string
	t.Trail = trailguard.Trail{Name: name, ARN: address}
	t.Trail.IsMultiRegion, whyMR = o.boolean("is_multi_region_trail", false)
	logging, whyLog := o.boolean("enable_logging", true)
	t.Trail.Status = &trailguard.TrailStatus{IsLogging: logging}
	t.Trail.IncludeGlobalServiceEvents, whyIGSE = o.boolean("include_global_service_events", true)
	t.Trail.IsOrganizationTrail, _ = o.boolean("is_organization_trail", false)
	t.Trail.LogFileValidationEnabled, _ = o.boolean("enable_log_file_validation", false)
	t.Trail.S3BucketName, _ = o.str("s3_bucket_name", "")
	t.Trail.S3KeyPrefix, _ = o.str("s3_key_prefix", "")
	t.Trail.KMSKeyID, _ = o.str("kms_key_id", "")
	t.UnknownMultiRegion, t.UnknownLogging = whyMR, whyLog
	t.Positions.MultiRegion = o.attrs["is_multi_region_trail"].pos
	t.Positions.Logging = o.attrs["enable_logging"].pos
	t.Positions.GlobalEvents = o.attrs["include_global_service_events"].pos
	t.Positions.Selectors = first(o.blockPos["event_selector"], o.blockPos["advanced_event_selector"])
	if whyIGSE != "" {
		// AWS rejects a multi-region trail without global service
		// events: whether this one is accepted, and so exists, is open.
		t.Trail.IncludeGlobalServiceEvents = true
		t.UnknownExists = whyIGSE + " (AWS rejects a multi-region trail that does not include global service events)"
		t.Positions.Exists = o.attrs["include_global_service_events"].pos
	}

	sel := &trailguard.EventSelectors{}
	var whySel []string
	for _, typ := range []string{"event_selector", "advanced_event_selector"} {
		if w := o.why[typ]; w != "" {
			whySel = append(whySel, w)
		}
	}
	for _, b := range o.blocks["event_selector"] {
		var es trailguard.EventSelector
		var w1, w2, w3 string
		es.ReadWriteType, w1 = b.str("read_write_type", "All")
		es.IncludeManagementEvents, w2 = b.boolean("include_management_events", true)
		es.ExcludeManagementEventSources, w3 = b.strings("exclude_management_event_sources", cty.Set(cty.String))
		whySel = append(whySel, w1, w2, w3)
		for _, d := range b.blocks["data_resource"] {
			// Which data events are recorded does not decide 3.1: an
			// unknown here changes nothing.
			typ, _ := d.str("type", "")
			values, _ := d.strings("values", cty.List(cty.String))
			es.DataResources = append(es.DataResources, trailguard.DataResource{Type: typ, Values: values})
		}
		sel.Basic = append(sel.Basic, es)
	}
	for _, b := range o.blocks["advanced_event_selector"] {
		var as trailguard.AdvancedEventSelector
		as.Name, _ = b.str("name", "")
		if w := b.why["field_selector"]; w != "" {
			whySel = append(whySel, w)
		}
		for _, f := range b.blocks["field_selector"] {
			var fs trailguard.FieldSelector
			var w string
			fs.Field, w = f.str("field", "")
			whySel = append(whySel, w)
			for _, op := range []struct {
				name string
				dst  *[]string
			}{
				{"equals", &fs.Equals}, {"not_equals", &fs.NotEquals}, {"starts_with", &fs.StartsWith},
				{"not_starts_with", &fs.NotStartsWith}, {"ends_with", &fs.EndsWith}, {"not_ends_with", &fs.NotEndsWith},
			} {
				*op.dst, w = f.strings(op.name, cty.List(cty.String))
				whySel = append(whySel, w)
			}
			as.FieldSelectors = append(as.FieldSelectors, fs)
		}
		sel.Advanced = append(sel.Advanced, as)
	}
	if w := o.why["field_selector"]; w != "" {
		whySel = append(whySel, w)
	}
	t.Trail.HasCustomEventSelectors = len(sel.Basic)+len(sel.Advanced) > 0
	if !t.Trail.HasCustomEventSelectors {
		sel = trailguard.DefaultSelectors()
	}
	t.Trail.Selectors = sel
	t.UnknownSelectors = strings.Join(uniq(nonEmpty(whySel)), "; ")
	return t
}

// first is the earlier of two positions in one file, ignoring unknown ones.
func first(a, b trailguard.Position) trailguard.Position {
	switch {
	case a.IsZero():
		return b
	case b.IsZero():
		return a
	case b.File == a.File && (b.Line < a.Line || b.Line == a.Line && b.Column < a.Column):
		return b
	}
	return a
}

func nonEmpty(in []string) []string {
	var out []string
	for _, s := range in {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

func uniq(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// joinWhy joins the reasons that are set.
func joinWhy(parts ...string) string {
	return strings.Join(uniq(nonEmpty(parts)), "; ")
}
