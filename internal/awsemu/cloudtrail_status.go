package awsemu

import (
	"fmt"
	"net/http"
	"time"
)

// isoTime is the string form GetTrailStatus uses for its *Attempt* and
// TimeLogging* members ("2016-01-28T23:02:24Z"); "" when it never happened.
func isoTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

type trailStatusOut struct {
	IsLogging                          bool     `json:"IsLogging"`
	LatestDeliveryError                string   `json:"LatestDeliveryError,omitempty"`
	LatestNotificationError            string   `json:"LatestNotificationError,omitempty"`
	LatestDeliveryTime                 *float64 `json:"LatestDeliveryTime,omitempty"`
	LatestNotificationTime             *float64 `json:"LatestNotificationTime,omitempty"`
	StartLoggingTime                   *float64 `json:"StartLoggingTime,omitempty"`
	StopLoggingTime                    *float64 `json:"StopLoggingTime,omitempty"`
	LatestCloudWatchLogsDeliveryError  string   `json:"LatestCloudWatchLogsDeliveryError,omitempty"`
	LatestCloudWatchLogsDeliveryTime   *float64 `json:"LatestCloudWatchLogsDeliveryTime,omitempty"`
	LatestDigestDeliveryTime           *float64 `json:"LatestDigestDeliveryTime,omitempty"`
	LatestDigestDeliveryError          string   `json:"LatestDigestDeliveryError,omitempty"`
	LatestDeliveryAttemptTime          string   `json:"LatestDeliveryAttemptTime"`
	LatestNotificationAttemptTime      string   `json:"LatestNotificationAttemptTime"`
	LatestNotificationAttemptSucceeded string   `json:"LatestNotificationAttemptSucceeded"`
	LatestDeliveryAttemptSucceeded     string   `json:"LatestDeliveryAttemptSucceeded"`
	TimeLoggingStarted                 string   `json:"TimeLoggingStarted"`
	TimeLoggingStopped                 string   `json:"TimeLoggingStopped"`
}

// deliveryError is the error CloudTrail would meet delivering t's logs
// now: the one set by SetDeliveryError, else NoSuchBucket if the bucket
// checked at creation has since been deleted. Called with e.mu held.
func (e *Emulator) deliveryError(t *trail) string {
	if t.deliveryError != "" {
		return t.deliveryError
	}
	if t.bucketChecked && !e.bucketExists(t.bucket) {
		return "NoSuchBucket"
	}
	return ""
}

// getTrailStatus reports a trail's logging and delivery state. A logging
// trail is taken to have just attempted a delivery, which succeeded unless
// a delivery error is set; a stopped trail's delivery times stay where
// they were.
//
// Asked by ARN from a region other than the trail's home (a shadow trail),
// it answers with the trail's one status: the reference says "To get the
// status of a shadow trail … you must specify its ARN", so the ARN works
// there; the status is the trail's, not per region. Member accounts may
// read their organization's trail by ARN unless SetMemberOrgTrailAccess
// denies it.
func (e *Emulator) getTrailStatus(c *call, body []byte) (any, *apiError) {
	return e.withTrail(c, body, &nameIn{}, read, func(t *trail) (any, *apiError) {
		if err := e.checkMemberRead(c, t); err != nil {
			return nil, err
		}
		now := e.now()
		delivErr := e.deliveryError(t)
		ds := t.delivery
		if t.logging {
			t.lastAttempt = now
			if delivErr == "" && !ds.stopped() {
				t.lastSuccess = now
			}
			if ds != nil {
				ds.advance(t, now)
			}
		}
		out := trailStatusOut{
			IsLogging:                      t.logging,
			LatestDeliveryError:            delivErr,
			LatestDeliveryTime:             epoch(t.lastSuccess),
			StartLoggingTime:               epoch(t.startLogging),
			StopLoggingTime:                epoch(t.stopLogging),
			LatestDeliveryAttemptTime:      isoTime(t.lastAttempt),
			LatestDeliveryAttemptSucceeded: isoTime(t.lastSuccess),
			TimeLoggingStarted:             isoTime(t.startLogging),
			TimeLoggingStopped:             isoTime(t.stopLogging),
		}
		if !t.logging && t.lastAttempt.IsZero() {
			out.LatestDeliveryError = "" // no delivery was ever attempted
		}
		if t.validation {
			out.LatestDigestDeliveryTime = epoch(t.lastSuccess)
			// Once DeliverLogs has written digests, the time is theirs.
			if d := e.lastDigestDelivery(t); !d.IsZero() {
				out.LatestDigestDeliveryTime = epoch(d)
			}
		}
		if t.cwLogGroup != "" {
			out.LatestCloudWatchLogsDeliveryTime = epoch(t.lastSuccess)
		}
		if ds != nil {
			if t.validation {
				out.LatestDigestDeliveryTime = epoch(ds.lastDigest)
				out.LatestDigestDeliveryError = ds.DigestDeliveryError
			}
			if t.cwLogGroup != "" {
				out.LatestCloudWatchLogsDeliveryTime = epoch(ds.lastCloudWatch)
				out.LatestCloudWatchLogsDeliveryError = ds.CloudWatchLogsDeliveryError
			}
		}
		return out, nil
	})
}

// checkMemberRead applies SetMemberOrgTrailAccess to a member account
// reading its organization's trail. Called with e.mu held.
func (e *Emulator) checkMemberRead(c *call, t *trail) *apiError {
	if t.account == c.account() || !e.memberOrgTrailDenied {
		return nil
	}
	return errorf(http.StatusBadRequest, "AccessDeniedException", "User: %s is not authorized to perform: cloudtrail:%s on resource: %s", c.cred.arn, c.op, t.arn)
}

func (e *Emulator) setLogging(c *call, body []byte, on bool) (any, *apiError) {
	return e.withTrail(c, body, &nameIn{}, mutate, func(t *trail) (any, *apiError) {
		if t.logging != on {
			t.logging = on
			if on {
				t.startLogging = e.now()
			} else {
				t.stopLogging = e.now()
			}
		}
		return struct{}{}, nil
	})
}

func (e *Emulator) startLogging(c *call, body []byte) (any, *apiError) {
	return e.setLogging(c, body, true)
}

func (e *Emulator) stopLogging(c *call, body []byte) (any, *apiError) {
	return e.setLogging(c, body, false)
}

// DeliveryState is what GetTrailStatus reports about a trail's deliveries
// beyond LatestDeliveryError, to reach the states delivery health tells
// apart: digest files or CloudWatch Logs failing, deliveries that stopped
// some time ago, a trail that never delivered.
type DeliveryState struct {
	// DeliveryError is LatestDeliveryError ("AccessDenied", "NoSuchBucket",
	// "KMS.AccessDeniedException"); "" for none.
	DeliveryError string
	// DigestDeliveryError is LatestDigestDeliveryError; CloudTrail writes
	// digest files only with log file validation on, so the trail must
	// have it.
	DigestDeliveryError string
	// CloudWatchLogsDeliveryError is LatestCloudWatchLogsDeliveryError; the
	// trail must send to a CloudWatch Logs log group.
	CloudWatchLogsDeliveryError string
	// LastDelivery, when set, is when the last log file arrived: deliveries
	// stopped then, and LatestDeliveryTime stays there.
	LastDelivery time.Time
	// NeverDelivered: no log file ever arrived, so GetTrailStatus has no
	// LatestDeliveryTime.
	NeverDelivered bool
	// LoggingSince, when set, is StartLoggingTime (and TimeLoggingStarted).
	LoggingSince time.Time
}

// deliveryState is a DeliveryState with the digest and CloudWatch Logs
// delivery times it moves on.
type deliveryState struct {
	DeliveryState
	lastDigest, lastCloudWatch time.Time
}

// stopped reports whether log file deliveries are pinned as stopped.
func (d *deliveryState) stopped() bool {
	return d != nil && (!d.LastDelivery.IsZero() || d.NeverDelivered)
}

// advance moves the digest and CloudWatch Logs delivery times on at a
// status read of a logging trail, as lastSuccess is: a channel delivers
// unless it has an error or deliveries stopped. Called with e.mu held.
func (d *deliveryState) advance(t *trail, now time.Time) {
	if d.stopped() {
		return
	}
	if d.DigestDeliveryError == "" {
		d.lastDigest = now
	}
	if d.CloudWatchLogsDeliveryError == "" {
		d.lastCloudWatch = now
	}
}

// SetDeliveryState pins what GetTrailStatus reports about the deliveries
// of the trail with this ARN. It refuses a state AWS could not report:
// a digest error without log file validation, a CloudWatch Logs error
// without a log group, a last delivery in the future, or both a last
// delivery and none.
func (e *Emulator) SetDeliveryState(trailARN string, s DeliveryState) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	t := e.trails[trailARN]
	if t == nil {
		return fmt.Errorf("no trail %s", trailARN)
	}
	return e.setDeliveryState(t, s)
}

// setDeliveryState applies s to t. Called with e.mu held.
func (e *Emulator) setDeliveryState(t *trail, s DeliveryState) error {
	now := e.now()
	switch {
	case s.DigestDeliveryError != "" && !t.validation:
		return fmt.Errorf("trail %s: a digest delivery error needs log file validation on", t.arn)
	case s.CloudWatchLogsDeliveryError != "" && t.cwLogGroup == "":
		return fmt.Errorf("trail %s: a CloudWatch Logs delivery error needs a CloudWatch Logs log group", t.arn)
	case s.NeverDelivered && !s.LastDelivery.IsZero():
		return fmt.Errorf("trail %s: a last delivery and never delivered contradict each other", t.arn)
	case s.LastDelivery.After(now) || s.LoggingSince.After(now):
		return fmt.Errorf("trail %s: delivery and logging times must not be in the future", t.arn)
	}
	d := &deliveryState{DeliveryState: s}
	t.deliveryError = s.DeliveryError
	if !s.LoggingSince.IsZero() {
		t.startLogging = s.LoggingSince
	}
	switch {
	case s.NeverDelivered:
		t.lastSuccess = time.Time{}
	case !s.LastDelivery.IsZero():
		t.lastSuccess = s.LastDelivery
		d.lastDigest, d.lastCloudWatch = s.LastDelivery, s.LastDelivery
	default:
		d.lastDigest, d.lastCloudWatch = t.lastSuccess, t.lastSuccess
	}
	if s.DigestDeliveryError != "" {
		d.lastDigest = time.Time{}
	}
	if s.CloudWatchLogsDeliveryError != "" {
		d.lastCloudWatch = time.Time{}
	}
	if s.DeliveryError != "" || s.DigestDeliveryError != "" || s.CloudWatchLogsDeliveryError != "" {
		t.lastAttempt = now // the failed attempt the error comes from
	}
	t.delivery = d
	return nil
}
