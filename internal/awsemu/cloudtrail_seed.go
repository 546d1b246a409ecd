package awsemu

import (
	"fmt"
)

// TrailSpec describes a trail to seed directly with PutTrail, bypassing
// the API's checks on the bucket and the organization, to reach states the
// API makes hard to reach (a trail logging to a bucket that was never
// created, an organization trail before the organization exists).
type TrailSpec struct {
	Name, HomeRegion, S3BucketName string
	IsMultiRegion                  bool
	IsOrganizationTrail            bool
	IncludeGlobalServiceEvents     bool
	LogFileValidation              bool
	Logging                        bool
	KMSKeyID                       string
	// EventSelectorsJSON is the selector part of a PutEventSelectors body,
	// as on the wire: {"EventSelectors":[...]} or
	// {"AdvancedEventSelectors":[...]}. "" leaves the AWS default (all
	// management events, HasCustomEventSelectors false).
	EventSelectorsJSON  string
	LatestDeliveryError string
	// Delivery, when set, pins the trail's delivery state (see
	// SetDeliveryState); its DeliveryError then stands for
	// LatestDeliveryError.
	Delivery *DeliveryState
	// CloudWatchLogsLogGroupARN and CloudWatchLogsRoleARN send the trail's
	// events to CloudWatch Logs.
	CloudWatchLogsLogGroupARN, CloudWatchLogsRoleARN string
}

// PutTrail creates a trail in account (creating the account) and returns
// its ARN. HomeRegion defaults to us-east-1. The trail name and the event
// selectors are validated as the API would; the S3 bucket, the
// organization and the multi-region/global-events combination are not.
func (e *Emulator) PutTrail(account string, s TrailSpec) (string, error) {
	home := s.HomeRegion
	if home == "" {
		home = "us-east-1"
	}
	if !validTrailName(s.Name) {
		return "", invalidName(s.Name)
	}
	t := &trail{
		account: account, name: s.Name, home: home, arn: trailARN(account, home, s.Name),
		bucket: s.S3BucketName, multiRegion: s.IsMultiRegion, org: s.IsOrganizationTrail,
		globalEvents: s.IncludeGlobalServiceEvents, validation: s.LogFileValidation,
		kmsKey: kmsKeyARN(s.KMSKeyID, home, account), deliveryError: s.LatestDeliveryError,
		cwLogGroup: s.CloudWatchLogsLogGroupARN, cwRole: s.CloudWatchLogsRoleARN,
	}
	if s.EventSelectorsJSON != "" {
		var in selectorsIn
		if err := decodeJSON([]byte(s.EventSelectorsJSON), &in); err != nil {
			return "", fmt.Errorf("event selectors of trail %s: %w", s.Name, err)
		}
		basic, adv, err := validateSelectors(in)
		if err != nil {
			return "", fmt.Errorf("event selectors of trail %s: %w", s.Name, err)
		}
		t.basic, t.advanced, t.custom = basic, adv, true
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.ensureAccount(account)
	if err := e.checkNewTrail(t); err != nil {
		return "", err
	}
	if org := e.orgs[account]; org != nil && t.org {
		// An organization trail exists only once CloudTrail has trusted
		// access to the organization.
		org.enableService(cloudTrailSP, e.now())
	}
	if s.Logging {
		t.logging = true
		t.startLogging = e.now()
	}
	if s.LatestDeliveryError != "" {
		t.lastAttempt = e.now() // the failed attempt the error comes from
	}
	if s.Delivery != nil {
		if err := e.setDeliveryState(t, *s.Delivery); err != nil {
			return "", err
		}
	}
	e.trails[t.arn] = t
	return t.arn, nil
}

// SetDeliveryError sets the LatestDeliveryError GetTrailStatus reports for
// a trail (e.g. "AccessDenied" when the bucket policy does not let
// CloudTrail write); "" clears it. Unknown ARNs are ignored.
func (e *Emulator) SetDeliveryError(trailARN, msg string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if t := e.trails[trailARN]; t != nil {
		t.deliveryError = msg
		if msg != "" && t.lastAttempt.IsZero() {
			t.lastAttempt = e.now()
		}
	}
}
