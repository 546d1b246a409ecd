package awsemu

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"time"
)

// Fault makes matching requests fail with a given error instead of being
// served. Empty Account, Region, Service or Operation match anything.
// Code and Message are written in the service's own error shape, so the
// SDK decodes them as it would the real error (a modeled exception type
// when the code is one). HTTPStatus 0 means the status AWS answers the
// code with in the service's protocol (503 ServiceUnavailable and SlowDown,
// 500 InternalError, 403 AccessDenied in S3 and STS, 404 for S3's NoSuch…
// codes, else 400). Times 0 means every
// matching request; otherwise the fault is spent after Times requests.
type Fault struct {
	Account, Region, Service, Operation string
	Code, Message                       string
	HTTPStatus                          int
	Times                               int
}

type faultState struct {
	Fault
	left int // requests left; -1 for always
}

// InjectFault adds a fault. Faults apply to authenticated requests only
// (a bad key still gets the authentication error first) and are tried in
// the order they were injected.
func (e *Emulator) InjectFault(f Fault) {
	e.mu.Lock()
	defer e.mu.Unlock()
	left := f.Times
	if left <= 0 {
		left = -1
	}
	e.faults = append(e.faults, &faultState{Fault: f, left: left})
}

// ClearFaults removes every injected fault.
func (e *Emulator) ClearFaults() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = nil
}

// takeFault returns the error of the first fault matching c, spending one
// of its uses. Called with e.mu held.
func (e *Emulator) takeFault(c *call) *apiError {
	for i, f := range e.faults {
		if !matches(f.Account, c.account()) || !matches(f.Region, c.region) ||
			!matches(f.Service, c.service) || !matches(f.Operation, c.op) {
			continue
		}
		if f.left > 0 {
			f.left--
			if f.left == 0 {
				e.faults = append(e.faults[:i:i], e.faults[i+1:]...)
			}
		}
		status := f.HTTPStatus
		if status == 0 {
			status = faultStatus(c.service, f.Code)
		}
		msg := f.Message
		if msg == "" {
			msg = "injected fault: " + f.Code
		}
		return &apiError{Status: status, Code: f.Code, Message: msg, Receiver: status >= 500}
	}
	return nil
}

func matches(want, got string) bool { return want == "" || want == got }

// ParseFault reads a fault as the awsemu command takes it:
// OPERATION=CODE or SERVICE:OPERATION=CODE, e.g.
// GetBucketPolicy=ServiceUnavailable or kms:GetKeyPolicy=AccessDeniedException.
// The fault answers every matching request, with the HTTP status AWS
// gives the code (see Fault).
func ParseFault(s string) (Fault, error) {
	target, code, ok := strings.Cut(strings.TrimSpace(s), "=")
	if !ok || target == "" || code == "" {
		return Fault{}, fmt.Errorf("%q: want OPERATION=CODE, e.g. GetBucketPolicy=ServiceUnavailable", s)
	}
	var f Fault
	if svc, op, ok := strings.Cut(target, ":"); ok {
		if services[strings.ToLower(svc)] == nil {
			return Fault{}, fmt.Errorf("%q: the emulator serves no service %q", s, svc)
		}
		f.Service, target = strings.ToLower(svc), op
	}
	for _, part := range []string{target, code} {
		for i, r := range part {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || (i > 0 && r == '.')) {
				return Fault{}, fmt.Errorf("%q: %q is not an operation or error code name", s, part)
			}
		}
	}
	f.Operation, f.Code = target, code
	return f, nil
}

// rateLimit is a token bucket setting: perSecond tokens refill, up to
// burst.
type rateLimit struct {
	perSecond float64
	burst     float64
}

type tokenBucket struct {
	tokens float64
	last   time.Time
}

// SetRateLimit throttles a service (e.g. "cloudtrail") per account,
// region and operation, as AWS API quotas do (CloudTrail's are about 10
// requests per second for each describe/get operation): a token bucket of burst requests refilled
// at perSecond. A request finding the bucket empty gets the service's
// throttling error (CloudTrail ThrottlingException, STS Throttling, EC2
// RequestLimitExceeded, S3 SlowDown, Organizations
// TooManyRequestsException), which the SDKs retry with backoff.
// perSecond <= 0 removes the limit.
func (e *Emulator) SetRateLimit(service string, perSecond float64, burst int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if perSecond <= 0 {
		delete(e.limits, service)
		return
	}
	if burst < 1 {
		burst = 1
	}
	e.limits[service] = rateLimit{perSecond: perSecond, burst: float64(burst)}
	for k := range e.tokens {
		delete(e.tokens, k)
	}
}

// takeToken reports whether c may proceed under its service's rate limit.
// Called with e.mu held.
func (e *Emulator) takeToken(c *call) bool {
	lim, ok := e.limits[c.service]
	if !ok {
		return true
	}
	key := c.service + "/" + c.account() + "/" + c.region + "/" + c.op
	now := e.now()
	b := e.tokens[key]
	if b == nil {
		b = &tokenBucket{tokens: lim.burst, last: now}
		e.tokens[key] = b
	}
	b.tokens += now.Sub(b.last).Seconds() * lim.perSecond
	if b.tokens > lim.burst {
		b.tokens = lim.burst
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// FaultKind is a transient failure SetFaultRate injects at random.
type FaultKind int

const (
	// FaultServerError answers 500 InternalFailure in the service's error
	// shape.
	FaultServerError FaultKind = iota
	// FaultUnavailable answers 503 ServiceUnavailable.
	FaultUnavailable
	// FaultConnectionReset drops the connection without an answer (a TCP
	// reset), as a load balancer or a broken network path does.
	FaultConnectionReset
)

// randomFaults is the SetFaultRate setting.
type randomFaults struct {
	rate float64
	rng  *rand.Rand
}

// SetFaultRate makes each authenticated request fail, with probability
// rate, with a transient fault: 500, 503 or a connection reset, in equal
// parts. The draws come from a generator seeded with seed, so a run with
// the same requests in the same order fails the same ones (concurrent
// clients change the order, not the rate). rate <= 0 turns it off.
// Injected faults (InjectFault) are tried first.
func (e *Emulator) SetFaultRate(rate float64, seed uint64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if rate <= 0 {
		e.random = nil
		return
	}
	e.random = &randomFaults{rate: min(rate, 1), rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// errConnectionReset is the admit verdict that makes ServeHTTP drop the
// connection instead of answering.
var errConnectionReset = &apiError{Status: -1, Code: "ConnectionReset"}

// takeRandomFault draws one request's fate. Called with e.mu held.
func (e *Emulator) takeRandomFault() *apiError {
	if e.random == nil || e.random.rng.Float64() >= e.random.rate {
		return nil
	}
	e.faultsDrawn++
	switch FaultKind(e.random.rng.IntN(3)) {
	case FaultServerError:
		return &apiError{Status: http.StatusInternalServerError, Code: "InternalFailure",
			Message: "The request processing has failed because of an unknown error, exception or failure.", Receiver: true}
	case FaultUnavailable:
		return &apiError{Status: http.StatusServiceUnavailable, Code: "ServiceUnavailable",
			Message: "The request has failed due to a temporary failure of the server.", Receiver: true}
	}
	return errConnectionReset
}

// FaultsDrawn is how many requests SetFaultRate has failed so far.
func (e *Emulator) FaultsDrawn() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.faultsDrawn
}

// resetConnection drops the request's connection with a TCP reset. When
// the server cannot take the connection over (HTTP/2), it answers 502 so
// the client still sees a transport-level failure.
func resetConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		tcp.SetLinger(0) // close with RST, not FIN
	}
	conn.Close()
}
