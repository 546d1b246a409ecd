// Package history reconstructs when an account's CIS AWS Foundations 3.1
// coverage was broken, and by whom, from CloudTrail event history
// (LookupEvents): the calls that can change coverage, replayed backwards
// from the state read now.
package history

import "time"

// CoverageEvents are the event names that can change CIS 3.1 coverage:
// the only ones history asks LookupEvents for (one EventName lookup
// attribute per call).
var CoverageEvents = []string{"CreateTrail", "DeleteTrail", "UpdateTrail", "StartLogging", "StopLogging", "PutEventSelectors"}

// Event is one CloudTrail management event that can change coverage, as
// LookupEvents (or a saved lookup-events file) gave it, with the trail
// named in its request normalised to the trail's ARN.
type Event struct {
	// ID is the CloudTrail event id; events read twice (from two regions,
	// or from a page and a retry) are one event.
	ID   string    `json:"id"`
	Time time.Time `json:"time"`
	// Name is the event name (StopLogging, ...).
	Name string `json:"event"`
	// Account is the account the event happened in (recipientAccountId),
	// Region the region it was recorded in (awsRegion).
	Account string `json:"account"`
	Region  string `json:"region"`
	// TrailARN is the trail the call named (requestParameters.name or
	// trailName), as an ARN: a bare name is resolved against the
	// event's account and region. Empty when the event names no trail
	// that can be resolved; TrailName keeps what the request said.
	TrailARN  string `json:"trail,omitempty"`
	TrailName string `json:"trail_name,omitempty"`
	// Actor is userIdentity.arn (userIdentity.invokedBy for a call an
	// AWS service made, which has no ARN); ActorType userIdentity.type;
	// Session the assumed-role session name when there is one, and
	// SessionIssuer the role it was assumed from
	// (sessionContext.sessionIssuer.arn).
	Actor         string `json:"actor,omitempty"`
	ActorType     string `json:"actor_type,omitempty"`
	Session       string `json:"session,omitempty"`
	SessionIssuer string `json:"session_issuer,omitempty"`
	SourceIP      string `json:"source_ip,omitempty"`
	UserAgent     string `json:"user_agent,omitempty"`
	// ErrorCode and ErrorMessage are set when the call failed (a denied
	// StopLogging is a signal too); a failed call changes nothing.
	ErrorCode    string `json:"error_code,omitempty"`
	ErrorMessage string `json:"-"`
	// RequestParameters and ResponseElements are the event's JSON
	// objects as recorded (nil when the event had none); replay reads
	// the settings a call made from them (isMultiRegionTrail,
	// eventSelectors, advancedEventSelectors, isOrganizationTrail, ...).
	RequestParameters map[string]any `json:"-"`
	ResponseElements  map[string]any `json:"-"`
}

// Failed reports whether the call was refused or failed.
func (e Event) Failed() bool { return e.ErrorCode != "" }
