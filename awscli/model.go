package awscli

// The types below are the JSON the AWS CLI prints, member for member and in
// the order of the service models (the order the CLI prints them in), so
// that what Marshal prints is what an auditor's own `aws` command would
// have printed. Keys are matched exactly as the CLI prints them, never
// twice (see Decode). A member tagged `cli:"required"` is one the CLI
// always prints (the service returns it in every answer) and on which the
// verdict depends: a document where it is missing or null is not that
// command's output, and the fact it holds is not readable — never a
// default.

// CallerIdentity is `aws sts get-caller-identity`.
type CallerIdentity struct {
	UserID  string `json:"UserId,omitempty"`
	Account string `json:"Account,omitempty"`
	Arn     string `json:"Arn,omitempty"`
}

// DescribeAccount is `aws organizations describe-account`; only the
// members trailguard keeps are modelled.
type DescribeAccount struct {
	Account *OrganizationAccount `json:"Account"`
}

// OrganizationAccount is the Account of DescribeAccount.
type OrganizationAccount struct {
	ID   string `json:"Id,omitempty"`
	Arn  string `json:"Arn,omitempty"`
	Name string `json:"Name,omitempty"`
}

// DescribeRegions is `aws ec2 describe-regions`.
type DescribeRegions struct {
	Regions *[]Region `json:"Regions" cli:"required"`
}

// Region is one region of DescribeRegions.
type Region struct {
	Endpoint    string `json:"Endpoint,omitempty"`
	RegionName  string `json:"RegionName" cli:"required"`
	OptInStatus string `json:"OptInStatus,omitempty"`
}

// DescribeTrails is `aws cloudtrail describe-trails`. A trail's members
// that are absent (hand-written evidence) take the value that cannot make
// it count — not multi-region, not an organization trail — and
// IncludeGlobalServiceEvents its API default, true: only a configuration
// AWS rejects (a multi-region trail without them) depends on it, and an
// absent member must not invent one.
type DescribeTrails struct {
	TrailList *[]Trail `json:"trailList" cli:"required"`
}

// Trail is one trail of DescribeTrails.
type Trail struct {
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

// GetTrailStatus is `aws cloudtrail get-trail-status`.
type GetTrailStatus struct {
	IsLogging                          *bool  `json:"IsLogging" cli:"required"`
	LatestDeliveryError                string `json:"LatestDeliveryError,omitempty"`
	LatestNotificationError            string `json:"LatestNotificationError,omitempty"`
	LatestDeliveryTime                 *Time  `json:"LatestDeliveryTime,omitempty"`
	LatestNotificationTime             *Time  `json:"LatestNotificationTime,omitempty"`
	StartLoggingTime                   *Time  `json:"StartLoggingTime,omitempty"`
	StopLoggingTime                    *Time  `json:"StopLoggingTime,omitempty"`
	LatestCloudWatchLogsDeliveryError  string `json:"LatestCloudWatchLogsDeliveryError,omitempty"`
	LatestCloudWatchLogsDeliveryTime   *Time  `json:"LatestCloudWatchLogsDeliveryTime,omitempty"`
	LatestDigestDeliveryTime           *Time  `json:"LatestDigestDeliveryTime,omitempty"`
	LatestDigestDeliveryError          string `json:"LatestDigestDeliveryError,omitempty"`
	LatestDeliveryAttemptTime          string `json:"LatestDeliveryAttemptTime,omitempty"`
	LatestNotificationAttemptTime      string `json:"LatestNotificationAttemptTime,omitempty"`
	LatestNotificationAttemptSucceeded string `json:"LatestNotificationAttemptSucceeded,omitempty"`
	LatestDeliveryAttemptSucceeded     string `json:"LatestDeliveryAttemptSucceeded,omitempty"`
	TimeLoggingStarted                 string `json:"TimeLoggingStarted,omitempty"`
	TimeLoggingStopped                 string `json:"TimeLoggingStopped,omitempty"`
}

// GetEventSelectors is `aws cloudtrail get-event-selectors`. AWS returns
// one of the two lists, never both.
type GetEventSelectors struct {
	TrailARN               string                   `json:"TrailARN,omitempty"`
	EventSelectors         *[]EventSelector         `json:"EventSelectors,omitempty"`
	AdvancedEventSelectors *[]AdvancedEventSelector `json:"AdvancedEventSelectors,omitempty"`
}

// PutEventSelectors is the input of `aws cloudtrail put-event-selectors`:
// the same selector shapes as GetEventSelectors prints, one of the two
// lists (see Arg).
type PutEventSelectors struct {
	TrailName              string                  `json:"TrailName"`
	EventSelectors         []EventSelector         `json:"EventSelectors,omitempty"`
	AdvancedEventSelectors []AdvancedEventSelector `json:"AdvancedEventSelectors,omitempty"`
}

// EventSelector is a basic event selector. The two lists are pointers
// because the CLI tells absent from empty: get-event-selectors prints both
// as [] when empty, put-event-selectors takes them only when set (the CLI
// refuses null for a list).
type EventSelector struct {
	ReadWriteType                 *string         `json:"ReadWriteType" cli:"required"`
	IncludeManagementEvents       *bool           `json:"IncludeManagementEvents" cli:"required"`
	DataResources                 *[]DataResource `json:"DataResources,omitempty"`
	ExcludeManagementEventSources *[]string       `json:"ExcludeManagementEventSources,omitempty"`
}

// DataResource selects data events of one resource type.
type DataResource struct {
	Type   string   `json:"Type,omitempty"`
	Values []string `json:"Values,omitempty"`
}

// AdvancedEventSelector is one advanced event selector.
type AdvancedEventSelector struct {
	Name           string                  `json:"Name,omitempty"`
	FieldSelectors []AdvancedFieldSelector `json:"FieldSelectors" cli:"required"`
}

// AdvancedFieldSelector is one condition of an advanced event selector.
type AdvancedFieldSelector struct {
	Field         string   `json:"Field" cli:"required"`
	Equals        []string `json:"Equals,omitempty"`
	StartsWith    []string `json:"StartsWith,omitempty"`
	EndsWith      []string `json:"EndsWith,omitempty"`
	NotEquals     []string `json:"NotEquals,omitempty"`
	NotStartsWith []string `json:"NotStartsWith,omitempty"`
	NotEndsWith   []string `json:"NotEndsWith,omitempty"`
}

// LookupEvents is `aws cloudtrail lookup-events`, as the CLI prints it
// after following every NextToken itself (its default). A NextToken in
// the output means the CLI was told to stop early (--no-paginate,
// --max-items): the events are then one part of the history only.
type LookupEvents struct {
	Events    *[]LookupEvent `json:"Events" cli:"required"`
	NextToken string         `json:"NextToken,omitempty"`
}

// LookupEvent is one event of LookupEvents. CloudTrailEvent is the whole
// CloudTrail record as a JSON string (history.ParseRecord reads it): the
// other members repeat parts of it, and a history depends on the record.
type LookupEvent struct {
	EventID         string           `json:"EventId,omitempty"`
	EventName       string           `json:"EventName,omitempty"`
	ReadOnly        string           `json:"ReadOnly,omitempty"`
	AccessKeyID     string           `json:"AccessKeyId,omitempty"`
	EventTime       *Time            `json:"EventTime,omitempty"`
	EventSource     string           `json:"EventSource,omitempty"`
	Username        string           `json:"Username,omitempty"`
	Resources       []LookupResource `json:"Resources,omitempty"`
	CloudTrailEvent *string          `json:"CloudTrailEvent" cli:"required"`
}

// LookupResource is one resource of a LookupEvent.
type LookupResource struct {
	ResourceType string `json:"ResourceType,omitempty"`
	ResourceName string `json:"ResourceName,omitempty"`
}
