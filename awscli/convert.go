package awscli

import (
	"encoding/json"

	"github.com/trailguard/trailguard"
)

// Conversions between the CLI's shapes and the domain types, field for
// field; nothing is decided here. Empty lists become nil in the domain, so
// that a document and its reprint read the same.

// Defaults the CloudTrail API documents for a basic event selector whose
// members are absent. Decode never applies them to a document (both
// members are required there); they only fill a value built without them.
const (
	defaultReadWriteType           = "All"
	defaultIncludeManagementEvents = true
)

// Domain is the trail as the domain holds it; a trail listed without
// HomeRegion takes the region of its ARN.
func (c Trail) Domain() trailguard.Trail {
	t := trailguard.Trail{
		Name:                       c.Name,
		ARN:                        c.TrailARN,
		HomeRegion:                 c.HomeRegion,
		IsMultiRegion:              c.IsMultiRegionTrail,
		IsOrganizationTrail:        c.IsOrganizationTrail,
		IncludeGlobalServiceEvents: c.IncludeGlobalServiceEvents == nil || *c.IncludeGlobalServiceEvents,
		LogFileValidationEnabled:   c.LogFileValidationEnabled,
		HasCustomEventSelectors:    c.HasCustomEventSelectors,
		HasInsightSelectors:        c.HasInsightSelectors,
		S3BucketName:               c.S3BucketName,
		S3KeyPrefix:                c.S3KeyPrefix,
		SnsTopicName:               c.SnsTopicName,
		SnsTopicARN:                c.SnsTopicARN,
		CloudWatchLogsLogGroupARN:  c.CloudWatchLogsLogGroupArn,
		CloudWatchLogsRoleARN:      c.CloudWatchLogsRoleArn,
		KMSKeyID:                   c.KmsKeyID,
	}
	if t.HomeRegion == "" {
		t.HomeRegion = trailguard.ARNRegion(t.ARN)
	}
	return t
}

// TrailOf is the trail as describe-trails prints it.
func TrailOf(t trailguard.Trail) Trail {
	return Trail{
		Name:                       t.Name,
		S3BucketName:               t.S3BucketName,
		S3KeyPrefix:                t.S3KeyPrefix,
		SnsTopicName:               t.SnsTopicName,
		SnsTopicARN:                t.SnsTopicARN,
		IncludeGlobalServiceEvents: &t.IncludeGlobalServiceEvents,
		IsMultiRegionTrail:         t.IsMultiRegion,
		HomeRegion:                 t.HomeRegion,
		TrailARN:                   t.ARN,
		LogFileValidationEnabled:   t.LogFileValidationEnabled,
		CloudWatchLogsLogGroupArn:  t.CloudWatchLogsLogGroupARN,
		CloudWatchLogsRoleArn:      t.CloudWatchLogsRoleARN,
		KmsKeyID:                   t.KMSKeyID,
		HasCustomEventSelectors:    t.HasCustomEventSelectors,
		HasInsightSelectors:        t.HasInsightSelectors,
		IsOrganizationTrail:        t.IsOrganizationTrail,
	}
}

// Domain is the status as the domain holds it. IsLogging is required
// (Decode refuses a document without it); absent, it reads as false.
func (c GetTrailStatus) Domain() *trailguard.TrailStatus {
	return &trailguard.TrailStatus{
		IsLogging:                          c.IsLogging != nil && *c.IsLogging,
		LatestDeliveryError:                c.LatestDeliveryError,
		LatestNotificationError:            c.LatestNotificationError,
		LatestDeliveryTime:                 c.LatestDeliveryTime.domain(),
		LatestNotificationTime:             c.LatestNotificationTime.domain(),
		StartLoggingTime:                   c.StartLoggingTime.domain(),
		StopLoggingTime:                    c.StopLoggingTime.domain(),
		LatestCloudWatchLogsDeliveryError:  c.LatestCloudWatchLogsDeliveryError,
		LatestCloudWatchLogsDeliveryTime:   c.LatestCloudWatchLogsDeliveryTime.domain(),
		LatestDigestDeliveryTime:           c.LatestDigestDeliveryTime.domain(),
		LatestDigestDeliveryError:          c.LatestDigestDeliveryError,
		LatestDeliveryAttemptTime:          c.LatestDeliveryAttemptTime,
		LatestNotificationAttemptTime:      c.LatestNotificationAttemptTime,
		LatestNotificationAttemptSucceeded: c.LatestNotificationAttemptSucceeded,
		LatestDeliveryAttemptSucceeded:     c.LatestDeliveryAttemptSucceeded,
		TimeLoggingStarted:                 c.TimeLoggingStarted,
		TimeLoggingStopped:                 c.TimeLoggingStopped,
	}
}

// TrailStatusOf is the status as get-trail-status prints it.
func TrailStatusOf(s *trailguard.TrailStatus) GetTrailStatus {
	logging := s.IsLogging
	return GetTrailStatus{
		IsLogging:                          &logging,
		LatestDeliveryError:                s.LatestDeliveryError,
		LatestNotificationError:            s.LatestNotificationError,
		LatestDeliveryTime:                 timeOf(s.LatestDeliveryTime),
		LatestNotificationTime:             timeOf(s.LatestNotificationTime),
		StartLoggingTime:                   timeOf(s.StartLoggingTime),
		StopLoggingTime:                    timeOf(s.StopLoggingTime),
		LatestCloudWatchLogsDeliveryError:  s.LatestCloudWatchLogsDeliveryError,
		LatestCloudWatchLogsDeliveryTime:   timeOf(s.LatestCloudWatchLogsDeliveryTime),
		LatestDigestDeliveryTime:           timeOf(s.LatestDigestDeliveryTime),
		LatestDigestDeliveryError:          s.LatestDigestDeliveryError,
		LatestDeliveryAttemptTime:          s.LatestDeliveryAttemptTime,
		LatestNotificationAttemptTime:      s.LatestNotificationAttemptTime,
		LatestNotificationAttemptSucceeded: s.LatestNotificationAttemptSucceeded,
		LatestDeliveryAttemptSucceeded:     s.LatestDeliveryAttemptSucceeded,
		TimeLoggingStarted:                 s.TimeLoggingStarted,
		TimeLoggingStopped:                 s.TimeLoggingStopped,
	}
}

// Domain is the selectors as the domain holds them.
func (c GetEventSelectors) Domain() *trailguard.EventSelectors {
	out := &trailguard.EventSelectors{}
	if c.EventSelectors != nil {
		for _, s := range *c.EventSelectors {
			out.Basic = append(out.Basic, s.domain())
		}
	}
	if c.AdvancedEventSelectors != nil {
		for _, a := range *c.AdvancedEventSelectors {
			out.Advanced = append(out.Advanced, a.domain())
		}
	}
	return out
}

func (s EventSelector) domain() trailguard.EventSelector {
	sel := trailguard.EventSelector{ReadWriteType: defaultReadWriteType, IncludeManagementEvents: defaultIncludeManagementEvents}
	if s.ReadWriteType != nil {
		sel.ReadWriteType = *s.ReadWriteType
	}
	if s.IncludeManagementEvents != nil {
		sel.IncludeManagementEvents = *s.IncludeManagementEvents
	}
	if s.ExcludeManagementEventSources != nil {
		sel.ExcludeManagementEventSources = nonEmpty(*s.ExcludeManagementEventSources)
	}
	if s.DataResources != nil {
		for _, d := range *s.DataResources {
			sel.DataResources = append(sel.DataResources, trailguard.DataResource{Type: d.Type, Values: nonEmpty(d.Values)})
		}
	}
	return sel
}

func (a AdvancedEventSelector) domain() trailguard.AdvancedEventSelector {
	sel := trailguard.AdvancedEventSelector{Name: a.Name}
	for _, f := range a.FieldSelectors {
		sel.FieldSelectors = append(sel.FieldSelectors, trailguard.FieldSelector{
			Field:         f.Field,
			Equals:        nonEmpty(f.Equals),
			StartsWith:    nonEmpty(f.StartsWith),
			EndsWith:      nonEmpty(f.EndsWith),
			NotEquals:     nonEmpty(f.NotEquals),
			NotStartsWith: nonEmpty(f.NotStartsWith),
			NotEndsWith:   nonEmpty(f.NotEndsWith),
		})
	}
	return sel
}

// EventSelectorsOf is the selectors as get-event-selectors prints them
// for trail arn: basic selectors unless there are advanced ones, as in the
// API's answer, and a basic selector's lists as [] when empty.
func EventSelectorsOf(arn string, s *trailguard.EventSelectors) GetEventSelectors {
	out := GetEventSelectors{TrailARN: arn}
	if len(s.Basic) > 0 || len(s.Advanced) == 0 {
		basic := make([]EventSelector, 0, len(s.Basic))
		for _, b := range s.Basic {
			sel := eventSelectorOf(b, true)
			basic = append(basic, sel)
		}
		out.EventSelectors = &basic
	}
	if len(s.Advanced) > 0 {
		adv := make([]AdvancedEventSelector, 0, len(s.Advanced))
		for _, a := range s.Advanced {
			adv = append(adv, advancedSelectorOf(a))
		}
		out.AdvancedEventSelectors = &adv
	}
	return out
}

// PutEventSelectorsOf is the input that gives trail the selectors s: the
// advanced ones when there are any (AWS keeps the two kinds exclusive),
// else the basic ones, with empty lists left out.
func PutEventSelectorsOf(trail string, s trailguard.EventSelectors) PutEventSelectors {
	in := PutEventSelectors{TrailName: trail}
	if len(s.Advanced) > 0 {
		for _, a := range s.Advanced {
			in.AdvancedEventSelectors = append(in.AdvancedEventSelectors, advancedSelectorOf(a))
		}
		return in
	}
	for _, b := range s.Basic {
		in.EventSelectors = append(in.EventSelectors, eventSelectorOf(b, false))
	}
	return in
}

// Arg is the selectors as put-event-selectors takes them on its command
// line: the option (--event-selectors or --advanced-event-selectors) and
// its JSON value, a list.
func (in PutEventSelectors) Arg() (flag, value string) {
	var b []byte
	if len(in.AdvancedEventSelectors) > 0 {
		flag, b = "--advanced-event-selectors", mustMarshal(in.AdvancedEventSelectors)
	} else {
		sels := in.EventSelectors
		if sels == nil {
			sels = []EventSelector{}
		}
		flag, b = "--event-selectors", mustMarshal(sels)
	}
	return flag, string(b)
}

// mustMarshal prints a value of this package's types, which always
// marshal (no channels, functions or cyclic values).
func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("awscli: " + err.Error())
	}
	return b
}

// eventSelectorOf is the CLI's basic selector; printed says whether empty
// lists are printed as [] (get-event-selectors' output) or left out
// (put-event-selectors' input).
func eventSelectorOf(b trailguard.EventSelector, printed bool) EventSelector {
	rw, mgmt := b.ReadWriteType, b.IncludeManagementEvents
	sel := EventSelector{ReadWriteType: &rw, IncludeManagementEvents: &mgmt}
	var data []DataResource
	for _, d := range b.DataResources {
		data = append(data, DataResource{Type: d.Type, Values: d.Values})
	}
	exclude := b.ExcludeManagementEventSources
	if printed {
		if data == nil {
			data = []DataResource{}
		}
		if exclude == nil {
			exclude = []string{}
		}
	}
	if data != nil {
		sel.DataResources = &data
	}
	if len(exclude) > 0 || printed {
		sel.ExcludeManagementEventSources = &exclude
	}
	return sel
}

func advancedSelectorOf(a trailguard.AdvancedEventSelector) AdvancedEventSelector {
	sel := AdvancedEventSelector{Name: a.Name, FieldSelectors: []AdvancedFieldSelector{}}
	for _, f := range a.FieldSelectors {
		sel.FieldSelectors = append(sel.FieldSelectors, AdvancedFieldSelector{
			Field:         f.Field,
			Equals:        f.Equals,
			StartsWith:    f.StartsWith,
			EndsWith:      f.EndsWith,
			NotEquals:     f.NotEquals,
			NotStartsWith: f.NotStartsWith,
			NotEndsWith:   f.NotEndsWith,
		})
	}
	return sel
}

// RegionsOf is the regions as describe-regions prints them.
func RegionsOf(regions []trailguard.Region) DescribeRegions {
	list := make([]Region, 0, len(regions))
	for _, r := range regions {
		list = append(list, Region{RegionName: r.Name, OptInStatus: r.OptInStatus})
	}
	return DescribeRegions{Regions: &list}
}

// Domain is the regions as the domain holds them: never nil (nil means
// "not read" there).
func (c DescribeRegions) Domain() []trailguard.Region {
	out := []trailguard.Region{}
	if c.Regions != nil {
		for _, r := range *c.Regions {
			out = append(out, trailguard.Region{Name: r.RegionName, OptInStatus: r.OptInStatus})
		}
	}
	return out
}

func nonEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}
