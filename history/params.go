package history

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/trailguard/trailguard"
	"github.com/trailguard/trailguard/awscli"
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

// selectorsFrom reads the selectors a PutEventSelectors request set, in
// the shapes of the AWS CLI model (package awscli) and with its defaults:
// encoding/json matches the recorded lower camel case member names to the
// model's as it matches the model's own. Anything not in the form the API
// takes makes them unknown (false): both lists or neither, a member of the
// wrong type, a field selector that names no field.
func selectorsFrom(p map[string]any) (*trailguard.EventSelectors, bool) {
	raw, err := json.Marshal(p)
	if err != nil {
		return nil, false
	}
	var in struct {
		EventSelectors         *[]awscli.EventSelector
		AdvancedEventSelectors *[]awscli.AdvancedEventSelector
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, false
	}
	if (in.EventSelectors == nil) == (in.AdvancedEventSelectors == nil) {
		// Neither (not recorded) or both (the API refuses it).
		return nil, false
	}
	if in.AdvancedEventSelectors != nil {
		for _, a := range *in.AdvancedEventSelectors {
			for _, f := range a.FieldSelectors {
				if f.Field == "" {
					return nil, false
				}
			}
		}
	}
	return awscli.GetEventSelectors{EventSelectors: in.EventSelectors, AdvancedEventSelectors: in.AdvancedEventSelectors}.Domain(), true
}

// sameSelectors: whether two known selector sets are the same, an empty
// list and a missing one alike (the JSON form omits both).
func sameSelectors(a, b *trailguard.EventSelectors) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(ja, jb)
}
