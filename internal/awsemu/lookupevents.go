package awsemu

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// LookupEvents serves CloudTrail event history from the event record
// (ctevents.go), as the CloudTrail API reference describes it
// (https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html):
// the management events of the caller's account in the region asked,
// of the last 90 days, newest first, filtered by at most one lookup
// attribute and a time range, MaxResults 1 to 50 (default 50) a page, and
// at most two requests per second per account and region.

// LookupEventsQuota is LookupEvents' quota, in requests per second per
// account and region, as the API reference states it. The emulator
// applies it unless SetLookupEventsQuota turns it off.
const LookupEventsQuota = 2

// maxLookupResults is the most events one LookupEvents page holds, and
// the default.
const maxLookupResults = 50

// lookupKeys are the AttributeKey values LookupAttribute allows.
var lookupKeys = map[string]bool{
	"EventId": true, "EventName": true, "ReadOnly": true, "Username": true,
	"ResourceType": true, "ResourceName": true, "EventSource": true, "AccessKeyId": true,
}

// SetLookupEventsQuota sets how many LookupEvents requests per second each
// account and region may make before it answers ThrottlingException, as
// AWS does beyond its quota of 2; perSecond <= 0 turns the quota off (for
// tests that are not about it). The bucket holds up to one second's
// requests.
func (e *Emulator) SetLookupEventsQuota(perSecond float64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.evState()
	s.log.lookupTPS = max(perSecond, 0)
	s.log.lookupBuckets = map[string]*tokenBucket{}
}

// takeLookupToken reports whether c is within the LookupEvents quota.
// Called with e.mu held.
func (e *Emulator) takeLookupToken(c *call) bool {
	l := &e.evState().log
	if l.lookupTPS <= 0 {
		return true
	}
	burst := max(1, math.Ceil(l.lookupTPS))
	key := c.account() + "/" + c.region
	now := e.now()
	b := l.lookupBuckets[key]
	if b == nil {
		b = &tokenBucket{tokens: burst, last: now}
		l.lookupBuckets[key] = b
	}
	b.tokens = min(burst, b.tokens+now.Sub(b.last).Seconds()*l.lookupTPS)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

type lookupAttribute struct {
	AttributeKey   *string `json:"AttributeKey"`
	AttributeValue *string `json:"AttributeValue"`
}

type lookupEventsIn struct {
	LookupAttributes []lookupAttribute `json:"LookupAttributes"`
	// Timestamps of the JSON 1.1 protocol are epoch seconds.
	StartTime     *float64 `json:"StartTime"`
	EndTime       *float64 `json:"EndTime"`
	EventCategory *string  `json:"EventCategory"`
	MaxResults    *int     `json:"MaxResults"`
	NextToken     *string  `json:"NextToken"`
}

type lookupEventOut struct {
	EventID         string        `json:"EventId"`
	EventName       string        `json:"EventName"`
	ReadOnly        string        `json:"ReadOnly"`
	AccessKeyID     string        `json:"AccessKeyId,omitempty"`
	EventTime       float64       `json:"EventTime"`
	EventSource     string        `json:"EventSource"`
	Username        string        `json:"Username,omitempty"`
	Resources       []resourceOut `json:"Resources"`
	CloudTrailEvent string        `json:"CloudTrailEvent"`
}

type resourceOut struct {
	ResourceType string `json:"ResourceType,omitempty"`
	ResourceName string `json:"ResourceName,omitempty"`
}

type lookupEventsOut struct {
	Events    []lookupEventOut `json:"Events"`
	NextToken string           `json:"NextToken,omitempty"`
}

func invalidLookup(format string, args ...any) *apiError {
	return errorf(http.StatusBadRequest, "InvalidLookupAttributesException", format, args...)
}

func (e *Emulator) lookupEvents(c *call, body []byte) (any, *apiError) {
	var in lookupEventsIn
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.takeLookupToken(c) {
		return nil, errorf(http.StatusBadRequest, "ThrottlingException", "Rate exceeded")
	}
	var key, value string
	switch len(in.LookupAttributes) {
	case 0:
	case 1:
		a := in.LookupAttributes[0]
		if a.AttributeKey == nil || !lookupKeys[*a.AttributeKey] {
			k := ""
			if a.AttributeKey != nil {
				k = *a.AttributeKey
			}
			return nil, invalidLookup("Lookup attribute key %q is not valid: use one of EventId, EventName, ReadOnly, Username, ResourceType, ResourceName, EventSource, AccessKeyId.", k)
		}
		if a.AttributeValue == nil || *a.AttributeValue == "" || len(*a.AttributeValue) > 2000 {
			return nil, invalidLookup("Lookup attribute value must be 1 to 2000 characters.")
		}
		key, value = *a.AttributeKey, *a.AttributeValue
	default:
		return nil, invalidLookup("You cannot specify more than one lookup attribute.")
	}
	if in.EventCategory != nil && *in.EventCategory != "insight" {
		return nil, errorf(http.StatusBadRequest, "InvalidEventCategoryException", "Event category %q is not valid: the only category is insight.", *in.EventCategory)
	}
	limit := maxLookupResults
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > maxLookupResults {
			return nil, errorf(http.StatusBadRequest, "InvalidMaxResultsException", "MaxResults must be from 1 to %d.", maxLookupResults)
		}
		limit = *in.MaxResults
	}
	now := e.now().UTC()
	from, to := now.Add(-EventRetention), now
	var start, end time.Time
	if in.StartTime != nil {
		start = fromEpoch(*in.StartTime)
		if start.After(from) {
			from = start
		}
	}
	if in.EndTime != nil {
		end = fromEpoch(*in.EndTime)
		if end.Before(to) {
			to = end
		}
	}
	if in.StartTime != nil && in.EndTime != nil && start.After(end) {
		return nil, errorf(http.StatusBadRequest, "InvalidTimeRangeException", "The start time must not be after the end time.")
	}
	category := ""
	if in.EventCategory != nil {
		category = *in.EventCategory
	}
	query := lookupQueryHash(key, value, in.StartTime, in.EndTime, category)
	// The page resumes after the last event of the previous one by
	// position in (time, record order), not by count, so events recorded
	// between two pages neither shift a page nor repeat an event.
	var afterAt time.Time
	var afterSeq uint64
	resume := false
	if in.NextToken != nil {
		var ok bool
		afterAt, afterSeq, ok = parseLookupToken(*in.NextToken, query)
		if !ok {
			return nil, errorf(http.StatusBadRequest, "InvalidNextTokenException", "Invalid NextToken: it is not one this query returned.")
		}
		resume = true
	}
	out := lookupEventsOut{Events: []lookupEventOut{}}
	if category == "insight" {
		// The emulator records no Insights events.
		return out, nil
	}
	evs := e.evState().log.events[c.account()+"/"+c.region].all()
	var lastAt time.Time
	var lastSeq uint64
	for i := len(evs) - 1; i >= 0; i-- {
		ev := &evs[i]
		if ev.at.Before(from) || ev.at.After(to) {
			continue
		}
		if resume && !(ev.at.Before(afterAt) || ev.at.Equal(afterAt) && ev.seq < afterSeq) {
			continue
		}
		if !lookupMatches(ev, key, value) {
			continue
		}
		if len(out.Events) == limit {
			out.NextToken = lookupToken(lastAt, lastSeq, query)
			break
		}
		out.Events = append(out.Events, lookupEvent(ev))
		lastAt, lastSeq = ev.at, ev.seq
	}
	return out, nil
}

// fromEpoch reads a JSON 1.1 timestamp (epoch seconds, maybe fractional).
func fromEpoch(sec float64) time.Time {
	if math.IsNaN(sec) || math.IsInf(sec, 0) || math.Abs(sec) > 1e11 {
		sec = 0
	}
	whole, frac := math.Modf(sec)
	return time.Unix(int64(whole), int64(frac*1e9)).UTC()
}

// lookupQueryHash identifies a query's filters, so that a NextToken is
// refused with other filters, as AWS refuses "a token that was previously
// used in a request with different parameters".
func lookupQueryHash(key, value string, start, end *float64, category string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%q %q %q", key, value, category)
	for _, t := range []*float64{start, end} {
		if t == nil {
			h.Write([]byte(" -"))
		} else {
			h.Write([]byte(" " + strconv.FormatFloat(*t, 'g', -1, 64)))
		}
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

func lookupToken(at time.Time, seq uint64, query string) string {
	raw := strconv.FormatInt(at.Unix(), 10) + "." + strconv.FormatUint(seq, 10) + "." + query
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func parseLookupToken(tok, query string) (time.Time, uint64, bool) {
	if len(tok) > 256 {
		return time.Time{}, 0, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return time.Time{}, 0, false
	}
	parts := strings.Split(string(raw), ".")
	if len(parts) != 3 || parts[2] != query {
		return time.Time{}, 0, false
	}
	sec, err1 := strconv.ParseInt(parts[0], 10, 64)
	seq, err2 := strconv.ParseUint(parts[1], 10, 64)
	if err1 != nil || err2 != nil {
		return time.Time{}, 0, false
	}
	return time.Unix(sec, 0).UTC(), seq, true
}

// lookupMatches applies one lookup attribute; no attribute matches all.
func lookupMatches(ev *CloudTrailEvent, key, value string) bool {
	switch key {
	case "":
		return true
	case "EventId":
		return ev.EventID == value
	case "EventName":
		return ev.EventName == value
	case "ReadOnly":
		return strconv.FormatBool(ev.ReadOnly) == value
	case "Username":
		return lookupUsername(ev) == value
	case "EventSource":
		return ev.EventSource == value
	case "AccessKeyId":
		return ev.UserIdentity.AccessKeyID == value
	case "ResourceType", "ResourceName":
		for _, r := range lookupResources(ev) {
			if key == "ResourceType" && r.ResourceType == value || key == "ResourceName" && r.ResourceName == value {
				return true
			}
		}
	}
	return false
}

// lookupUsername is the Username LookupEvents gives an event: the IAM
// user's name, the role session's name, or "root".
func lookupUsername(ev *CloudTrailEvent) string {
	id := ev.UserIdentity
	switch id.Type {
	case "Root":
		return "root"
	case "IAMUser":
		return id.UserName
	case "AssumedRole":
		if i := strings.LastIndex(id.ARN, "/"); i >= 0 {
			return id.ARN[i+1:]
		}
	}
	return ""
}

// lookupResources are the resources LookupEvents lists for an event: the
// trail a CloudTrail call names, the bucket of an S3 call.
func lookupResources(ev *CloudTrailEvent) []resourceOut {
	p := ev.RequestParameters
	switch ev.EventSource {
	case "cloudtrail.amazonaws.com":
		for _, k := range []string{"name", "trailName"} {
			if n, _ := p[k].(string); n != "" {
				return []resourceOut{{ResourceType: "AWS::CloudTrail::Trail", ResourceName: n}}
			}
		}
	case "s3.amazonaws.com":
		if n, _ := p["bucketName"].(string); n != "" {
			return []resourceOut{{ResourceType: "AWS::S3::Bucket", ResourceName: n}}
		}
	}
	return []resourceOut{}
}

// lookupEvent is one event as LookupEvents returns it, the whole record in
// CloudTrailEvent as a JSON string.
func lookupEvent(ev *CloudTrailEvent) lookupEventOut {
	record, err := json.Marshal(ev)
	if err != nil {
		panic(fmt.Sprintf("awsemu: marshal event: %v", err))
	}
	return lookupEventOut{
		EventID:         ev.EventID,
		EventName:       ev.EventName,
		ReadOnly:        strconv.FormatBool(ev.ReadOnly),
		AccessKeyID:     ev.UserIdentity.AccessKeyID,
		EventTime:       float64(ev.at.Unix()),
		EventSource:     ev.EventSource,
		Username:        lookupUsername(ev),
		Resources:       lookupResources(ev),
		CloudTrailEvent: string(record),
	}
}

// AddEvent records ev, an event of the past, in the event record of its
// account (RecipientAccountID) and region (AWSRegion) at its EventTime
// (RFC 3339), as if CloudTrail had recorded it then: LookupEvents returns
// it, EventBridge does not hear of it (that moment is gone). An empty
// EventID gets a fresh one, and the fields every record has are filled
// in. It is how a history is seeded (SeedHistory) and how tests place
// events in time; an event older than the 90 days of event history is
// dropped, as AWS drops it.
func (e *Emulator) AddEvent(ev CloudTrailEvent) error {
	at, err := time.Parse(time.RFC3339, ev.EventTime)
	if err != nil {
		return fmt.Errorf("event time %q: want RFC 3339: %w", ev.EventTime, err)
	}
	if ev.RecipientAccountID == "" || ev.AWSRegion == "" || ev.EventName == "" {
		return fmt.Errorf("event %q: RecipientAccountID, AWSRegion and EventName are required", ev.EventName)
	}
	ev.at = at.UTC().Truncate(time.Second)
	ev.EventTime = ev.at.Format(time.RFC3339)
	if ev.EventID == "" {
		ev.EventID = newRequestID()
	}
	if ev.RequestID == "" {
		ev.RequestID = newRequestID()
	}
	if ev.EventVersion == "" {
		ev.EventVersion = "1.09"
	}
	if ev.EventType == "" {
		ev.EventType = "AwsApiCall"
	}
	if ev.EventCategory == "" {
		ev.EventCategory = "Management"
	}
	ev.ManagementEvent = true
	e.mu.Lock()
	defer e.mu.Unlock()
	e.evState().log.add(ev.RecipientAccountID+"/"+ev.AWSRegion, ev, e.now().Add(-EventRetention))
	return nil
}
