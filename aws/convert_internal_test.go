package aws

import (
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"

	"github.com/trailguard/trailguard"
)

// Both directions of the SDK conversion live in convert.go and are each
// other's reverse: selectors written with selectorsToSDK read back with
// selectorsFromSDK as they were.
func TestSelectorsSDK_round_trip(t *testing.T) {
	tests := []struct {
		name string
		sels trailguard.EventSelectors
	}{
		{name: "basic_default", sels: *trailguard.DefaultSelectors()},
		{name: "basic_data_and_exclusion", sels: trailguard.EventSelectors{Basic: []trailguard.EventSelector{
			{ReadWriteType: "ReadOnly", DataResources: []trailguard.DataResource{{Type: "AWS::S3::Object", Values: []string{"arn:aws:s3:::b/"}}}},
			{ReadWriteType: "All", IncludeManagementEvents: true, ExcludeManagementEventSources: []string{"kms.amazonaws.com"}},
		}}},
		{name: "basic_management_off", sels: trailguard.EventSelectors{Basic: []trailguard.EventSelector{{ReadWriteType: "WriteOnly", IncludeManagementEvents: false}}}},
		{name: "advanced_every_operator", sels: trailguard.EventSelectors{Advanced: []trailguard.AdvancedEventSelector{
			{Name: "m", FieldSelectors: []trailguard.FieldSelector{{Field: "eventCategory", Equals: []string{"Management"}}, {Field: "eventSource", NotEquals: []string{"kms.amazonaws.com"}}}},
			{FieldSelectors: []trailguard.FieldSelector{{Field: "resources.ARN", StartsWith: []string{"a"}, EndsWith: []string{"b"}, NotStartsWith: []string{"c"}, NotEndsWith: []string{"d"}}}},
		}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			basic, adv := selectorsToSDK(tc.sels)
			got := selectorsFromSDK(&cloudtrail.GetEventSelectorsOutput{EventSelectors: basic, AdvancedEventSelectors: adv})
			if !reflect.DeepEqual(*got, tc.sels) {
				t.Errorf("read back %+v\nwant      %+v", *got, tc.sels)
			}
		})
	}
}
