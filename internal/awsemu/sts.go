package awsemu

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"time"
)

const stsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"

// STS speaks the AWS query protocol: a form POST with Action=..., an XML
// response named <Action>Response, errors as ErrorResponse documents.
var stsService = &service{
	operation: queryAction,
	writeError: func(w http.ResponseWriter, r *http.Request, c *call, err *apiError) {
		writeQueryError(w, c.reqID, err)
	},
	serve:      (*Emulator).serveSTS,
	invalidKey: apiError{Status: http.StatusForbidden, Code: "InvalidClientTokenId", Message: "The security token included in the request is invalid."},
	expired:    apiError{Status: http.StatusBadRequest, Code: "ExpiredToken", Message: "The security token included in the request is expired"},
	throttled:  apiError{Status: http.StatusBadRequest, Code: "Throttling", Message: "Rate exceeded"},
}

// queryParams merges the URL query and a form-encoded body, as the query
// protocol allows either (the SDKs and the CLI POST a form).
func queryParams(r *http.Request, body []byte) url.Values {
	v := r.URL.Query()
	if len(body) > 0 {
		if form, err := url.ParseQuery(string(body)); err == nil {
			for k, vals := range form {
				v[k] = append(v[k], vals...)
			}
		}
	}
	return v
}

func queryAction(r *http.Request, body []byte) string {
	return queryParams(r, body).Get("Action")
}

func (e *Emulator) serveSTS(w http.ResponseWriter, r *http.Request, c *call, body []byte) {
	p := queryParams(r, body)
	var (
		result any
		err    *apiError
	)
	switch c.op {
	case "GetCallerIdentity":
		result, err = e.getCallerIdentity(c)
	case "AssumeRole":
		result, err = e.assumeRole(c, p)
	default:
		err = errorf(http.StatusBadRequest, "InvalidAction", "Could not find operation %s for version 2011-06-15", c.op)
	}
	if err != nil {
		writeQueryError(w, c.reqID, err)
		return
	}
	writeQueryResponse(w, c, stsNamespace, result)
}

// writeQueryResponse wraps a result as <Op>Response/<Op>Result plus
// ResponseMetadata/RequestId, the query protocol's envelope.
func writeQueryResponse(w http.ResponseWriter, c *call, ns string, result any) {
	var inner bytes.Buffer
	enc := xml.NewEncoder(&inner)
	if err := enc.EncodeElement(result, xml.StartElement{Name: xml.Name{Local: c.op + "Result"}}); err != nil {
		panic(fmt.Sprintf("awsemu: marshal %T: %v", result, err))
	}
	enc.EncodeElement(struct{ RequestId string }{c.reqID}, xml.StartElement{Name: xml.Name{Local: "ResponseMetadata"}})
	enc.Flush()
	doc := struct {
		XMLName xml.Name
		NS      string `xml:"xmlns,attr"`
		Inner   []byte `xml:",innerxml"`
	}{XMLName: xml.Name{Local: c.op + "Response"}, NS: ns, Inner: inner.Bytes()}
	writeXML(w, c.reqID, http.StatusOK, doc)
}

type callerIdentity struct {
	Arn     string
	UserId  string
	Account string
}

func (e *Emulator) getCallerIdentity(c *call) (any, *apiError) {
	return callerIdentity{Arn: c.cred.arn, UserId: c.cred.userID, Account: c.cred.account}, nil
}

var (
	roleARNPattern     = regexp.MustCompile(`^arn:aws:iam::(\d{12}):role/(?:[\x21-\x7e]*/)?([\w+=,.@-]{1,64})$`)
	sessionNamePattern = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
	externalIDPattern  = regexp.MustCompile(`^[\w+=,.@:/-]+$`)
)

// maxSessionDuration is a role's default MaxSessionDuration (one hour);
// AssumeRole asking for more fails with ValidationError.
const maxSessionDuration = time.Hour

type assumeRoleResult struct {
	AssumedRoleUser struct {
		AssumedRoleId string
		Arn           string
	}
	Credentials struct {
		AccessKeyId     string
		SecretAccessKey string
		SessionToken    string
		Expiration      string
	}
}

// assumeRole hands out temporary keys bound to the role's account. The
// checks follow the STS API reference: parameter constraints fail with
// ValidationError (400), a role the caller may not assume with
// AccessDenied (403).
func (e *Emulator) assumeRole(c *call, p url.Values) (any, *apiError) {
	validation := func(format string, args ...any) *apiError {
		return errorf(http.StatusBadRequest, "ValidationError", format, args...)
	}
	roleARN, session := p.Get("RoleArn"), p.Get("RoleSessionName")
	if !p.Has("RoleArn") {
		return nil, validation("1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null")
	}
	if !p.Has("RoleSessionName") {
		return nil, validation("1 validation error detected: Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null")
	}
	if !sessionNamePattern.MatchString(session) {
		return nil, validation("1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]* and have length between 2 and 64", session)
	}
	if len(roleARN) < 20 || len(roleARN) > 2048 {
		return nil, validation("1 validation error detected: Value '%s' at 'roleArn' failed to satisfy constraint: Member must have length between 20 and 2048", roleARN)
	}
	duration := maxSessionDuration
	if s := p.Get("DurationSeconds"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 900 || n > 43200 {
			return nil, validation("1 validation error detected: Value '%s' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200", s)
		}
		duration = time.Duration(n) * time.Second
		if duration > maxSessionDuration {
			return nil, validation("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
		}
	}
	externalID := p.Get("ExternalId")
	if p.Has("ExternalId") && (len(externalID) < 2 || len(externalID) > 1224 || !externalIDPattern.MatchString(externalID)) {
		return nil, validation("1 validation error detected: Value '%s' at 'externalId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@:\\/-]* and have length between 2 and 1224", externalID)
	}
	m := roleARNPattern.FindStringSubmatch(roleARN)
	if m == nil {
		return nil, validation("%s is invalid", roleARN)
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	var r *role
	if a := e.accounts[m[1]]; a != nil {
		r = a.roles[m[2]]
	}
	if r == nil || (r.externalID != "" && r.externalID != externalID) {
		return nil, errorf(http.StatusForbidden, "AccessDenied",
			"User: %s is not authorized to perform: sts:AssumeRole on resource: %s", c.cred.arn, roleARN)
	}
	k := e.issueTemporary(m[1], r, session, duration)
	var out assumeRoleResult
	out.AssumedRoleUser.AssumedRoleId = k.userID
	out.AssumedRoleUser.Arn = k.arn
	out.Credentials.AccessKeyId = k.accessKeyID
	out.Credentials.SecretAccessKey = k.secret
	out.Credentials.SessionToken = k.sessionToken
	out.Credentials.Expiration = k.expires.Format(time.RFC3339)
	return out, nil
}

// String helps debugging: the caller behind a call.
func (c *call) String() string {
	return fmt.Sprintf("%s:%s %s in %s (%s)", c.service, c.op, c.accessKey, c.region, c.reqID)
}
