package awsemu

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"
)

// EventBridge speaks AWS JSON 1.1 with the target prefix of its service
// model (events-2015-10-07, targetPrefix AWSEvents):
// X-Amz-Target: AWSEvents.PutRule. Only the default event bus is served.
const eventBridgeTargetPrefix = "AWSEvents."

var eventBridgeService = &service{
	operation: func(r *http.Request, _ []byte) string {
		return strings.TrimPrefix(r.Header.Get("X-Amz-Target"), eventBridgeTargetPrefix)
	},
	writeError: func(w http.ResponseWriter, r *http.Request, c *call, err *apiError) {
		writeJSONError(w, c.reqID, err)
	},
	serve:      (*Emulator).serveEventBridge,
	invalidKey: apiError{Status: http.StatusBadRequest, Code: "UnrecognizedClientException", Message: "The security token included in the request is invalid."},
	expired:    apiError{Status: http.StatusBadRequest, Code: "ExpiredTokenException", Message: "The security token included in the request is expired"},
	throttled:  apiError{Status: http.StatusBadRequest, Code: "ThrottlingException", Message: "Rate exceeded"},
}

// eventsState is what the event record, EventBridge and SNS keep.
type eventsState struct {
	log    eventLog
	rules  map[string]*ebRule // by rule ARN
	topics map[string]*snsTopic

	deliveries []Delivery
	pending    int // deliveries under way
}

type ebRule struct {
	account, region, name, arn string
	pattern                    string
	parsed                     *eventPattern
	state, description         string
	targets                    []ebTarget
}

type ebTarget struct {
	ID    string `json:"Id"`
	Arn   string `json:"Arn"`
	Input string `json:"Input,omitempty"`
}

// maxTargetsPerRule is EventBridge's quota of targets per rule.
const maxTargetsPerRule = 5

// maxDeliveries bounds the delivery outcomes kept for tests.
const maxDeliveries = 1000

var ebNamePattern = regexp.MustCompile(`^[\.\-_A-Za-z0-9]{1,64}$`)

// Delivery is the outcome of delivering one event to one target.
type Delivery struct {
	RuleARN, TargetID, TargetARN string
	// Event is the JSON delivered: the "AWS API Call via CloudTrail"
	// envelope, or the target's constant Input.
	Event []byte
	// Status is the HTTP status of a Lambda invocation (0 when none was
	// made); Err says why a delivery failed, "" on success.
	Status int
	Err    string
}

// Deliveries returns the delivery outcomes so far, after waiting for the
// deliveries under way to finish (up to ctx).
func (e *Emulator) Deliveries(ctx context.Context) []Delivery {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		e.mu.Lock()
		s := e.evState()
		if s.pending == 0 || ctx.Err() != nil {
			defer e.mu.Unlock()
			return append([]Delivery(nil), s.deliveries...)
		}
		e.mu.Unlock()
		select {
		case <-tick.C:
		case <-ctx.Done():
		}
	}
}

type deliveryJob struct {
	rule   string
	target ebTarget
	event  []byte
	url    string // Lambda invoke URL
}

// matchRules returns the deliveries an event causes: its "AWS API Call
// via CloudTrail" envelope to each target of each enabled rule of the
// account and region whose pattern matches. Called with e.mu held.
func (e *Emulator) matchRules(ev CloudTrailEvent, now time.Time) []deliveryJob {
	s := e.evState()
	if len(s.rules) == 0 {
		return nil
	}
	svc := strings.TrimSuffix(ev.EventSource, ".amazonaws.com")
	env := map[string]any{
		"version":     "0",
		"id":          newRequestID(),
		"detail-type": "AWS API Call via CloudTrail",
		"source":      "aws." + svc,
		"account":     ev.RecipientAccountID,
		"time":        now.Format(time.RFC3339),
		"region":      ev.AWSRegion,
		"resources":   []string{},
		"detail":      ev,
	}
	body, err := json.Marshal(env)
	if err != nil {
		return nil
	}
	arns := make([]string, 0, len(s.rules))
	for a := range s.rules {
		arns = append(arns, a)
	}
	sort.Strings(arns)
	var jobs []deliveryJob
	for _, a := range arns {
		r := s.rules[a]
		if r.account != ev.RecipientAccountID || r.region != ev.AWSRegion || r.state != "ENABLED" || !r.parsed.matchEvent(body) {
			continue
		}
		for _, t := range r.targets {
			j := deliveryJob{rule: r.arn, target: t, event: body}
			if t.Input != "" {
				j.event = []byte(t.Input)
			}
			if strings.HasPrefix(t.Arn, "arn:aws:lambda:") {
				j.url, _ = e.lambdaEndpoint(t.Arn) // lambda_endpoint.go
			}
			jobs = append(jobs, j)
		}
	}
	s.pending += len(jobs)
	return jobs
}

// deliver runs the deliveries in the background, as EventBridge does.
func (e *Emulator) deliver(jobs []deliveryJob) {
	for _, j := range jobs {
		go func(j deliveryJob) {
			d := Delivery{RuleARN: j.rule, TargetID: j.target.ID, TargetARN: j.target.Arn, Event: j.event}
			switch {
			case strings.HasPrefix(j.target.Arn, "arn:aws:lambda:"):
				if j.url == "" {
					d.Err = "no Lambda endpoint configured for " + j.target.Arn
					break
				}
				d.Status, d.Err = invokeLambda(j.url, j.event)
			case strings.HasPrefix(j.target.Arn, "arn:aws:sns:"):
				if err := e.publishEvent(j.target.Arn, string(j.event)); err != nil {
					d.Err = err.Error()
				}
			default:
				d.Err = "target type not emulated: " + j.target.Arn
			}
			e.mu.Lock()
			s := e.evState()
			s.deliveries = append(s.deliveries, d)
			if len(s.deliveries) > maxDeliveries {
				s.deliveries = append([]Delivery(nil), s.deliveries[len(s.deliveries)-maxDeliveries:]...)
			}
			s.pending--
			e.mu.Unlock()
		}(j)
	}
}

// invokeLambda POSTs the event to a runtime interface emulator, as an
// asynchronous invocation would hand it to the function.
func invokeLambda(url string, event []byte) (int, string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(event))
	if err != nil {
		return 0, fmt.Sprintf("invoke %s: %v", url, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Sprintf("invoke %s: %v", url, err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode >= 300 || resp.Header.Get("X-Amz-Function-Error") != "" {
		return resp.StatusCode, fmt.Sprintf("invoke %s: status %d %s", url, resp.StatusCode, resp.Header.Get("X-Amz-Function-Error"))
	}
	return resp.StatusCode, ""
}

func (e *Emulator) serveEventBridge(w http.ResponseWriter, r *http.Request, c *call, body []byte) {
	var (
		out any
		err *apiError
	)
	e.mu.Lock()
	switch c.op {
	case "PutRule":
		out, err = e.putRule(c, body)
	case "PutTargets":
		out, err = e.putTargets(c, body)
	case "ListRules":
		out, err = e.listRules(c, body)
	case "ListTargetsByRule":
		out, err = e.listTargetsByRule(c, body)
	case "RemoveTargets":
		out, err = e.removeTargets(c, body)
	case "DeleteRule":
		out, err = e.deleteRule(c, body)
	default:
		err = errorf(http.StatusBadRequest, "UnknownOperationException", "Unknown operation %s", c.op)
	}
	e.mu.Unlock()
	if err != nil {
		writeJSONError(w, c.reqID, err)
		return
	}
	writeJSON(w, c.reqID, out)
}

func ebRuleARN(account, region, name string) string {
	return "arn:aws:events:" + region + ":" + account + ":rule/" + name
}

// checkBus accepts only the default bus, the one AWS services send to.
func checkBus(bus string) *apiError {
	if bus != "" && bus != "default" && !strings.HasSuffix(bus, ":event-bus/default") {
		return errorf(http.StatusBadRequest, "ResourceNotFoundException", "Event bus %s does not exist.", bus)
	}
	return nil
}

func (e *Emulator) findRule(c *call, name, bus string) (*ebRule, *apiError) {
	if name == "" {
		return nil, required("rule")
	}
	if err := checkBus(bus); err != nil {
		return nil, err
	}
	r := e.evState().rules[ebRuleARN(c.account(), c.region, name)]
	if r == nil {
		return nil, errorf(http.StatusBadRequest, "ResourceNotFoundException", "Rule %s does not exist on EventBus default.", name)
	}
	return r, nil
}

func (e *Emulator) putRule(c *call, body []byte) (any, *apiError) {
	var in struct {
		Name, EventPattern, ScheduleExpression, State, Description, EventBusName, RoleArn string
	}
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	if in.Name == "" {
		return nil, required("name")
	}
	if !ebNamePattern.MatchString(in.Name) {
		return nil, validationError("Value '%s' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+", in.Name)
	}
	if err := checkBus(in.EventBusName); err != nil {
		return nil, err
	}
	if in.EventPattern == "" {
		if in.ScheduleExpression != "" {
			return nil, errorf(http.StatusBadRequest, "ValidationException", "ScheduleExpression is not supported by this emulator.")
		}
		return nil, errorf(http.StatusBadRequest, "ValidationException", "Parameter(s) EventPattern or ScheduleExpression must be specified.")
	}
	p, perr := parseEventPattern(in.EventPattern)
	if perr != nil {
		return nil, errorf(http.StatusBadRequest, "InvalidEventPatternException", "Event pattern is not valid. Reason: %v", perr)
	}
	switch in.State {
	case "":
		in.State = "ENABLED"
	case "ENABLED", "DISABLED":
	default:
		return nil, validationError("Value '%s' at 'state' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED]", in.State)
	}
	s := e.evState()
	arn := ebRuleARN(c.account(), c.region, in.Name)
	r := s.rules[arn]
	if r == nil {
		r = &ebRule{account: c.account(), region: c.region, name: in.Name, arn: arn}
		s.rules[arn] = r
	}
	r.pattern, r.parsed, r.state, r.description = in.EventPattern, p, in.State, in.Description
	return map[string]string{"RuleArn": arn}, nil
}

type failedEntry struct {
	TargetId, ErrorCode, ErrorMessage string
}

func (e *Emulator) putTargets(c *call, body []byte) (any, *apiError) {
	var in struct {
		Rule, EventBusName string
		Targets            []ebTarget
	}
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	if in.Targets == nil {
		return nil, required("targets")
	}
	if len(in.Targets) < 1 || len(in.Targets) > 100 {
		return nil, validationError("Value at 'targets' failed to satisfy constraint: Member must have length less than or equal to 100")
	}
	r, err := e.findRule(c, in.Rule, in.EventBusName)
	if err != nil {
		return nil, err
	}
	failed := []failedEntry{}
	for _, t := range in.Targets {
		if !ebNamePattern.MatchString(t.ID) {
			return nil, validationError("Value '%s' at 'targets.member.id' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+", t.ID)
		}
		if t.Arn == "" {
			return nil, required("targets.member.arn")
		}
		if len(t.Input) > 8192 {
			return nil, validationError("Value at 'targets.member.input' failed to satisfy constraint: Member must have length less than or equal to 8192")
		}
		if t.Input != "" && !json.Valid([]byte(t.Input)) {
			return nil, errorf(http.StatusBadRequest, "ValidationException", "Input is not valid JSON.")
		}
		i := indexTarget(r.targets, t.ID)
		switch {
		case i >= 0:
			r.targets[i] = t
		case len(r.targets) >= maxTargetsPerRule:
			return nil, errorf(http.StatusBadRequest, "LimitExceededException", "The requested resource exceeds the maximum number allowed.")
		default:
			r.targets = append(r.targets, t)
		}
	}
	return map[string]any{"FailedEntryCount": len(failed), "FailedEntries": failed}, nil
}

func indexTarget(ts []ebTarget, id string) int {
	for i, t := range ts {
		if t.ID == id {
			return i
		}
	}
	return -1
}

func (e *Emulator) listRules(c *call, body []byte) (any, *apiError) {
	var in struct {
		NamePrefix, EventBusName string
	}
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	if err := checkBus(in.EventBusName); err != nil {
		return nil, err
	}
	type rule struct {
		Name, Arn, EventPattern, State, EventBusName string
		Description                                  string `json:",omitempty"`
	}
	rules := []rule{}
	for _, r := range e.evState().rules {
		if r.account == c.account() && r.region == c.region && strings.HasPrefix(r.name, in.NamePrefix) {
			rules = append(rules, rule{r.name, r.arn, r.pattern, r.state, "default", r.description})
		}
	}
	sort.Slice(rules, func(i, j int) bool { return rules[i].Name < rules[j].Name })
	return map[string]any{"Rules": rules}, nil
}

func (e *Emulator) listTargetsByRule(c *call, body []byte) (any, *apiError) {
	var in struct{ Rule, EventBusName string }
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	r, err := e.findRule(c, in.Rule, in.EventBusName)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Targets": append([]ebTarget{}, r.targets...)}, nil
}

func (e *Emulator) removeTargets(c *call, body []byte) (any, *apiError) {
	var in struct {
		Rule, EventBusName string
		Ids                []string
	}
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	if len(in.Ids) == 0 {
		return nil, required("ids")
	}
	r, err := e.findRule(c, in.Rule, in.EventBusName)
	if err != nil {
		return nil, err
	}
	failed := []failedEntry{}
	for _, id := range in.Ids {
		i := indexTarget(r.targets, id)
		if i < 0 {
			failed = append(failed, failedEntry{id, "ResourceNotFoundException", "Target " + id + " does not exist."})
			continue
		}
		r.targets = append(r.targets[:i], r.targets[i+1:]...)
	}
	return map[string]any{"FailedEntryCount": len(failed), "FailedEntries": failed}, nil
}

// deleteRule refuses a rule that still has targets, as EventBridge does.
func (e *Emulator) deleteRule(c *call, body []byte) (any, *apiError) {
	var in struct{ Name, EventBusName string }
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	if in.Name == "" {
		return nil, required("name")
	}
	if err := checkBus(in.EventBusName); err != nil {
		return nil, err
	}
	s := e.evState()
	arn := ebRuleARN(c.account(), c.region, in.Name)
	r := s.rules[arn]
	if r == nil {
		return map[string]any{}, nil // deleting a missing rule succeeds
	}
	if len(r.targets) > 0 {
		return nil, errorf(http.StatusBadRequest, "ValidationException", "Rule can't be deleted since it has targets.")
	}
	delete(s.rules, arn)
	return map[string]any{}, nil
}
