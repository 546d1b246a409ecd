package awsemu

import (
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
		if t.logging {
			t.lastAttempt = now
			if delivErr == "" {
				t.lastSuccess = now
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
		}
		if t.cwLogGroup != "" {
			out.LatestCloudWatchLogsDeliveryTime = epoch(t.lastSuccess)
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
