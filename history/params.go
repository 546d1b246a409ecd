package history

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/trailguard/trailguard"
)

// The settings a call made, read from its recorded requestParameters.
// CloudTrail records them with the API's member names in lower camel
// case (isMultiRegionTrail, eventSelectors, readWriteType); the upper
// camel case of the API model is accepted too, for hand-made evidence.

func param(p map[string]any, name string) (any, bool) {
	if p == nil {
		return nil, false
	}
	if v, ok := p[name]; ok {
		return v, true
	}
	v, ok := p[strings.ToUpper(name[:1])+name[1:]]
	return v, ok
}

// boolParam reads a boolean member; a string "true"/"false" counts (some
// recorders print booleans so).
func boolParam(p map[string]any, name string) (bool, bool) {
	v, ok := param(p, name)
	if !ok {
		return false, false
	}
	switch b := v.(type) {
	case bool:
		return b, true
	case string:
		switch strings.ToLower(b) {
		case "true":
			return true, true
		case "false":
			return false, true
		}
	}
	return false, false
}

// paramTri reads a boolean member; absent, it is def (the API's default
// for a member left out); present but unreadable, unknown.
func paramTri(p map[string]any, name string, def tri) tri {
	if _, present := param(p, name); !present {
		return def
	}
	if b, ok := boolParam(p, name); ok {
		return triOf(b)
	}
	return unknown
}

func strings_(v any) ([]string, bool) {
	if v == nil {
		return nil, true
	}
	list, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(list))
	for _, x := range list {
		s, ok := x.(string)
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

// selectorsFrom reads the selectors a PutEventSelectors request set.
// Anything not in the form the API takes makes them unknown (false).
func selectorsFrom(p map[string]any) (*trailguard.EventSelectors, bool) {
	basicV, hasBasic := param(p, "eventSelectors")
	advV, hasAdv := param(p, "advancedEventSelectors")
	if basicV == nil {
		hasBasic = false
	}
	if advV == nil {
		hasAdv = false
	}
	if hasBasic == hasAdv {
		// Neither (not recorded) or both (the API refuses it).
		return nil, false
	}
	out := &trailguard.EventSelectors{}
	if hasBasic {
		list, ok := basicV.([]any)
		if !ok {
			return nil, false
		}
		for _, x := range list {
			m, ok := x.(map[string]any)
			if !ok {
				return nil, false
			}
			sel := trailguard.EventSelector{ReadWriteType: "All", IncludeManagementEvents: true}
			if v, ok := param(m, "readWriteType"); ok {
				s, ok := v.(string)
				if !ok {
					return nil, false
				}
				sel.ReadWriteType = s
			}
			if _, ok := param(m, "includeManagementEvents"); ok {
				b, ok := boolParam(m, "includeManagementEvents")
				if !ok {
					return nil, false
				}
				sel.IncludeManagementEvents = b
			}
			if v, ok := param(m, "excludeManagementEventSources"); ok {
				s, ok := strings_(v)
				if !ok {
					return nil, false
				}
				sel.ExcludeManagementEventSources = s
			}
			if v, ok := param(m, "dataResources"); ok && v != nil {
				drs, ok := v.([]any)
				if !ok {
					return nil, false
				}
				for _, d := range drs {
					dm, ok := d.(map[string]any)
					if !ok {
						return nil, false
					}
					var dr trailguard.DataResource
					tv, _ := param(dm, "type")
					dr.Type, _ = tv.(string)
					vv, _ := param(dm, "values")
					if dr.Values, ok = strings_(vv); !ok {
						return nil, false
					}
					sel.DataResources = append(sel.DataResources, dr)
				}
			}
			out.Basic = append(out.Basic, sel)
		}
		return out, true
	}
	list, ok := advV.([]any)
	if !ok {
		return nil, false
	}
	for _, x := range list {
		m, ok := x.(map[string]any)
		if !ok {
			return nil, false
		}
		sel := trailguard.AdvancedEventSelector{}
		if v, ok := param(m, "name"); ok {
			sel.Name, _ = v.(string)
		}
		fv, _ := param(m, "fieldSelectors")
		fl, ok := fv.([]any)
		if !ok {
			return nil, false
		}
		for _, y := range fl {
			fm, ok := y.(map[string]any)
			if !ok {
				return nil, false
			}
			var fs trailguard.FieldSelector
			name, _ := param(fm, "field")
			if fs.Field, ok = name.(string); !ok {
				return nil, false
			}
			for _, op := range []struct {
				key string
				dst *[]string
			}{{"equals", &fs.Equals}, {"startsWith", &fs.StartsWith}, {"endsWith", &fs.EndsWith}, {"notEquals", &fs.NotEquals}, {"notStartsWith", &fs.NotStartsWith}, {"notEndsWith", &fs.NotEndsWith}} {
				if v, ok := param(fm, op.key); ok {
					s, ok := strings_(v)
					if !ok {
						return nil, false
					}
					*op.dst = s
				}
			}
			sel.FieldSelectors = append(sel.FieldSelectors, fs)
		}
		out.Advanced = append(out.Advanced, sel)
	}
	return out, true
}

// sameSelectors: whether two known selector sets are the same, an empty
// list and a missing one alike (the JSON form omits both).
func sameSelectors(a, b *trailguard.EventSelectors) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(ja, jb)
}
