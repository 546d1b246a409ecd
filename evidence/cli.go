package evidence

import (
	"github.com/trailguard/trailguard"
)

// The types below are the JSON the AWS CLI prints, member for member and in
// the order of the service models (the order the CLI prints them in), so
// that Write produces what an auditor's own `aws` command would have
// printed. Keys are matched exactly as the CLI prints them, never twice
// (see checkExact). A member tagged `cli:"required"` is one the CLI always
// prints (CloudTrail returns it in every answer) and on which the verdict
// depends: a file where it is missing or null is not that command's output,
// and the fact it holds is not readable — never a default.

// callerIdentity is `aws sts get-caller-identity`.
type callerIdentity struct {
	UserID  string `json:"UserId,omitempty"`
	Account string `json:"Account,omitempty"`
	Arn     string `json:"Arn,omitempty"`
}

// describeAccount is `aws organizations describe-account`; only the members
// trailguard keeps are written.
type describeAccount struct {
	Account *struct {
		ID   string `json:"Id,omitempty"`
		Arn  string `json:"Arn,omitempty"`
		Name string `json:"Name,omitempty"`
	} `json:"Account"`
}

// describeRegions is `aws ec2 describe-regions`.
type describeRegions struct {
	Regions *[]cliRegion `json:"Regions" cli:"required"`
}

type cliRegion struct {
	Endpoint    string `json:"Endpoint,omitempty"`
	RegionName  string `json:"RegionName" cli:"required"`
	OptInStatus string `json:"OptInStatus,omitempty"`
}

// describeTrails is `aws cloudtrail describe-trails`. A trail's members
// that are absent (hand-written evidence) take the value that cannot make
// it count — not multi-region, not an organization trail — and
// IncludeGlobalServiceEvents its API default, true: only a configuration
// AWS rejects (a multi-region trail without them) depends on it, and an
// absent member must not invent one.
type describeTrails struct {
	TrailList *[]cliTrail `json:"trailList" cli:"required"`
}

type cliTrail struct {
	Name                       string `json:"Name,omitempty"`
	S3BucketName               string `json:"S3BucketName,omitempty"`
	S3KeyPrefix                string `json:"S3KeyPrefix,omitempty"`
	SnsTopicName               string `json:"SnsTopicName,omitempty"`
	SnsTopicARN                string `json:"SnsTopicARN,omitempty"`
	IncludeGlobalServiceEvents *bool  `json:"IncludeGlobalServiceEvents"`
	IsMultiRegionTrail         bool   `json:"IsMultiRegionTrail"`
	HomeRegion                 string `json:"HomeRegion,omitempty"`
	TrailARN                   string `json:"TrailARN,omitempty"`
	LogFileValidationEnabled   bool   `json:"LogFileValidationEnabled"`
	CloudWatchLogsLogGroupArn  string `json:"CloudWatchLogsLogGroupArn,omitempty"`
	CloudWatchLogsRoleArn      string `json:"CloudWatchLogsRoleArn,omitempty"`
	KmsKeyID                   string `json:"KmsKeyId,omitempty"`
	HasCustomEventSelectors    bool   `json:"HasCustomEventSelectors"`
	HasInsightSelectors        bool   `json:"HasInsightSelectors"`
	IsOrganizationTrail        bool   `json:"IsOrganizationTrail"`
}

// getTrailStatus is `aws cloudtrail get-trail-status`.
type getTrailStatus struct {
	IsLogging                          *bool    `json:"IsLogging" cli:"required"`
	LatestDeliveryError                string   `json:"LatestDeliveryError,omitempty"`
	LatestNotificationError            string   `json:"LatestNotificationError,omitempty"`
	LatestDeliveryTime                 *cliTime `json:"LatestDeliveryTime,omitempty"`
	LatestNotificationTime             *cliTime `json:"LatestNotificationTime,omitempty"`
	StartLoggingTime                   *cliTime `json:"StartLoggingTime,omitempty"`
	StopLoggingTime                    *cliTime `json:"StopLoggingTime,omitempty"`
	LatestCloudWatchLogsDeliveryError  string   `json:"LatestCloudWatchLogsDeliveryError,omitempty"`
	LatestCloudWatchLogsDeliveryTime   *cliTime `json:"LatestCloudWatchLogsDeliveryTime,omitempty"`
	LatestDigestDeliveryTime           *cliTime `json:"LatestDigestDeliveryTime,omitempty"`
	LatestDigestDeliveryError          string   `json:"LatestDigestDeliveryError,omitempty"`
	LatestDeliveryAttemptTime          string   `json:"LatestDeliveryAttemptTime,omitempty"`
	LatestNotificationAttemptTime      string   `json:"LatestNotificationAttemptTime,omitempty"`
	LatestNotificationAttemptSucceeded string   `json:"LatestNotificationAttemptSucceeded,omitempty"`
	LatestDeliveryAttemptSucceeded     string   `json:"LatestDeliveryAttemptSucceeded,omitempty"`
	TimeLoggingStarted                 string   `json:"TimeLoggingStarted,omitempty"`
	TimeLoggingStopped                 string   `json:"TimeLoggingStopped,omitempty"`
}

// getEventSelectors is `aws cloudtrail get-event-selectors`. AWS returns
// one of the two lists, never both.
type getEventSelectors struct {
	TrailARN               string                      `json:"TrailARN,omitempty"`
	EventSelectors         *[]cliEventSelector         `json:"EventSelectors,omitempty"`
	AdvancedEventSelectors *[]cliAdvancedEventSelector `json:"AdvancedEventSelectors,omitempty"`
}

type cliEventSelector struct {
	ReadWriteType                 *string           `json:"ReadWriteType" cli:"required"`
	IncludeManagementEvents       *bool             `json:"IncludeManagementEvents" cli:"required"`
	DataResources                 []cliDataResource `json:"DataResources"`
	ExcludeManagementEventSources []string          `json:"ExcludeManagementEventSources"`
}

type cliDataResource struct {
	Type   string   `json:"Type,omitempty"`
	Values []string `json:"Values,omitempty"`
}

type cliAdvancedEventSelector struct {
	Name           string             `json:"Name,omitempty"`
	FieldSelectors []cliFieldSelector `json:"FieldSelectors" cli:"required"`
}

type cliFieldSelector struct {
	Field         string   `json:"Field" cli:"required"`
	Equals        []string `json:"Equals,omitempty"`
	StartsWith    []string `json:"StartsWith,omitempty"`
	EndsWith      []string `json:"EndsWith,omitempty"`
	NotEquals     []string `json:"NotEquals,omitempty"`
	NotStartsWith []string `json:"NotStartsWith,omitempty"`
	NotEndsWith   []string `json:"NotEndsWith,omitempty"`
}

// errorsFile is errors.json (see the package documentation).
type errorsFile struct {
	DescribeTrails string                `json:"describe-trails,omitempty"`
	Regions        string                `json:"regions,omitempty"`
	Trails         map[string]trailError `json:"trails,omitempty"`
}

type trailError struct {
	GetTrailStatus    string `json:"get-trail-status,omitempty"`
	GetEventSelectors string `json:"get-event-selectors,omitempty"`
}

func (e errorsFile) empty() bool {
	return e.DescribeTrails == "" && e.Regions == "" && len(e.Trails) == 0
}

// Defaults the CloudTrail API documents for a basic event selector whose
// members are absent. The reader never applies them to a file (both members
// are required there); they only fill a value built without them.
const (
	defaultReadWriteType           = "All"
	defaultIncludeManagementEvents = true
)

// Conversions between CLI shapes and domain types, field for field. Empty
// lists become nil in the domain, so that a file and its rewrite read the
// same.

func trailFromCLI(c cliTrail) trailguard.Trail {
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

func trailToCLI(t trailguard.Trail) cliTrail {
	return cliTrail{
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

func statusFromCLI(c getTrailStatus) *trailguard.TrailStatus {
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

func statusToCLI(s *trailguard.TrailStatus) getTrailStatus {
	logging := s.IsLogging
	return getTrailStatus{
		IsLogging:                          &logging,
		LatestDeliveryError:                s.LatestDeliveryError,
		LatestNotificationError:            s.LatestNotificationError,
		LatestDeliveryTime:                 toCLITime(s.LatestDeliveryTime),
		LatestNotificationTime:             toCLITime(s.LatestNotificationTime),
		StartLoggingTime:                   toCLITime(s.StartLoggingTime),
		StopLoggingTime:                    toCLITime(s.StopLoggingTime),
		LatestCloudWatchLogsDeliveryError:  s.LatestCloudWatchLogsDeliveryError,
		LatestCloudWatchLogsDeliveryTime:   toCLITime(s.LatestCloudWatchLogsDeliveryTime),
		LatestDigestDeliveryTime:           toCLITime(s.LatestDigestDeliveryTime),
		LatestDigestDeliveryError:          s.LatestDigestDeliveryError,
		LatestDeliveryAttemptTime:          s.LatestDeliveryAttemptTime,
		LatestNotificationAttemptTime:      s.LatestNotificationAttemptTime,
		LatestNotificationAttemptSucceeded: s.LatestNotificationAttemptSucceeded,
		LatestDeliveryAttemptSucceeded:     s.LatestDeliveryAttemptSucceeded,
		TimeLoggingStarted:                 s.TimeLoggingStarted,
		TimeLoggingStopped:                 s.TimeLoggingStopped,
	}
}

func selectorsFromCLI(c getEventSelectors) *trailguard.EventSelectors {
	out := &trailguard.EventSelectors{}
	if c.EventSelectors != nil {
		for _, s := range *c.EventSelectors {
			sel := trailguard.EventSelector{
				ReadWriteType:                 defaultReadWriteType,
				IncludeManagementEvents:       defaultIncludeManagementEvents,
				ExcludeManagementEventSources: nonEmpty(s.ExcludeManagementEventSources),
			}
			if s.ReadWriteType != nil {
				sel.ReadWriteType = *s.ReadWriteType
			}
			if s.IncludeManagementEvents != nil {
				sel.IncludeManagementEvents = *s.IncludeManagementEvents
			}
			for _, d := range s.DataResources {
				sel.DataResources = append(sel.DataResources, trailguard.DataResource{Type: d.Type, Values: nonEmpty(d.Values)})
			}
			out.Basic = append(out.Basic, sel)
		}
	}
	if c.AdvancedEventSelectors != nil {
		for _, a := range *c.AdvancedEventSelectors {
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
			out.Advanced = append(out.Advanced, sel)
		}
	}
	return out
}

func selectorsToCLI(arn string, s *trailguard.EventSelectors) getEventSelectors {
	out := getEventSelectors{TrailARN: arn}
	// A trail has basic selectors unless it has advanced ones, as in the
	// API's answer.
	if len(s.Basic) > 0 || len(s.Advanced) == 0 {
		basic := make([]cliEventSelector, 0, len(s.Basic))
		for _, b := range s.Basic {
			rw, mgmt := b.ReadWriteType, b.IncludeManagementEvents
			sel := cliEventSelector{
				ReadWriteType:                 &rw,
				IncludeManagementEvents:       &mgmt,
				DataResources:                 []cliDataResource{},
				ExcludeManagementEventSources: orEmpty(b.ExcludeManagementEventSources),
			}
			for _, d := range b.DataResources {
				sel.DataResources = append(sel.DataResources, cliDataResource{Type: d.Type, Values: d.Values})
			}
			basic = append(basic, sel)
		}
		out.EventSelectors = &basic
	}
	if len(s.Advanced) > 0 {
		adv := make([]cliAdvancedEventSelector, 0, len(s.Advanced))
		for _, a := range s.Advanced {
			sel := cliAdvancedEventSelector{Name: a.Name, FieldSelectors: []cliFieldSelector{}}
			for _, f := range a.FieldSelectors {
				sel.FieldSelectors = append(sel.FieldSelectors, cliFieldSelector{
					Field:         f.Field,
					Equals:        f.Equals,
					StartsWith:    f.StartsWith,
					EndsWith:      f.EndsWith,
					NotEquals:     f.NotEquals,
					NotStartsWith: f.NotStartsWith,
					NotEndsWith:   f.NotEndsWith,
				})
			}
			adv = append(adv, sel)
		}
		out.AdvancedEventSelectors = &adv
	}
	return out
}

func nonEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
