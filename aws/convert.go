package aws

import (
	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	"github.com/trailguard/trailguard"
)

// The functions below convert between CloudTrail SDK types and domain
// types, field for field, in both directions (the scan reads with the
// *FromSDK functions, the fix writes with selectorsToSDK); nothing is
// decided here.

func trailFromSDK(t cttypes.Trail) trailguard.Trail {
	out := trailguard.Trail{
		Name:                       sdkaws.ToString(t.Name),
		ARN:                        sdkaws.ToString(t.TrailARN),
		HomeRegion:                 sdkaws.ToString(t.HomeRegion),
		IsMultiRegion:              sdkaws.ToBool(t.IsMultiRegionTrail),
		IsOrganizationTrail:        sdkaws.ToBool(t.IsOrganizationTrail),
		IncludeGlobalServiceEvents: sdkaws.ToBool(t.IncludeGlobalServiceEvents),
		LogFileValidationEnabled:   sdkaws.ToBool(t.LogFileValidationEnabled),
		HasCustomEventSelectors:    sdkaws.ToBool(t.HasCustomEventSelectors),
		HasInsightSelectors:        sdkaws.ToBool(t.HasInsightSelectors),
		S3BucketName:               sdkaws.ToString(t.S3BucketName),
		S3KeyPrefix:                sdkaws.ToString(t.S3KeyPrefix),
		SnsTopicName:               sdkaws.ToString(t.SnsTopicName),
		SnsTopicARN:                sdkaws.ToString(t.SnsTopicARN),
		CloudWatchLogsLogGroupARN:  sdkaws.ToString(t.CloudWatchLogsLogGroupArn),
		CloudWatchLogsRoleARN:      sdkaws.ToString(t.CloudWatchLogsRoleArn),
		KMSKeyID:                   sdkaws.ToString(t.KmsKeyId),
	}
	if out.HomeRegion == "" {
		out.HomeRegion = trailguard.ARNRegion(out.ARN)
	}
	return out
}

func statusFromSDK(o *cloudtrail.GetTrailStatusOutput) *trailguard.TrailStatus {
	return &trailguard.TrailStatus{
		IsLogging:                          sdkaws.ToBool(o.IsLogging),
		LatestDeliveryError:                sdkaws.ToString(o.LatestDeliveryError),
		LatestNotificationError:            sdkaws.ToString(o.LatestNotificationError),
		LatestDeliveryTime:                 o.LatestDeliveryTime,
		LatestNotificationTime:             o.LatestNotificationTime,
		StartLoggingTime:                   o.StartLoggingTime,
		StopLoggingTime:                    o.StopLoggingTime,
		LatestCloudWatchLogsDeliveryError:  sdkaws.ToString(o.LatestCloudWatchLogsDeliveryError),
		LatestCloudWatchLogsDeliveryTime:   o.LatestCloudWatchLogsDeliveryTime,
		LatestDigestDeliveryTime:           o.LatestDigestDeliveryTime,
		LatestDigestDeliveryError:          sdkaws.ToString(o.LatestDigestDeliveryError),
		LatestDeliveryAttemptTime:          sdkaws.ToString(o.LatestDeliveryAttemptTime),
		LatestNotificationAttemptTime:      sdkaws.ToString(o.LatestNotificationAttemptTime),
		LatestNotificationAttemptSucceeded: sdkaws.ToString(o.LatestNotificationAttemptSucceeded),
		LatestDeliveryAttemptSucceeded:     sdkaws.ToString(o.LatestDeliveryAttemptSucceeded),
		TimeLoggingStarted:                 sdkaws.ToString(o.TimeLoggingStarted),
		TimeLoggingStopped:                 sdkaws.ToString(o.TimeLoggingStopped),
	}
}

func selectorsFromSDK(o *cloudtrail.GetEventSelectorsOutput) *trailguard.EventSelectors {
	out := &trailguard.EventSelectors{}
	for _, s := range o.EventSelectors {
		sel := trailguard.EventSelector{
			ReadWriteType:                 string(s.ReadWriteType),
			IncludeManagementEvents:       sdkaws.ToBool(s.IncludeManagementEvents),
			ExcludeManagementEventSources: s.ExcludeManagementEventSources,
		}
		// The API documents true as the default when the field is absent.
		if s.IncludeManagementEvents == nil {
			sel.IncludeManagementEvents = true
		}
		if sel.ReadWriteType == "" {
			sel.ReadWriteType = string(cttypes.ReadWriteTypeAll)
		}
		for _, d := range s.DataResources {
			sel.DataResources = append(sel.DataResources, trailguard.DataResource{Type: sdkaws.ToString(d.Type), Values: d.Values})
		}
		out.Basic = append(out.Basic, sel)
	}
	for _, a := range o.AdvancedEventSelectors {
		sel := trailguard.AdvancedEventSelector{Name: sdkaws.ToString(a.Name)}
		for _, f := range a.FieldSelectors {
			sel.FieldSelectors = append(sel.FieldSelectors, trailguard.FieldSelector{
				Field:         sdkaws.ToString(f.Field),
				Equals:        f.Equals,
				StartsWith:    f.StartsWith,
				EndsWith:      f.EndsWith,
				NotEquals:     f.NotEquals,
				NotStartsWith: f.NotStartsWith,
				NotEndsWith:   f.NotEndsWith,
			})
		}
		out.Advanced = append(out.Advanced, sel)
	}
	return out
}

// selectorsToSDK is the SDK form of the selectors PutEventSelectors is
// given: selectorsFromSDK's reverse, so that selectors read and written
// back are the same.
func selectorsToSDK(s trailguard.EventSelectors) ([]cttypes.EventSelector, []cttypes.AdvancedEventSelector) {
	var basic []cttypes.EventSelector
	for _, e := range s.Basic {
		es := cttypes.EventSelector{
			ReadWriteType:                 cttypes.ReadWriteType(e.ReadWriteType),
			IncludeManagementEvents:       sdkaws.Bool(e.IncludeManagementEvents),
			ExcludeManagementEventSources: e.ExcludeManagementEventSources,
		}
		for _, d := range e.DataResources {
			es.DataResources = append(es.DataResources, cttypes.DataResource{Type: sdkaws.String(d.Type), Values: d.Values})
		}
		basic = append(basic, es)
	}
	var adv []cttypes.AdvancedEventSelector
	for _, a := range s.Advanced {
		as := cttypes.AdvancedEventSelector{}
		if a.Name != "" {
			as.Name = sdkaws.String(a.Name)
		}
		for _, f := range a.FieldSelectors {
			as.FieldSelectors = append(as.FieldSelectors, cttypes.AdvancedFieldSelector{
				Field:         sdkaws.String(f.Field),
				Equals:        f.Equals,
				StartsWith:    f.StartsWith,
				EndsWith:      f.EndsWith,
				NotEquals:     f.NotEquals,
				NotStartsWith: f.NotStartsWith,
				NotEndsWith:   f.NotEndsWith,
			})
		}
		adv = append(adv, as)
	}
	return basic, adv
}
