package trailguard

import (
	"strings"
	"time"
)

// Trail is one CloudTrail trail as DescribeTrails shows it, plus the facts
// that only GetTrailStatus and GetEventSelectors can give. A trail is
// identified by its ARN: a multi-region trail listed in every region (shadow
// trails) is still one Trail.
type Trail struct {
	Name                       string `json:"name"`
	ARN                        string `json:"arn"`
	HomeRegion                 string `json:"home_region"`
	IsMultiRegion              bool   `json:"is_multi_region"`
	IsOrganizationTrail        bool   `json:"is_organization_trail"`
	IncludeGlobalServiceEvents bool   `json:"include_global_service_events"`
	LogFileValidationEnabled   bool   `json:"log_file_validation_enabled"`
	HasCustomEventSelectors    bool   `json:"has_custom_event_selectors"`
	HasInsightSelectors        bool   `json:"has_insight_selectors"`
	S3BucketName               string `json:"s3_bucket_name,omitempty"`
	S3KeyPrefix                string `json:"s3_key_prefix,omitempty"`
	SnsTopicName               string `json:"sns_topic_name,omitempty"`
	SnsTopicARN                string `json:"sns_topic_arn,omitempty"`
	CloudWatchLogsLogGroupARN  string `json:"cloudwatch_logs_log_group_arn,omitempty"`
	CloudWatchLogsRoleARN      string `json:"cloudwatch_logs_role_arn,omitempty"`
	KMSKeyID                   string `json:"kms_key_id,omitempty"`

	// Status is nil when GetTrailStatus was not read; StatusError says why.
	Status      *TrailStatus `json:"status,omitempty"`
	StatusError string       `json:"status_error,omitempty"`
	// Selectors is nil when GetEventSelectors was not read; SelectorsError
	// says why.
	Selectors      *EventSelectors `json:"event_selectors,omitempty"`
	SelectorsError string          `json:"event_selectors_error,omitempty"`
	// StatusSource and SelectorsSource say where the facts were read (an
	// evidence file, or the API call and the account that made it), so
	// that a disagreement can name both sides. Empty when not known.
	// Not part of the JSON form: the reasons that need them carry them.
	StatusSource    string `json:"-"`
	SelectorsSource string `json:"-"`
	// StatusLost and SelectorsLost are set when the fact is missing
	// because its evidence is lost — a file that is not there with no
	// refusal recorded, damaged, or left from another collection — rather
	// than because the read was refused. Such a fact is never filled from
	// another source (see ShareTrailFacts).
	StatusLost    bool `json:"-"`
	SelectorsLost bool `json:"-"`
	// Conflict is set when two sources disagree about this trail's facts
	// (see ShareTrailFacts); it names both. Such a trail never counts: the
	// truth cannot be told from the data.
	Conflict string `json:"conflict,omitempty"`
}

// OwnerAccount is the account id in the trail's ARN
// (arn:aws:cloudtrail:region:account:trail/name), or "" when the ARN has none.
func (t Trail) OwnerAccount() string {
	return ARNAccount(t.ARN)
}

// Partition is the ARN partition of a region name ("aws" for the
// commercial regions and for a name it does not recognise): what a trail
// name given without its ARN resolves against.
func Partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	case strings.HasPrefix(region, "us-isob-"):
		return "aws-iso-b"
	case strings.HasPrefix(region, "us-isof-"):
		return "aws-iso-f"
	case strings.HasPrefix(region, "us-iso-"):
		return "aws-iso"
	case strings.HasPrefix(region, "eu-isoe-"):
		return "aws-iso-e"
	case strings.HasPrefix(region, "eusc-"):
		return "aws-eusc"
	}
	return "aws"
}

// ARNAccount returns the account field of an ARN, or "" if it is not one.
func ARNAccount(arn string) string {
	// arn:partition:service:region:account:resource
	field, start := 0, 0
	for i := 0; i < len(arn); i++ {
		if arn[i] != ':' {
			continue
		}
		if field == 4 {
			return arn[start:i]
		}
		field++
		start = i + 1
	}
	return ""
}

// ARNRegion returns the region field of an ARN, or "" if it is not one.
func ARNRegion(arn string) string {
	field, start := 0, 0
	for i := 0; i < len(arn); i++ {
		if arn[i] != ':' {
			continue
		}
		if field == 3 {
			return arn[start:i]
		}
		field++
		start = i + 1
	}
	return ""
}

// TrailStatus is what GetTrailStatus returns, asked of the trail's home
// region.
type TrailStatus struct {
	IsLogging                          bool       `json:"is_logging"`
	LatestDeliveryError                string     `json:"latest_delivery_error,omitempty"`
	LatestNotificationError            string     `json:"latest_notification_error,omitempty"`
	LatestDeliveryTime                 *time.Time `json:"latest_delivery_time,omitempty"`
	LatestNotificationTime             *time.Time `json:"latest_notification_time,omitempty"`
	StartLoggingTime                   *time.Time `json:"start_logging_time,omitempty"`
	StopLoggingTime                    *time.Time `json:"stop_logging_time,omitempty"`
	LatestCloudWatchLogsDeliveryError  string     `json:"latest_cloudwatch_logs_delivery_error,omitempty"`
	LatestCloudWatchLogsDeliveryTime   *time.Time `json:"latest_cloudwatch_logs_delivery_time,omitempty"`
	LatestDigestDeliveryTime           *time.Time `json:"latest_digest_delivery_time,omitempty"`
	LatestDigestDeliveryError          string     `json:"latest_digest_delivery_error,omitempty"`
	LatestDeliveryAttemptTime          string     `json:"latest_delivery_attempt_time,omitempty"`
	LatestNotificationAttemptTime      string     `json:"latest_notification_attempt_time,omitempty"`
	LatestNotificationAttemptSucceeded string     `json:"latest_notification_attempt_succeeded,omitempty"`
	LatestDeliveryAttemptSucceeded     string     `json:"latest_delivery_attempt_succeeded,omitempty"`
	TimeLoggingStarted                 string     `json:"time_logging_started,omitempty"`
	TimeLoggingStopped                 string     `json:"time_logging_stopped,omitempty"`
}

// EventSelectors is what GetEventSelectors returns. AWS keeps basic and
// advanced selectors mutually exclusive: at most one of the two lists is
// set.
type EventSelectors struct {
	Basic    []EventSelector         `json:"event_selectors,omitempty"`
	Advanced []AdvancedEventSelector `json:"advanced_event_selectors,omitempty"`
}

// EventSelector is a basic event selector.
type EventSelector struct {
	// ReadWriteType is "ReadOnly", "WriteOnly" or "All".
	ReadWriteType                 string         `json:"read_write_type"`
	IncludeManagementEvents       bool           `json:"include_management_events"`
	ExcludeManagementEventSources []string       `json:"exclude_management_event_sources,omitempty"`
	DataResources                 []DataResource `json:"data_resources,omitempty"`
}

// DataResource selects data events of one resource type.
type DataResource struct {
	Type   string   `json:"type"`
	Values []string `json:"values,omitempty"`
}

// AdvancedEventSelector is one advanced event selector: every field
// selector must match for an event to be recorded.
type AdvancedEventSelector struct {
	Name           string          `json:"name,omitempty"`
	FieldSelectors []FieldSelector `json:"field_selectors"`
}

// FieldSelector is one condition of an advanced event selector.
type FieldSelector struct {
	Field         string   `json:"field"`
	Equals        []string `json:"equals,omitempty"`
	StartsWith    []string `json:"starts_with,omitempty"`
	EndsWith      []string `json:"ends_with,omitempty"`
	NotEquals     []string `json:"not_equals,omitempty"`
	NotStartsWith []string `json:"not_starts_with,omitempty"`
	NotEndsWith   []string `json:"not_ends_with,omitempty"`
}
