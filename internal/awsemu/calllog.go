package awsemu

import (
	"bufio"
	"encoding/json"
	"errors"
	"net"
	"net/http"
)

// CallRecord is one request as the emulator answered it, in the order the
// answers were written.
type CallRecord struct {
	// Action is the IAM action of the call ("s3:GetBucketPolicy",
	// "cloudtrail:CreateTrail").
	Action string
	// Operation is the API operation ("HeadBucket").
	Operation string
	// Resource is what the call names: the bucket of an S3 call, the trail
	// (Name or TrailName) of a CloudTrail call, the key (KeyId, AliasName)
	// of a KMS call; "" when it names none.
	Resource string
	// Status is the HTTP status of the answer (0: the connection was
	// dropped).
	Status int
	// Code is the error code of a failed call, "" on success.
	Code string
}

// RecordCalls turns the call log on (and empties it) or off. It is off by
// default: a long-running emulator would keep every call.
func (e *Emulator) RecordCalls(on bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.logCalls, e.callLog = on, nil
}

// CallLog returns the calls recorded since RecordCalls(true), in order.
func (e *Emulator) CallLog() []CallRecord {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]CallRecord(nil), e.callLog...)
}

// record appends one answered call to the log when it is on.
func (e *Emulator) record(c *call, r *http.Request, body []byte, status int, code string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.logCalls {
		return
	}
	e.callLog = append(e.callLog, CallRecord{Action: c.action(), Operation: c.op, Resource: callResource(c, r, body), Status: status, Code: code})
}

// callResource is the resource a call names, for the call log.
func callResource(c *call, r *http.Request, body []byte) string {
	switch c.service {
	case "s3":
		b, _ := s3Target(r)
		return b
	case "cloudtrail", "kms":
		var in struct{ Name, TrailName, KeyId, AliasName string }
		if json.Unmarshal(body, &in) != nil {
			return ""
		}
		for _, s := range []string{in.Name, in.TrailName, in.KeyId, in.AliasName} {
			if s != "" {
				return s
			}
		}
	}
	return ""
}

// statusWriter remembers the status and error code a service answered
// with, for the call log; it lets resetConnection take the connection
// over as the underlying writer would.
type statusWriter struct {
	http.ResponseWriter
	status int
	code   string // the error code written, if any
}

// noteCode tells the call log which error code an answer carries (S3's
// are in an XML body the log does not parse).
func noteCode(w http.ResponseWriter, code string) {
	if sw, ok := w.(*statusWriter); ok {
		sw.code = code
	}
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("awsemu: the connection cannot be taken over")
	}
	return hj.Hijack()
}

// errorCode is the error code an answer carried, "" for a success.
func (w *statusWriter) errorCode() string {
	if w.status < 300 {
		return ""
	}
	if w.code != "" {
		return w.code
	}
	return http.StatusText(w.status)
}

// State is a canonical JSON dump of everything clients can change: every
// bucket (owner, region, policy, configuration documents), trail
// (settings, logging, selectors), KMS key (policy, rotation) and alias.
// Tests compare it before and after a run to prove a run changed nothing.
func (e *Emulator) State() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	type bucketState struct {
		Owner, Region, Policy string
		Config                map[string]string
	}
	type trailState struct {
		Account, Name, Home, Bucket, Prefix, SNS, KMSKey, CWLogGroup, CWRole string
		MultiRegion, Org, GlobalEvents, Validation, Logging, Custom          bool
		Basic                                                                []eventSelector
		Advanced                                                             []advancedEventSelector
		Tags                                                                 []tag
	}
	type keyState struct {
		Account, Region, Description, Policy string
		Rotation                             bool
	}
	st := struct {
		Buckets map[string]bucketState
		Trails  map[string]trailState
		Keys    map[string]keyState
		Aliases map[string]string
	}{map[string]bucketState{}, map[string]trailState{}, map[string]keyState{}, map[string]string{}}
	for n, b := range e.buckets {
		st.Buckets[n] = bucketState{Owner: b.owner, Region: b.region, Policy: b.policy, Config: b.config}
	}
	for arn, t := range e.trails {
		st.Trails[arn] = trailState{Account: t.account, Name: t.name, Home: t.home, Bucket: t.bucket, Prefix: t.prefix, SNS: t.snsTopic, KMSKey: t.kmsKey,
			CWLogGroup: t.cwLogGroup, CWRole: t.cwRole, MultiRegion: t.multiRegion, Org: t.org, GlobalEvents: t.globalEvents, Validation: t.validation,
			Logging: t.logging, Custom: t.custom, Basic: t.basic, Advanced: t.advanced, Tags: t.tags}
	}
	for arn, k := range e.kmsKeys {
		st.Keys[arn] = keyState{Account: k.account, Region: k.region, Description: k.description, Policy: k.policy, Rotation: k.rotation}
	}
	for a, k := range e.kmsAliases {
		st.Aliases[a] = k
	}
	b, err := json.MarshalIndent(st, "", " ") // maps are written in key order
	if err != nil {
		panic("awsemu: state: " + err.Error())
	}
	return string(b)
}
