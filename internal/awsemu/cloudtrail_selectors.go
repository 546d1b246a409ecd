package awsemu

import (
	"fmt"
	"net/http"
	"regexp"
)

// Event selectors as CloudTrail stores and returns them. Basic selectors
// are normalized (absent members take their AWS defaults) so that
// GetEventSelectors shows every member, as AWS does.
type eventSelector struct {
	ReadWriteType                 string         `json:"ReadWriteType"`
	IncludeManagementEvents       bool           `json:"IncludeManagementEvents"`
	DataResources                 []dataResource `json:"DataResources"`
	ExcludeManagementEventSources []string       `json:"ExcludeManagementEventSources"`
}

type dataResource struct {
	Type   string   `json:"Type"`
	Values []string `json:"Values"`
}

type advancedEventSelector struct {
	Name           string          `json:"Name,omitempty"`
	FieldSelectors []fieldSelector `json:"FieldSelectors"`
}

type fieldSelector struct {
	Field         string   `json:"Field"`
	Equals        []string `json:"Equals,omitempty"`
	StartsWith    []string `json:"StartsWith,omitempty"`
	EndsWith      []string `json:"EndsWith,omitempty"`
	NotEquals     []string `json:"NotEquals,omitempty"`
	NotStartsWith []string `json:"NotStartsWith,omitempty"`
	NotEndsWith   []string `json:"NotEndsWith,omitempty"`
}

// The request forms, with pointers where absence differs from a zero
// value.
type eventSelectorIn struct {
	ReadWriteType           *string
	IncludeManagementEvents *bool
	DataResources           []struct {
		Type   *string
		Values []string
	}
	ExcludeManagementEventSources []string
}

type advancedEventSelectorIn struct {
	Name           *string
	FieldSelectors []struct {
		Field                                                               *string
		Equals, StartsWith, EndsWith, NotEquals, NotStartsWith, NotEndsWith []string
	}
}

// selectorsIn is the selector part of a PutEventSelectors body; the raw
// JSON seeding form (TrailSpec.EventSelectorsJSON) has the same shape.
type selectorsIn struct {
	EventSelectors         *[]eventSelectorIn
	AdvancedEventSelectors *[]advancedEventSelectorIn
}

// defaultSelectors is what a trail without custom selectors records and
// what GetEventSelectors shows for it: all management events, read and
// write, no data events ("By default, trails created without specific
// event selectors are configured to log all read and write management
// events, and no data events" — PutEventSelectors API reference).
func defaultSelectors() []eventSelector {
	return []eventSelector{{ReadWriteType: "All", IncludeManagementEvents: true, DataResources: []dataResource{}, ExcludeManagementEventSources: []string{}}}
}

func invalidSelectors(format string, args ...any) *apiError {
	return errorf(http.StatusBadRequest, "InvalidEventSelectorsException", format, args...)
}

// Limits from the InvalidEventSelectorsException documentation: 1 to 5
// basic selectors, at most 250 data resources in all, at most 500 values
// across all conditions of all advanced selectors.
const (
	maxBasicSelectors    = 5
	maxDataResources     = 250
	maxAdvancedValues    = 500
	maxAdvancedSelectors = 500
)

var (
	fieldNamePattern = regexp.MustCompile(`^[\w.]{1,1000}$`)
	// managementSources are the only event sources whose management events
	// can be excluded (ExcludeManagementEventSources, or an eventSource
	// NotEquals advanced condition).
	managementSources = map[string]bool{"kms.amazonaws.com": true, "rdsdata.amazonaws.com": true}
	basicDataTypes    = map[string]bool{"AWS::S3::Object": true, "AWS::Lambda::Function": true, "AWS::DynamoDB::Table": true}
)

// validateSelectors checks a PutEventSelectors request and returns the
// selectors to store. Semantic mistakes (counts, enum values, field names,
// both or neither kinds) are InvalidEventSelectorsException, as that
// exception's documentation lists them; shape constraints of the API model
// (lengths, required members) are ValidationException.
func validateSelectors(in selectorsIn) ([]eventSelector, []advancedEventSelector, *apiError) {
	switch {
	case in.EventSelectors != nil && in.AdvancedEventSelectors != nil:
		return nil, nil, invalidSelectors("You cannot specify both EventSelectors and AdvancedEventSelectors for a trail; use one or the other.")
	case in.EventSelectors == nil && in.AdvancedEventSelectors == nil:
		return nil, nil, invalidSelectors("Specify either EventSelectors or AdvancedEventSelectors.")
	case in.EventSelectors != nil:
		basic, err := validateBasic(*in.EventSelectors)
		return basic, nil, err
	default:
		adv, err := validateAdvanced(*in.AdvancedEventSelectors)
		return nil, adv, err
	}
}

func validateBasic(in []eventSelectorIn) ([]eventSelector, *apiError) {
	if len(in) < 1 || len(in) > maxBasicSelectors {
		return nil, invalidSelectors("A trail can have 1 to %d event selectors; %d were specified.", maxBasicSelectors, len(in))
	}
	out := make([]eventSelector, 0, len(in))
	resources := 0
	for i, s := range in {
		sel := eventSelector{ReadWriteType: "All", IncludeManagementEvents: true, DataResources: []dataResource{}, ExcludeManagementEventSources: []string{}}
		if s.ReadWriteType != nil {
			switch *s.ReadWriteType {
			case "ReadOnly", "WriteOnly", "All":
				sel.ReadWriteType = *s.ReadWriteType
			default:
				return nil, invalidSelectors("Event selector %d: ReadWriteType %q is not valid; use ReadOnly, WriteOnly or All.", i+1, *s.ReadWriteType)
			}
		}
		if s.IncludeManagementEvents != nil {
			sel.IncludeManagementEvents = *s.IncludeManagementEvents
		}
		for _, src := range s.ExcludeManagementEventSources {
			if !managementSources[src] {
				return nil, invalidSelectors("Event selector %d: ExcludeManagementEventSources value %q is not valid; only kms.amazonaws.com and rdsdata.amazonaws.com can be excluded.", i+1, src)
			}
			sel.ExcludeManagementEventSources = append(sel.ExcludeManagementEventSources, src)
		}
		for j, dr := range s.DataResources {
			if dr.Type == nil {
				return nil, validationError("Value null at 'eventSelectors.%d.member.dataResources.%d.member.type' failed to satisfy constraint: Member must not be null", i+1, j+1)
			}
			if !basicDataTypes[*dr.Type] {
				return nil, invalidSelectors("Event selector %d: data resource type %q is not valid for basic event selectors; use advanced event selectors for other resource types.", i+1, *dr.Type)
			}
			resources += len(dr.Values)
			vals := append([]string{}, dr.Values...)
			sel.DataResources = append(sel.DataResources, dataResource{Type: *dr.Type, Values: vals})
		}
		out = append(out, sel)
	}
	if resources > maxDataResources {
		return nil, invalidSelectors("A trail is limited to %d data resources; %d were specified.", maxDataResources, resources)
	}
	return out, nil
}

// Fields advanced selectors of a trail may use, per event category (the
// AdvancedEventSelector reference: management events take eventCategory,
// eventSource and readOnly; data events add eventName, resources.type
// (required) and resources.ARN).
var advancedFields = map[string]map[string]bool{
	"Management":      {"eventCategory": true, "eventSource": true, "readOnly": true},
	"Data":            {"eventCategory": true, "resources.type": true, "readOnly": true, "eventName": true, "resources.ARN": true},
	"NetworkActivity": {"eventCategory": true, "eventSource": true, "eventName": true, "errorCode": true, "vpcEndpointId": true},
}

func validateAdvanced(in []advancedEventSelectorIn) ([]advancedEventSelector, *apiError) {
	if len(in) < 1 || len(in) > maxAdvancedSelectors {
		return nil, invalidSelectors("Specify between 1 and %d advanced event selectors; %d were specified.", maxAdvancedSelectors, len(in))
	}
	out := make([]advancedEventSelector, 0, len(in))
	values := 0
	for i, s := range in {
		sel := advancedEventSelector{}
		if s.Name != nil {
			if len(*s.Name) > 1000 {
				return nil, validationError("Value at 'advancedEventSelectors.%d.member.name' failed to satisfy constraint: Member must have length less than or equal to 1000", i+1)
			}
			sel.Name = *s.Name
		}
		if len(s.FieldSelectors) == 0 {
			return nil, validationError("Value '[]' at 'advancedEventSelectors.%d.member.fieldSelectors' failed to satisfy constraint: Member must have length greater than or equal to 1", i+1)
		}
		category := ""
		seen := map[string]bool{}
		for j, fs := range s.FieldSelectors {
			where := fmt.Sprintf("advancedEventSelectors.%d.member.fieldSelectors.%d.member", i+1, j+1)
			if fs.Field == nil {
				return nil, validationError("Value null at '%s.field' failed to satisfy constraint: Member must not be null", where)
			}
			if !fieldNamePattern.MatchString(*fs.Field) {
				return nil, validationError("Value '%s' at '%s.field' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w|\\d|\\.|_]+", *fs.Field, where)
			}
			f := fieldSelector{Field: *fs.Field}
			n := 0
			for _, op := range []struct {
				name string
				in   []string
				out  *[]string
			}{
				{"equals", fs.Equals, &f.Equals}, {"startsWith", fs.StartsWith, &f.StartsWith}, {"endsWith", fs.EndsWith, &f.EndsWith},
				{"notEquals", fs.NotEquals, &f.NotEquals}, {"notStartsWith", fs.NotStartsWith, &f.NotStartsWith}, {"notEndsWith", fs.NotEndsWith, &f.NotEndsWith},
			} {
				if op.in == nil {
					continue
				}
				if len(op.in) == 0 {
					return nil, validationError("Value '[]' at '%s.%s' failed to satisfy constraint: Member must have length greater than or equal to 1", where, op.name)
				}
				for _, v := range op.in {
					if len(v) < 1 || len(v) > 2048 {
						return nil, validationError("Value at '%s.%s' failed to satisfy constraint: Member must have length between 1 and 2048", where, op.name)
					}
				}
				*op.out = append([]string{}, op.in...)
				n += len(op.in)
			}
			if n == 0 {
				return nil, invalidSelectors("Advanced event selector %d: field %s has no condition.", i+1, f.Field)
			}
			if seen[f.Field] {
				return nil, invalidSelectors("Advanced event selector %d: field %s is used more than once.", i+1, f.Field)
			}
			seen[f.Field] = true
			values += n
			switch f.Field {
			case "eventCategory":
				if len(f.Equals) != 1 || n != 1 {
					return nil, invalidSelectors("Advanced event selector %d: eventCategory must use the Equals operator with one value.", i+1)
				}
				category = f.Equals[0]
				if advancedFields[category] == nil {
					return nil, invalidSelectors("Advanced event selector %d: eventCategory %q is not valid for a trail; use Management, Data or NetworkActivity.", i+1, category)
				}
			case "readOnly":
				if len(f.Equals) != 1 || n != 1 || (f.Equals[0] != "true" && f.Equals[0] != "false") {
					return nil, invalidSelectors("Advanced event selector %d: readOnly must use the Equals operator with the value true or false.", i+1)
				}
			}
			sel.FieldSelectors = append(sel.FieldSelectors, f)
		}
		if category == "" {
			return nil, invalidSelectors("Advanced event selector %d: the eventCategory field is required.", i+1)
		}
		for _, f := range sel.FieldSelectors {
			if !advancedFields[category][f.Field] {
				return nil, invalidSelectors("Advanced event selector %d: field %s is not supported for %s events.", i+1, f.Field, category)
			}
			if category == "Management" && f.Field == "eventSource" {
				if len(f.NotEquals) == 0 || len(f.NotEquals) != countConditions(f) {
					return nil, invalidSelectors("Advanced event selector %d: for management events, eventSource can only use NotEquals.", i+1)
				}
				for _, v := range f.NotEquals {
					if !managementSources[v] {
						return nil, invalidSelectors("Advanced event selector %d: eventSource NotEquals %q is not valid; only kms.amazonaws.com and rdsdata.amazonaws.com can be excluded.", i+1, v)
					}
				}
			}
		}
		if category == "Data" && !seen["resources.type"] {
			return nil, invalidSelectors("Advanced event selector %d: data event selectors require the resources.type field.", i+1)
		}
		out = append(out, sel)
	}
	if values > maxAdvancedValues {
		return nil, invalidSelectors("A trail can have at most %d values for all conditions in all advanced event selectors; %d were specified.", maxAdvancedValues, values)
	}
	return out, nil
}

func countConditions(f fieldSelector) int {
	return len(f.Equals) + len(f.StartsWith) + len(f.EndsWith) + len(f.NotEquals) + len(f.NotStartsWith) + len(f.NotEndsWith)
}

type selectorsOut struct {
	TrailARN               string                  `json:"TrailARN"`
	EventSelectors         []eventSelector         `json:"EventSelectors,omitempty"`
	AdvancedEventSelectors []advancedEventSelector `json:"AdvancedEventSelectors,omitempty"`
}

func (t *trail) selectors() selectorsOut {
	out := selectorsOut{TrailARN: t.arn, EventSelectors: t.basic, AdvancedEventSelectors: t.advanced}
	if t.basic == nil && t.advanced == nil {
		out.EventSelectors = defaultSelectors()
	}
	return out
}

// getEventSelectors answers like getTrailStatus: by name in the home
// region, by ARN wherever the trail is visible. A trail that never had
// PutEventSelectors shows the AWS default selector (all management
// events, read and write).
func (e *Emulator) getEventSelectors(c *call, body []byte) (any, *apiError) {
	return e.withTrail(c, body, &trailNameIn{}, read, func(t *trail) (any, *apiError) {
		if err := e.checkMemberRead(c, t); err != nil {
			return nil, err
		}
		return t.selectors(), nil
	})
}

func (e *Emulator) putEventSelectors(c *call, body []byte) (any, *apiError) {
	var in struct {
		trailNameIn
		selectorsIn
	}
	return e.withTrail(c, body, &in, mutate, func(t *trail) (any, *apiError) {
		basic, adv, err := validateSelectors(in.selectorsIn)
		if err != nil {
			return nil, err
		}
		t.basic, t.advanced, t.custom = basic, adv, true
		return t.selectors(), nil
	})
}
