package awsemu

import (
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"
)

// maxBody bounds request bodies; the largest legitimate one here (a full
// set of advanced event selectors) is a few kilobytes.
const maxBody = 4 << 20

// Emulator holds the state of every emulated account. It is safe for
// concurrent use: one mutex guards all state, which keeps cross-account
// views (organization trails, global bucket names) consistent.
type Emulator struct {
	mu sync.Mutex

	// State with locks of its own (AWS Config, where functions are
	// invoked), set up on first use by sideOnce.
	sideOnce  sync.Once
	config    *configState
	lambdasMu sync.Mutex
	lambdas   map[string]string // function ARN or "*" → invoke URL

	accounts map[string]*account
	keys     map[string]*credential // by access key id
	orgs     map[string]*organization
	trails   map[string]*trail  // by trail ARN
	buckets  map[string]*bucket // bucket names are global

	findings map[string]map[string]map[string]any // account/region → Id → finding

	kmsKeys    map[string]*kmsKey // by key ARN
	kmsAliases map[string]string  // alias ARN → key ARN

	faults      []*faultState
	denied      []string // Deny patterns, lower case
	callLog     []CallRecord
	logCalls    bool
	random      *randomFaults
	faultsDrawn int
	limits      map[string]rateLimit    // by service
	tokens      map[string]*tokenBucket // by service/account/region
	calls       map[string]int          // "service:Operation"
	acctCalls   map[string]map[string]int

	latency              time.Duration
	memberOrgTrailDenied bool
	pageSize             int
	keySeq               int

	now func() time.Time

	// ev holds the CloudTrail event record, EventBridge and SNS
	// (ctevents.go, eventbridge.go, sns.go).
	ev *eventsState

	// delivery holds CloudTrail's log and digest deliveries to S3 and the
	// digest signing keys (delivery.go, cloudtrail_keys.go).
	delivery *logDelivery
}

// New returns an emulator with the default regions and no accounts.
func New() *Emulator {
	return &Emulator{
		accounts:  map[string]*account{},
		keys:      map[string]*credential{},
		orgs:      map[string]*organization{},
		trails:    map[string]*trail{},
		buckets:   map[string]*bucket{},
		limits:    map[string]rateLimit{},
		tokens:    map[string]*tokenBucket{},
		calls:     map[string]int{},
		acctCalls: map[string]map[string]int{},
		pageSize:  defaultPageSize,
		now:       time.Now,
	}
}

// Start runs a new emulator on a loopback httptest server, the way tests
// and the demo use it. The caller closes the server; point clients at
// srv.URL (BaseEndpoint, --endpoint-url).
func Start() (*Emulator, *httptest.Server) {
	e := New()
	return e, httptest.NewServer(e)
}

// call is what the router learned about one request before handing it to
// a service.
type call struct {
	reqID     string
	service   string
	region    string
	accessKey string
	token     string // X-Amz-Security-Token
	op        string
	cred      *credential // set once authenticated
}

func (c *call) account() string {
	if c.cred == nil {
		return ""
	}
	return c.cred.account
}

// service is one emulated AWS service: how to name a request's operation,
// how to write its errors, and how to serve it.
type service struct {
	operation  func(r *http.Request, body []byte) string
	writeError func(w http.ResponseWriter, r *http.Request, c *call, err *apiError)
	serve      func(e *Emulator, w http.ResponseWriter, r *http.Request, c *call, body []byte)
	// The errors the service returns for credentials it does not accept
	// (unknown key, bad session token, region not enabled), for expired
	// credentials, and when throttling.
	invalidKey, expired, throttled apiError
}

// services maps the SigV4 signing name to its service.
var services = map[string]*service{
	"cloudtrail":    cloudTrailService,
	"sts":           stsService,
	"ec2":           ec2Service,
	"s3":            s3Service,
	"organizations": organizationsService,
	"securityhub":   securityHubService,
	"kms":           kmsService,
	"events":        eventBridgeService,
	"sns":           snsService,
	"config":        configService,
}

// ServeHTTP routes one request: credential scope → service and region,
// access key → account; then counts it, checks the credentials, applies
// injected faults and rate limits, and lets the service answer.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := &call{reqID: newRequestID()}
	if d := e.getLatency(); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		http.Error(w, "read request body: "+err.Error(), http.StatusBadRequest)
		return
	}
	c.accessKey, c.region, c.service = credentialScope(r)
	if c.service == "" {
		c.service = guessService(r, body)
	}
	if c.region == "" {
		c.region = "us-east-1"
	}
	c.token = r.Header.Get("X-Amz-Security-Token")
	if c.token == "" {
		c.token = r.URL.Query().Get("X-Amz-Security-Token")
	}
	svc := services[c.service]
	if svc == nil {
		writeS3Error(w, r, c.reqID, errorf(http.StatusBadRequest, "UnknownService",
			"the emulator does not serve %q (credential scope of the request)", c.service), "")
		return
	}
	c.op = svc.operation(r, body)
	ew := &eventWriter{ResponseWriter: w}
	sw := &statusWriter{ResponseWriter: ew}
	w = sw
	defer func() {
		e.record(c, r, body, sw.status, sw.errorCode())
		e.recordEvent(c, r, body, ew, sw.errorCode())
	}()
	if len(body) > maxBody {
		svc.writeError(w, r, c, errorf(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "request body larger than %d bytes", maxBody))
		return
	}

	if apiErr := e.admit(c, svc); apiErr != nil {
		if apiErr == errConnectionReset {
			resetConnection(w)
			return
		}
		svc.writeError(w, r, c, apiErr)
		return
	}
	svc.serve(e, w, r, c, body)
}

// admit counts the call, then authenticates it and applies faults and
// rate limits, in that order: a request AWS would refuse for its
// credentials never reaches a fault meant for valid callers.
func (e *Emulator) admit(c *call, svc *service) *apiError {
	e.mu.Lock()
	defer e.mu.Unlock()
	key := c.service + ":" + c.op
	e.calls[key]++
	if c.accessKey == "" {
		miss := svc.invalidKey
		miss.Code, miss.Message = "MissingAuthenticationToken", "Request is missing Authentication Token"
		if c.service == "cloudtrail" || c.service == "organizations" {
			miss.Code += "Exception"
		}
		if c.service == "s3" {
			miss.Code, miss.Message = "AccessDenied", "Access Denied"
		}
		return &miss
	}
	cred := e.keys[c.accessKey]
	if cred != nil {
		m := e.acctCalls[cred.account]
		if m == nil {
			m = map[string]int{}
			e.acctCalls[cred.account] = m
		}
		m[key]++
	}
	if err := e.authenticate(c, cred, svc); err != nil {
		return err
	}
	c.cred = cred
	if err := e.checkDeny(c); err != nil {
		return err
	}
	if err := e.checkPermission(c); err != nil {
		return err
	}
	if err := e.takeFault(c); err != nil {
		return err
	}
	if err := e.takeRandomFault(); err != nil {
		return err
	}
	if !e.takeToken(c) {
		t := svc.throttled
		return &t
	}
	return nil
}

// authenticate applies what AWS checks before any service logic: the key
// must exist, a temporary key must come with its session token and be
// unexpired, and the account must have the region enabled (in a region
// an account has not opted in to, its credentials are unknown, so AWS
// answers as it does to an invalid key).
func (e *Emulator) authenticate(c *call, cred *credential, svc *service) *apiError {
	invalid := svc.invalidKey
	if cred == nil {
		return &invalid
	}
	if cred.sessionToken != "" && c.token != cred.sessionToken {
		return &invalid
	}
	if cred.expired || (!cred.expires.IsZero() && !e.now().Before(cred.expires)) {
		exp := svc.expired
		return &exp
	}
	acct := e.accounts[cred.account]
	if acct == nil || !acct.regionEnabled(c.region) {
		return &invalid
	}
	return nil
}

// credentialScope reads access key, region and signing name from a SigV4
// Authorization header or presigned query (X-Amz-Credential). SigV4a
// scopes have no region; theirs comes from X-Amz-Region-Set.
func credentialScope(r *http.Request) (key, region, service string) {
	scope := ""
	if auth := r.Header.Get("Authorization"); auth != "" {
		if i := strings.Index(auth, "Credential="); i >= 0 {
			scope = auth[i+len("Credential="):]
			if j := strings.IndexAny(scope, ", "); j >= 0 {
				scope = scope[:j]
			}
		}
	} else {
		scope = r.URL.Query().Get("X-Amz-Credential")
	}
	parts := strings.Split(scope, "/")
	switch {
	case len(parts) >= 5: // AKID/DATE/REGION/SERVICE/aws4_request
		return parts[0], parts[2], parts[3]
	case len(parts) == 4: // SigV4a: AKID/DATE/SERVICE/aws4_request
		region = r.Header.Get("X-Amz-Region-Set")
		if region == "*" || strings.Contains(region, ",") {
			region = ""
		}
		return parts[0], region, parts[2]
	}
	return "", "", ""
}

// guessService picks the service of an unsigned request from its shape, so
// that even "missing authentication" errors come in the right protocol.
func guessService(r *http.Request, body []byte) string {
	target := r.Header.Get("X-Amz-Target")
	switch {
	case strings.HasPrefix(target, cloudTrailTargetPrefix):
		return "cloudtrail"
	case strings.HasPrefix(target, organizationsTargetPrefix):
		return "organizations"
	case strings.HasPrefix(target, kmsTargetPrefix):
		return "kms"
	case strings.HasPrefix(target, eventBridgeTargetPrefix):
		return "events"
	case strings.HasPrefix(target, configTargetPrefix):
		return "config"
	}
	action := r.URL.Query().Get("Action")
	if action == "" && r.Method == http.MethodPost {
		if v, err := url.ParseQuery(string(body)); err == nil {
			action = v.Get("Action")
		}
	}
	switch action {
	case "":
		return "s3"
	case "DescribeRegions":
		return "ec2"
	}
	return "sts"
}

func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	s := hex.EncodeToString(b[:])
	return s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}

// SetLatency makes every request wait d before it is handled, as a remote
// endpoint would; benchmarks use it to measure how well concurrency hides
// round trips.
func (e *Emulator) SetLatency(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.latency = d
}

func (e *Emulator) getLatency() time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.latency
}

// defaultPageSize is the page size of list operations that take no
// MaxResults (CloudTrail ListTrails) and the default of those that do.
const defaultPageSize = 50

// SetPageSize sets the page size of list operations (CloudTrail
// ListTrails; the default of Organizations ListAccounts), so that tests can
// exercise pagination with few items. n < 1 restores the default.
func (e *Emulator) SetPageSize(n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if n < 1 {
		n = defaultPageSize
	}
	e.pageSize = n
}

// Calls returns, for all accounts, how many requests the emulator received
// per "service:Operation" (e.g. "cloudtrail:DescribeTrails"), failed ones
// included: it is what AWS would bill against the API quotas.
func (e *Emulator) Calls() map[string]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return copyCounts(e.calls)
}

// AccountCalls is Calls restricted to requests made with one account's
// credentials.
func (e *Emulator) AccountCalls(account string) map[string]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return copyCounts(e.acctCalls[account])
}

// ResetCalls zeroes the call counters.
func (e *Emulator) ResetCalls() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls = map[string]int{}
	e.acctCalls = map[string]map[string]int{}
}

func copyCounts(m map[string]int) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
