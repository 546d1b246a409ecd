package fix

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/trailguard/trailguard"
	"github.com/trailguard/trailguard/awscli"
)

// The put-event-selectors command a plan prints, and its undo, carry the
// selectors in the AWS CLI's own shape (package awscli): the argument
// reads back as exactly the selectors the step writes, and the undo's as
// the selectors that were read.
func TestRepair_prints_selectors_in_the_cli_shape(t *testing.T) {
	const arn = "arn:aws:cloudtrail:us-east-1:123456789012:trail/main"
	tests := []struct {
		name string
		sels trailguard.EventSelectors
		flag string
	}{
		{name: "basic_read_only", sels: trailguard.EventSelectors{Basic: []trailguard.EventSelector{{ReadWriteType: "ReadOnly", IncludeManagementEvents: true}}}, flag: "--event-selectors"},
		{name: "basic_data_only_without_values", sels: trailguard.EventSelectors{Basic: []trailguard.EventSelector{
			{ReadWriteType: "All", DataResources: []trailguard.DataResource{{Type: "AWS::Lambda::Function"}, {Type: "AWS::S3::Object", Values: []string{"arn:aws:s3:::it's/"}}}}}}, flag: "--event-selectors"},
		{name: "advanced_writes_only", sels: trailguard.EventSelectors{Advanced: []trailguard.AdvancedEventSelector{
			{Name: "writes", FieldSelectors: []trailguard.FieldSelector{{Field: "eventCategory", Equals: []string{"Management"}}, {Field: "readOnly", Equals: []string{"false"}}}}}}, flag: "--advanced-event-selectors"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sels := tc.sels
			tr := trailguard.Trail{Name: "main", ARN: arn, HomeRegion: "us-east-1", IsMultiRegion: true, IncludeGlobalServiceEvents: true,
				Status: &trailguard.TrailStatus{IsLogging: true}, Selectors: &sels}
			steps, err := repair(tr, Options{})
			if err != nil {
				t.Fatal(err)
			}
			var st *Step
			for i := range steps {
				if steps[i].Action == "record-all-management-events" {
					st = &steps[i]
				}
			}
			if st == nil || st.Selectors == nil {
				t.Fatalf("no selector step in %+v", steps)
			}
			if !st.Selectors.RecordsAllManagementEvents(trailguard.Options{}) {
				t.Errorf("the step writes selectors that do not record every management event: %+v", *st.Selectors)
			}
			for _, c := range []struct {
				what, cmd string
				want      trailguard.EventSelectors
			}{{"command", st.CLI, *st.Selectors}, {"undo", st.Undo, tc.sels}} {
				flag, value := awscli.PutEventSelectorsOf(arn, c.want).Arg()
				if !strings.Contains(c.cmd, " "+flag+" "+sh(value)+" ") {
					t.Errorf("%s %q lacks %s %s", c.what, c.cmd, flag, sh(value))
				}
				if c.what == "undo" && flag != tc.flag {
					t.Errorf("undo puts back %s, the selectors read were %s", flag, tc.flag)
				}
				if got := readPut(t, flag, value); !reflect.DeepEqual(got, c.want) {
					t.Errorf("%s argument reads back as %+v, want %+v", c.what, got, c.want)
				}
			}
		})
	}
}

// readPut reads a put-event-selectors argument as get-event-selectors
// would then print the selectors, exactly.
func readPut(t *testing.T, flag, value string) trailguard.EventSelectors {
	t.Helper()
	key := map[string]string{"--event-selectors": "EventSelectors", "--advanced-event-selectors": "AdvancedEventSelectors"}[flag]
	doc, _ := json.Marshal(map[string]json.RawMessage{key: json.RawMessage(value)})
	var out awscli.GetEventSelectors
	if err := awscli.Decode(doc, &out); err != nil {
		t.Fatalf("%s %s is not the CLI's shape: %v", flag, value, err)
	}
	return *out.Domain()
}
