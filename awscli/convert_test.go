package awscli

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/trailguard/trailguard"
)

// The input put-event-selectors takes: the one list of the kind the
// selectors are, with no null (the CLI refuses null for a list) and no
// empty list, so that the command line holds only what was set.
func TestPutEventSelectorsOf_arg(t *testing.T) {
	tests := []struct {
		name      string
		sels      trailguard.EventSelectors
		flag, arg string
	}{
		{name: "basic_default", sels: *trailguard.DefaultSelectors(), flag: "--event-selectors",
			arg: `[{"ReadWriteType":"All","IncludeManagementEvents":true}]`},
		{name: "basic_with_data_and_exclusion", sels: trailguard.EventSelectors{Basic: []trailguard.EventSelector{
			{ReadWriteType: "All", IncludeManagementEvents: true, ExcludeManagementEventSources: []string{"kms.amazonaws.com"},
				DataResources: []trailguard.DataResource{{Type: "AWS::S3::Object", Values: []string{"arn:aws:s3:::b/"}}}}}},
			flag: "--event-selectors",
			arg:  `[{"ReadWriteType":"All","IncludeManagementEvents":true,"DataResources":[{"Type":"AWS::S3::Object","Values":["arn:aws:s3:::b/"]}],"ExcludeManagementEventSources":["kms.amazonaws.com"]}]`},
		{name: "advanced_named", sels: trailguard.EventSelectors{Advanced: []trailguard.AdvancedEventSelector{
			{Name: "m", FieldSelectors: []trailguard.FieldSelector{{Field: "eventCategory", Equals: []string{"Management"}}, {Field: "eventSource", NotEquals: []string{"kms.amazonaws.com"}}}}}},
			flag: "--advanced-event-selectors",
			arg:  `[{"Name":"m","FieldSelectors":[{"Field":"eventCategory","Equals":["Management"]},{"Field":"eventSource","NotEquals":["kms.amazonaws.com"]}]}]`},
		{name: "no_selectors_is_an_empty_list", sels: trailguard.EventSelectors{}, flag: "--event-selectors", arg: `[]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			flag, arg := PutEventSelectorsOf("arn:aws:cloudtrail:us-east-1:123456789012:trail/t", tc.sels).Arg()
			if flag != tc.flag || arg != tc.arg {
				t.Errorf("Arg = %s %s\nwant  %s %s", flag, arg, tc.flag, tc.arg)
			}
			if strings.Contains(arg, "null") {
				t.Errorf("null in %s", arg)
			}
		})
	}
}

// What get-event-selectors prints of the domain's selectors, and what
// put-event-selectors is given, both read back as the same selectors.
func TestEventSelectors_round_trip(t *testing.T) {
	sels := []trailguard.EventSelectors{
		*trailguard.DefaultSelectors(),
		{Basic: []trailguard.EventSelector{{ReadWriteType: "ReadOnly", DataResources: []trailguard.DataResource{{Type: "AWS::Lambda::Function"}}}}},
		{Advanced: []trailguard.AdvancedEventSelector{{FieldSelectors: []trailguard.FieldSelector{{Field: "eventCategory", Equals: []string{"Management"}}, {Field: "readOnly", Equals: []string{"true"}}}}}},
	}
	for _, s := range sels {
		printed, err := Marshal(EventSelectorsOf("arn", &s))
		if err != nil {
			t.Fatal(err)
		}
		var got GetEventSelectors
		if err := Decode(printed, &got); err != nil {
			t.Fatalf("%s: %v", printed, err)
		}
		if !reflect.DeepEqual(*got.Domain(), s) {
			t.Errorf("printed and read back:\n%s\n%+v\nwant %+v", printed, *got.Domain(), s)
		}
		if back := putRoundTrip(t, s); !reflect.DeepEqual(back, s) {
			t.Errorf("put input read back %+v, want %+v", back, s)
		}
	}
}

// putRoundTrip reads the put-event-selectors argument for s back into the
// domain, as the service would store it.
func putRoundTrip(t *testing.T, s trailguard.EventSelectors) trailguard.EventSelectors {
	t.Helper()
	flag, arg := PutEventSelectorsOf("t", s).Arg()
	var out GetEventSelectors
	key := "EventSelectors"
	if flag == "--advanced-event-selectors" {
		key = "AdvancedEventSelectors"
	}
	doc, _ := json.Marshal(map[string]json.RawMessage{key: json.RawMessage(arg)})
	if err := Decode(doc, &out); err != nil {
		t.Fatalf("put argument %s does not read as selectors: %v", arg, err)
	}
	return *out.Domain()
}

// FuzzDecodeEventSelectors: any get-event-selectors output Decode accepts
// gives selectors that survive both printed forms unchanged.
func FuzzDecodeEventSelectors(f *testing.F) {
	for _, s := range []string{
		`{"TrailARN":"arn:aws:cloudtrail:us-east-1:123456789012:trail/t","EventSelectors":[{"ReadWriteType":"All","IncludeManagementEvents":true,"DataResources":[],"ExcludeManagementEventSources":[]}]}`,
		`{"AdvancedEventSelectors":[{"Name":"m","FieldSelectors":[{"Field":"eventCategory","Equals":["Management"]}]}]}`,
		`{"EventSelectors":[{"ReadWriteType":"ReadOnly","IncludeManagementEvents":false,"DataResources":[{"Type":"AWS::S3::Object","Values":[]}]}]}`,
		`{"EventSelectors":null}`, `{"EventSelectors":[{}]}`, `{"AdvancedEventSelectors":[{"FieldSelectors":[{"Field":"a","Field":"b"}]}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v GetEventSelectors
		if Decode(data, &v) != nil {
			return
		}
		s := *v.Domain()
		if len(s.Basic) > 0 && len(s.Advanced) > 0 {
			return // AWS never answers both; each printed form keeps one kind
		}
		printed, err := Marshal(EventSelectorsOf(v.TrailARN, &s))
		if err != nil {
			t.Fatal(err)
		}
		var again GetEventSelectors
		if err := Decode(printed, &again); err != nil {
			t.Fatalf("reprint does not read: %v\n%s", err, printed)
		}
		if !reflect.DeepEqual(*again.Domain(), s) {
			t.Fatalf("reprint changed the selectors\n%+v\n%+v", s, *again.Domain())
		}
		if back := putRoundTrip(t, s); !reflect.DeepEqual(back, s) && (len(s.Basic) > 0 || len(s.Advanced) > 0) {
			t.Fatalf("put argument changed the selectors\n%+v\n%+v", s, back)
		}
	})
}
