package awsemu

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The CloudTrail event record: every mutating call the emulator answers
// for an authenticated caller — failed ones included, since a denied
// StopLogging is as much a signal as a successful one — is kept as the
// management event CloudTrail would write (CloudTrail record contents,
// https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html),
// per account and region, in time order. Each recorded event is also
// offered to the EventBridge rules of that account and region as an
// "AWS API Call via CloudTrail" event.

// DefaultEventCap bounds the events kept per account and region other
// than coverage events; when it is reached the oldest such event is
// dropped, so a long-running emulator does not grow without limit.
const DefaultEventCap = 1000

// DefaultCoverageEventCap bounds the coverage events (coverageEvent) kept
// per account and region. They are kept apart from the other events, with
// a cap of their own, so that a flood of other calls within the 90 days
// of event history never pushes out the StopLogging a history needs; the
// cap only bounds memory against a client that floods coverage calls.
const DefaultCoverageEventCap = 20000

// EventRetention is how long event history keeps an event: LookupEvents
// answers for the last 90 days, and older events are dropped.
const EventRetention = 90 * 24 * time.Hour

// maxErrorBody bounds how much of an error answer is kept to read its
// message for errorMessage.
const maxErrorBody = 8 << 10

// CloudTrailEvent is one management event as CloudTrail records it. The
// JSON names are CloudTrail's.
type CloudTrailEvent struct {
	EventVersion       string         `json:"eventVersion"`
	UserIdentity       UserIdentity   `json:"userIdentity"`
	EventTime          string         `json:"eventTime"`
	EventSource        string         `json:"eventSource"`
	EventName          string         `json:"eventName"`
	AWSRegion          string         `json:"awsRegion"`
	SourceIPAddress    string         `json:"sourceIPAddress"`
	UserAgent          string         `json:"userAgent"`
	ErrorCode          string         `json:"errorCode,omitempty"`
	ErrorMessage       string         `json:"errorMessage,omitempty"`
	RequestParameters  map[string]any `json:"requestParameters"`
	ResponseElements   map[string]any `json:"responseElements"`
	RequestID          string         `json:"requestID"`
	EventID            string         `json:"eventID"`
	ReadOnly           bool           `json:"readOnly"`
	EventType          string         `json:"eventType"`
	ManagementEvent    bool           `json:"managementEvent"`
	RecipientAccountID string         `json:"recipientAccountId"`
	EventCategory      string         `json:"eventCategory"`

	// at is EventTime, parsed; seq orders events of the same second in
	// the order they were recorded, and is what a LookupEvents NextToken
	// resumes after.
	at  time.Time
	seq uint64
}

// UserIdentity is the caller of a recorded call, from the credentials it
// signed with.
type UserIdentity struct {
	Type           string          `json:"type"`
	PrincipalID    string          `json:"principalId"`
	ARN            string          `json:"arn"`
	AccountID      string          `json:"accountId"`
	AccessKeyID    string          `json:"accessKeyId"`
	UserName       string          `json:"userName,omitempty"`
	SessionContext *SessionContext `json:"sessionContext,omitempty"`
}

// SessionContext describes the role session of an AssumedRole caller.
type SessionContext struct {
	SessionIssuer SessionIssuer `json:"sessionIssuer"`
}

// SessionIssuer is the role a session was assumed from.
type SessionIssuer struct {
	Type        string `json:"type"`
	PrincipalID string `json:"principalId"`
	ARN         string `json:"arn"`
	AccountID   string `json:"accountId"`
	UserName    string `json:"userName"`
}

// eventLog holds the recorded events by "account/region", and the
// LookupEvents quota (lookupevents.go).
type eventLog struct {
	cap, coverageCap int
	seq              uint64
	events           map[string]*eventList

	lookupTPS     float64 // 0: no quota
	lookupBuckets map[string]*tokenBucket
}

// eventList is the record of one account and region: coverage events and
// the others apart, each in time order, so each is capped on its own.
type eventList struct {
	coverage, other []CloudTrailEvent
}

// coverageEvent reports whether ev is one of the CloudTrail calls that can
// change CIS 3.1 coverage (the names history.CoverageEvents lists, kept
// here too since the emulator is the test oracle and imports no product
// package).
func coverageEvent(ev *CloudTrailEvent) bool {
	if ev.EventSource != "cloudtrail.amazonaws.com" {
		return false
	}
	switch ev.EventName {
	case "CreateTrail", "DeleteTrail", "UpdateTrail", "StartLogging", "StopLogging", "PutEventSelectors":
		return true
	}
	return false
}

// add records ev under key, in time order, and applies the caps and the
// retention (events before cutoff are dropped). Called with e.mu held.
func (l *eventLog) add(key string, ev CloudTrailEvent, cutoff time.Time) {
	l.seq++
	ev.seq = l.seq
	if ev.at.IsZero() {
		ev.at, _ = time.Parse(time.RFC3339, ev.EventTime)
	}
	el := l.events[key]
	if el == nil {
		el = &eventList{}
		l.events[key] = el
	}
	pool, limit := &el.other, l.cap
	if coverageEvent(&ev) {
		pool, limit = &el.coverage, l.coverageCap
	}
	*pool = insertByTime(*pool, ev)
	*pool = trimEvents(*pool, limit, cutoff)
}

// insertByTime adds ev after every event not later than it: an event
// recorded now goes last; a seeded past event goes where its time is.
func insertByTime(evs []CloudTrailEvent, ev CloudTrailEvent) []CloudTrailEvent {
	i := sort.Search(len(evs), func(i int) bool { return evs[i].at.After(ev.at) })
	evs = append(evs, CloudTrailEvent{})
	copy(evs[i+1:], evs[i:])
	evs[i] = ev
	return evs
}

// trimEvents drops events older than cutoff and, beyond limit, the oldest.
func trimEvents(evs []CloudTrailEvent, limit int, cutoff time.Time) []CloudTrailEvent {
	drop := sort.Search(len(evs), func(i int) bool { return !evs[i].at.Before(cutoff) })
	if n := len(evs) - limit; n > drop {
		drop = n
	}
	if drop == 0 {
		return evs
	}
	return append([]CloudTrailEvent(nil), evs[drop:]...)
}

// all is the record of one account and region, oldest first.
func (el *eventList) all() []CloudTrailEvent {
	if el == nil {
		return nil
	}
	out := make([]CloudTrailEvent, 0, len(el.coverage)+len(el.other))
	out = append(out, el.coverage...)
	out = append(out, el.other...)
	sortEvents(out)
	return out
}

// sortEvents orders events by time, then in the order they were recorded.
func sortEvents(evs []CloudTrailEvent) {
	sort.SliceStable(evs, func(i, j int) bool {
		if !evs[i].at.Equal(evs[j].at) {
			return evs[i].at.Before(evs[j].at)
		}
		return evs[i].seq < evs[j].seq
	})
}

// evState returns the state of the event record, EventBridge and SNS,
// creating it. Called with e.mu held; it is created lazily so that the
// emulator's constructor stays as it is.
func (e *Emulator) evState() *eventsState {
	if e.ev == nil {
		e.ev = &eventsState{
			log: eventLog{
				cap: DefaultEventCap, coverageCap: DefaultCoverageEventCap,
				events:    map[string]*eventList{},
				lookupTPS: LookupEventsQuota, lookupBuckets: map[string]*tokenBucket{},
			},
			rules:  map[string]*ebRule{},
			topics: map[string]*snsTopic{},
		}
	}
	return e.ev
}

// SetEventCap sets how many events are kept per account and region, for
// coverage events and for the others each (n < 1 restores
// DefaultCoverageEventCap and DefaultEventCap); the oldest beyond it are
// dropped now.
func (e *Emulator) SetEventCap(n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.evState()
	s.log.cap, s.log.coverageCap = n, n
	if n < 1 {
		s.log.cap, s.log.coverageCap = DefaultEventCap, DefaultCoverageEventCap
	}
	cutoff := e.now().Add(-EventRetention)
	for _, el := range s.log.events {
		el.coverage = trimEvents(el.coverage, s.log.coverageCap, cutoff)
		el.other = trimEvents(el.other, s.log.cap, cutoff)
	}
}

// Events returns the events recorded for an account in a region, oldest
// first. An empty region means every region, ordered by time.
func (e *Emulator) Events(account, region string) []CloudTrailEvent {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.evState()
	if region != "" {
		return s.log.events[account+"/"+region].all()
	}
	var out []CloudTrailEvent
	for k, el := range s.log.events {
		if strings.HasPrefix(k, account+"/") {
			out = append(out, el.all()...)
		}
	}
	sortEvents(out)
	return out
}

// readOnlyPrefixes are the operation names CloudTrail marks readOnly; the
// record keeps only the others, the calls that change something.
var readOnlyPrefixes = []string{"Get", "Describe", "List", "Lookup", "Head", "Search"}

// s3DataEvents are the S3 object operations, which CloudTrail records as
// data events, not management events ("Data events ... include Amazon S3
// object-level API activity (for example, GetObject, DeleteObject, and
// PutObject)", CloudTrail User Guide, "Logging data events"): a trail
// with default selectors does not log them.
var s3DataEvents = map[string]bool{"PutObject": true, "CopyObject": true, "DeleteObject": true, "DeleteObjects": true}

// readOnlyOps are read-only calls whose names do not say so.
var readOnlyOps = map[string]bool{"AssumeRole": true, "Decrypt": true, "Encrypt": true, "GenerateDataKey": true}

func mutating(op string) bool {
	if op == "" || readOnlyOps[op] {
		return false
	}
	for _, p := range readOnlyPrefixes {
		if strings.HasPrefix(op, p) {
			return false
		}
	}
	return true
}

// eventWriter keeps the start of an error answer, whose message becomes
// the event's errorMessage, and the body of a successful JSON answer for
// its responseElements.
type eventWriter struct {
	http.ResponseWriter
	status int
	buf    bytes.Buffer
}

func (w *eventWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *eventWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if room := maxErrorBody - w.buf.Len(); room > 0 {
		w.buf.Write(b[:min(len(b), room)])
	}
	return w.ResponseWriter.Write(b)
}

func (w *eventWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("awsemu: the connection cannot be taken over")
	}
	return hj.Hijack()
}

// recordEvent records one answered call as a CloudTrail event and offers
// it to EventBridge. Calls without a known caller (no account to record
// them in) and read-only calls are not recorded; neither is a dropped
// connection, which AWS never answered.
func (e *Emulator) recordEvent(c *call, r *http.Request, body []byte, w *eventWriter, code string) {
	if c.cred == nil || w.status == 0 || !mutating(c.op) || (c.service == "s3" && s3DataEvents[c.op]) {
		return
	}
	ev := CloudTrailEvent{
		EventVersion:       "1.09",
		UserIdentity:       userIdentity(c.cred),
		EventSource:        c.service + ".amazonaws.com",
		EventName:          c.op,
		AWSRegion:          c.region,
		SourceIPAddress:    sourceIP(r),
		UserAgent:          clip(r.UserAgent(), 1024),
		RequestParameters:  requestParameters(c, r, body),
		RequestID:          c.reqID,
		EventID:            newRequestID(),
		EventType:          "AwsApiCall",
		ManagementEvent:    true,
		RecipientAccountID: c.cred.account,
		EventCategory:      "Management",
	}
	if w.status >= 300 {
		ev.ErrorCode = code
		ev.ErrorMessage = errorMessage(w.buf.Bytes())
	} else {
		ev.ResponseElements = responseElements(c, w.buf.Bytes())
	}
	// The time is read under the lock that appends, so that each
	// account/region list is in time order even for concurrent calls.
	e.mu.Lock()
	now := e.now().UTC()
	ev.EventTime = now.Format(time.RFC3339)
	ev.at = now.Truncate(time.Second)
	s := e.evState()
	s.log.add(c.cred.account+"/"+c.region, ev, now.Add(-EventRetention))
	jobs := e.matchRules(ev, now)
	e.mu.Unlock()
	e.deliver(jobs)
}

// userIdentity is the userIdentity element of the caller's credentials:
// the account root, or a role session with its issuing role.
func userIdentity(cr *credential) UserIdentity {
	id := UserIdentity{PrincipalID: cr.userID, ARN: cr.arn, AccountID: cr.account, AccessKeyID: cr.accessKeyID}
	switch {
	case strings.HasSuffix(cr.arn, ":root"):
		id.Type = "Root"
		if id.PrincipalID == "" {
			id.PrincipalID = cr.account
		}
	case strings.Contains(cr.arn, ":assumed-role/"):
		id.Type = "AssumedRole"
		// arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION
		rest := cr.arn[strings.Index(cr.arn, ":assumed-role/")+len(":assumed-role/"):]
		roleName, _, _ := strings.Cut(rest, "/")
		rolePID, _, _ := strings.Cut(cr.userID, ":")
		id.SessionContext = &SessionContext{SessionIssuer: SessionIssuer{
			Type: "Role", PrincipalID: rolePID, ARN: "arn:aws:iam::" + cr.account + ":role/" + roleName,
			AccountID: cr.account, UserName: roleName,
		}}
	default:
		id.Type = "IAMUser"
		if i := strings.LastIndex(cr.arn, "/"); i >= 0 && strings.Contains(cr.arn, ":user/") {
			id.UserName = cr.arn[i+1:]
		}
	}
	return id
}

// sourceIP is the caller's address as the server saw it.
func sourceIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// clip bounds a client-chosen string kept in the record.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// requestParameters are the call's parameters as CloudTrail shows them:
// member names with a lower-case first letter ({"name": "trail"} for
// StopLogging). JSON services send them as the body; query services as
// form fields (Action and Version are not parameters); S3 names the bucket.
func requestParameters(c *call, r *http.Request, body []byte) map[string]any {
	switch c.service {
	case "s3":
		b, _ := s3Target(r)
		if b == "" {
			return nil
		}
		return map[string]any{"bucketName": b, "Host": r.Host}
	case "sts", "ec2", "sns":
		p := queryParams(r, body)
		out := map[string]any{}
		for k, v := range p {
			if k == "Action" || k == "Version" || len(v) == 0 || strings.HasPrefix(k, "X-Amz-") {
				continue
			}
			out[lowerFirst(k)] = v[0]
		}
		if len(out) == 0 {
			return nil
		}
		return out
	}
	var in map[string]any
	if json.Unmarshal(body, &in) != nil || len(in) == 0 {
		return nil
	}
	return lowerKeys(in, 0).(map[string]any)
}

// lowerKeys renames object members the CloudTrail way, to a bounded depth
// (requests are hostile input).
func lowerKeys(v any, depth int) any {
	if depth > 32 {
		return nil
	}
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, val := range x {
			out[lowerFirst(k)] = lowerKeys(val, depth+1)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, val := range x {
			out[i] = lowerKeys(val, depth+1)
		}
		return out
	}
	return v
}

func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToLower(r)) + s[n:]
}

// responseElements are a JSON service's answer, renamed like the request
// parameters; CloudTrail writes null for calls that answer nothing.
func responseElements(c *call, body []byte) map[string]any {
	if c.service == "s3" || c.service == "sts" || c.service == "ec2" || c.service == "sns" {
		return nil
	}
	var out map[string]any
	if json.Unmarshal(body, &out) != nil || len(out) == 0 {
		return nil
	}
	return lowerKeys(out, 0).(map[string]any)
}

// errorMessage reads the message of an error answer: "message" or
// "Message" of a JSON error, Error/Message of an XML one.
func errorMessage(body []byte) string {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return ""
	}
	if body[0] == '{' {
		var m struct {
			Lower string `json:"message"`
			Upper string `json:"Message"`
		}
		json.Unmarshal(body, &m)
		if m.Lower != "" {
			return clip(m.Lower, 1024)
		}
		return clip(m.Upper, 1024)
	}
	dec := xml.NewDecoder(bytes.NewReader(body))
	inMessage := false
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		switch t := tok.(type) {
		case xml.StartElement:
			inMessage = t.Name.Local == "Message"
		case xml.CharData:
			if inMessage {
				return clip(string(t), 1024)
			}
		case xml.EndElement:
			inMessage = false
		}
	}
}
