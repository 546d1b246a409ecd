package history

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/trailguard/trailguard"
	"github.com/trailguard/trailguard/awscli"
)

// MaxRecordSize bounds one CloudTrail record. CloudTrail caps an event at
// 256 KB (CloudTrail Lake and EventBridge both refuse larger ones); four
// times that leaves room for escaping while a hostile evidence file or
// answer cannot make one record cost more than a few megabytes to read.
const MaxRecordSize = 1 << 20

// record is the part of a CloudTrail record (CloudTrail record contents,
// https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html)
// that history reads. Keys are CloudTrail's, matched exactly and never
// twice (awscli.Decode); the members tagged required are in every
// management event CloudTrail writes, and without them the event cannot
// be placed in time, in an account, or named.
type record struct {
	EventID            string         `json:"eventID" cli:"required"`
	EventTime          string         `json:"eventTime" cli:"required"`
	EventName          string         `json:"eventName" cli:"required"`
	AWSRegion          string         `json:"awsRegion" cli:"required"`
	RecipientAccountID string         `json:"recipientAccountId" cli:"required"`
	EventSource        string         `json:"eventSource"`
	UserIdentity       *userIdentity  `json:"userIdentity"`
	SourceIPAddress    string         `json:"sourceIPAddress"`
	UserAgent          string         `json:"userAgent"`
	ErrorCode          string         `json:"errorCode"`
	ErrorMessage       string         `json:"errorMessage"`
	RequestParameters  map[string]any `json:"requestParameters"`
	ResponseElements   map[string]any `json:"responseElements"`
}

type userIdentity struct {
	Type           string          `json:"type"`
	ARN            string          `json:"arn"`
	InvokedBy      string          `json:"invokedBy"`
	SessionContext *sessionContext `json:"sessionContext"`
}

type sessionContext struct {
	SessionIssuer *sessionIssuer `json:"sessionIssuer"`
}

type sessionIssuer struct {
	Type string `json:"type"`
	ARN  string `json:"arn"`
}

// accountPattern and regionPattern hold the account and region of a record
// to the shapes AWS gives them: they end up in ARNs and on terminals.
var (
	accountPattern = regexp.MustCompile(`^[0-9]{12}$`)
	regionPattern  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$`)
)

// ParseRecord reads one CloudTrail record — the CloudTrailEvent string of
// a LookupEvents event, or one element of a trail log file's Records — into
// an Event. The record is outside input: it is bounded in size
// (MaxRecordSize) and depth, its keys are matched exactly, and a record
// without its id, time, name, region or account is an error, since an
// event that cannot be placed must not be replayed as if it could.
//
// The trail the call names is requestParameters.name (CreateTrail,
// UpdateTrail, DeleteTrail, StartLogging, StopLogging, and the Get/
// Describe calls) or requestParameters.trailName (PutEventSelectors,
// PutInsightSelectors). A bare name is resolved as CloudTrail resolves it,
// against the region and account the call was made in; an ARN is kept.
// Only a name or ARN that is a valid trail ARN once resolved sets
// TrailARN; TrailName always keeps what the request said.
func ParseRecord(cloudTrailEvent []byte) (Event, error) {
	if len(cloudTrailEvent) > MaxRecordSize {
		return Event{}, fmt.Errorf("CloudTrail record of %d bytes is larger than the %d a record can be: not a CloudTrail event", len(cloudTrailEvent), MaxRecordSize)
	}
	var r record
	if err := awscli.Decode(cloudTrailEvent, &r); err != nil {
		var de *awscli.DecodeError
		if errors.As(err, &de) && de.Offset >= 0 {
			return Event{}, fmt.Errorf("CloudTrail record, at byte %d: %w", de.Offset, err)
		}
		return Event{}, fmt.Errorf("CloudTrail record: %w", err)
	}
	t, err := time.Parse(time.RFC3339, r.EventTime)
	if err != nil {
		return Event{}, fmt.Errorf("CloudTrail record %s: eventTime %q is not an RFC 3339 time as CloudTrail writes it", quoteIfOdd(r.EventID), clip(r.EventTime, 64))
	}
	switch {
	case r.EventID == "":
		return Event{}, errors.New("CloudTrail record: eventID is empty: an event without an id cannot be told from another")
	case r.EventName == "":
		return Event{}, fmt.Errorf("CloudTrail record %s: eventName is empty", quoteIfOdd(r.EventID))
	case !accountPattern.MatchString(r.RecipientAccountID):
		return Event{}, fmt.Errorf("CloudTrail record %s: recipientAccountId %q is not a 12-digit account id", quoteIfOdd(r.EventID), clip(r.RecipientAccountID, 64))
	case !regionPattern.MatchString(r.AWSRegion):
		return Event{}, fmt.Errorf("CloudTrail record %s: awsRegion %q is not a region name", quoteIfOdd(r.EventID), clip(r.AWSRegion, 64))
	}
	ev := Event{
		ID:                r.EventID,
		Time:              t.UTC(),
		Name:              r.EventName,
		Account:           r.RecipientAccountID,
		Region:            r.AWSRegion,
		SourceIP:          r.SourceIPAddress,
		UserAgent:         r.UserAgent,
		ErrorCode:         r.ErrorCode,
		ErrorMessage:      r.ErrorMessage,
		RequestParameters: r.RequestParameters,
		ResponseElements:  r.ResponseElements,
	}
	if id := r.UserIdentity; id != nil {
		ev.Actor, ev.ActorType = id.ARN, id.Type
		if ev.Actor == "" {
			// A call an AWS service made on the account's behalf has no
			// ARN; the service that made it is who.
			ev.Actor = id.InvokedBy
		}
		if sc := id.SessionContext; sc != nil && sc.SessionIssuer != nil {
			ev.SessionIssuer = sc.SessionIssuer.ARN
		}
		ev.Session = sessionName(id.ARN)
	}
	ev.TrailName = trailParam(r.EventName, r.RequestParameters)
	ev.TrailARN = ResolveTrail(ev.TrailName, ev.Region, ev.Account)
	return ev, nil
}

// trailParam is the trail a call names in its request parameters: trailName
// for the selector calls, name for the others.
func trailParam(eventName string, p map[string]any) string {
	key := "name"
	if eventName == "PutEventSelectors" || eventName == "GetEventSelectors" ||
		eventName == "PutInsightSelectors" || eventName == "GetInsightSelectors" {
		key = "trailName"
	}
	s, _ := p[key].(string)
	if s == "" && key == "trailName" {
		// Older records of the selector calls name the trail "name".
		s, _ = p["name"].(string)
	}
	return s
}

// ResolveTrail turns the trail a call names into its ARN, as CloudTrail
// does: an ARN stays as it is, a bare name is the trail of that name in
// the region and account the call was made in (CloudTrail resolves names
// only in the region of the call). It returns "" when the result is not a
// valid trail ARN, so a hostile or malformed name never becomes a key.
func ResolveTrail(name, region, account string) string {
	if name == "" {
		return ""
	}
	arn := name
	if !strings.HasPrefix(name, "arn:") {
		arn = "arn:" + trailguard.Partition(region) + ":cloudtrail:" + region + ":" + account + ":trail/" + name
	}
	if !trailguard.ValidTrailARN(arn) {
		return ""
	}
	return arn
}

// sessionName is the session of an assumed-role ARN
// (arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION), "" for other callers.
func sessionName(arn string) string {
	_, rest, ok := strings.Cut(arn, ":assumed-role/")
	if !ok {
		return ""
	}
	_, session, ok := strings.Cut(rest, "/")
	if !ok {
		return ""
	}
	return session
}

// quoteIfOdd shows an event id in an error as is when it is the usual
// UUID, quoted and clipped otherwise, so a record never writes control
// characters through an error.
func quoteIfOdd(id string) string {
	for _, r := range id {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F' || r == '-') {
			return fmt.Sprintf("%q", clip(id, 64))
		}
	}
	return clip(id, 64)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
