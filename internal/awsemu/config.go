package awsemu

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// configTargetPrefix is the JSON 1.1 target prefix of the AWS Config API
// (botocore model config-2014-11-12, signing name "config").
const configTargetPrefix = "StarlingDoveService."

// AWS Config serves custom Lambda rules: a rule names its function; an
// evaluation (StartConfigRulesEvaluation or the periodic schedule) invokes
// the function with the event AWS Config sends and a result token; the
// function reports back with PutEvaluations, and the compliance calls read
// what it reported.
var configService = &service{
	operation: func(r *http.Request, _ []byte) string {
		op, _ := strings.CutPrefix(r.Header.Get("X-Amz-Target"), configTargetPrefix)
		return op
	},
	writeError: func(w http.ResponseWriter, r *http.Request, c *call, err *apiError) {
		writeJSONError(w, c.reqID, err)
	},
	serve:      (*Emulator).serveConfig,
	invalidKey: apiError{Status: http.StatusBadRequest, Code: "UnrecognizedClientException", Message: "The security token included in the request is invalid."},
	expired:    apiError{Status: http.StatusBadRequest, Code: "ExpiredTokenException", Message: "The security token included in the request is expired"},
	throttled:  apiError{Status: http.StatusBadRequest, Code: "ThrottlingException", Message: "Rate exceeded"},
}

// Limits from the AWS Config API reference.
const (
	maxEvaluationsPerPut = 100 // PutEvaluations: Evaluations, 0 to 100 items
	maxAnnotation        = 256 // Evaluation.Annotation
	maxResourceID        = 768 // Evaluation.ComplianceResourceId
	maxResourceType      = 256 // Evaluation.ComplianceResourceType
	maxRuleName          = 128 // ConfigRuleName
	maxInputParameters   = 1024
	configInvokeTimeout  = 2 * time.Minute
)

var (
	configFrequencies  = map[string]bool{"One_Hour": true, "Three_Hours": true, "Six_Hours": true, "Twelve_Hours": true, "TwentyFour_Hours": true}
	configMessageTypes = map[string]bool{"ConfigurationItemChangeNotification": true, "ConfigurationSnapshotDeliveryCompleted": true,
		"ScheduledNotification": true, "OversizedConfigurationItemChangeNotification": true}
	evaluationTypes = map[string]bool{"COMPLIANT": true, "NON_COMPLIANT": true, "NOT_APPLICABLE": true}
)

// configState is AWS Config's state in one emulator. It has its own lock:
// invoking a rule's function calls back into the emulator (PutEvaluations)
// while the evaluation is still running.
type configState struct {
	mu     sync.Mutex
	rules  map[string]*configRule // account/region/name
	tokens map[string]issuedToken // by result token
	seq    int
	// invocations: what each function invocation answered, for tests.
	invocations []ConfigInvocation
	// pending counts the invocations in flight by rule key; settled is
	// signalled (on mu) whenever one ends.
	pending map[string]int
	settled *sync.Cond
	// orgRules are the organization rules by management account/region/
	// name; orgSLR the accounts where the service-linked role
	// AWSServiceRoleForConfigMultiAccountSetup exists (config_org.go).
	orgRules map[string]*orgConfigRule
	orgSLR   map[string]bool
}

// issuedToken is what a result token stands for: the rule it was issued
// for and when that rule's function was invoked with it.
type issuedToken struct {
	rule    string // account/region/name
	invoked time.Time
}

// Bounds on what the emulator keeps, so that a long-running schedule or a
// hostile client cannot grow it without end.
const (
	maxConfigRules     = 1000 // AWS Config's default quota per account and region
	maxTokensPerRule   = 64   // older tokens of a rule stop being accepted
	maxInvocationsKept = 1000 // ConfigInvocations keeps the latest
)

type configSourceDetail struct {
	EventSource               string `json:",omitempty"`
	MessageType               string `json:",omitempty"`
	MaximumExecutionFrequency string `json:",omitempty"`
}

type configRuleJSON struct {
	ConfigRuleName            string        `json:",omitempty"`
	ConfigRuleArn             string        `json:",omitempty"`
	ConfigRuleId              string        `json:",omitempty"`
	Description               string        `json:",omitempty"`
	Scope                     *configScope  `json:",omitempty"`
	Source                    *configSource `json:",omitempty"`
	InputParameters           string        `json:",omitempty"`
	MaximumExecutionFrequency string        `json:",omitempty"`
	ConfigRuleState           string        `json:",omitempty"`
	// CreatedBy names the service that owns the rule
	// (config-multiaccountsetup.amazonaws.com for the member rules of an
	// organization rule); set by AWS Config, never by the caller.
	CreatedBy string `json:",omitempty"`
}

type configScope struct {
	ComplianceResourceTypes []string `json:",omitempty"`
	TagKey                  string   `json:",omitempty"`
	TagValue                string   `json:",omitempty"`
	ComplianceResourceId    string   `json:",omitempty"`
}

type configSource struct {
	Owner            string
	SourceIdentifier string               `json:",omitempty"`
	SourceDetails    []configSourceDetail `json:",omitempty"`
}

type configEvaluation struct {
	resourceType, resourceID, compliance, annotation string
	ordering, recorded, invoked                      time.Time
	token                                            string
}

type configRule struct {
	spec            configRuleJSON
	account, region string
	evaluations     map[string]*configEvaluation // resourceType/resourceID
	tokens          []string                     // issued, oldest first
}

func (r *configRule) key() string { return r.account + "/" + r.region + "/" + r.spec.ConfigRuleName }

// periodic is whether the rule runs on a schedule.
func (r *configRule) periodic() bool {
	for _, d := range r.spec.Source.SourceDetails {
		if d.MessageType == "ScheduledNotification" {
			return true
		}
	}
	return false
}

// ConfigInvocation is one invocation of a rule's function: the event sent
// and the HTTP status (0 with Err set when it could not be delivered).
type ConfigInvocation struct {
	Rule, FunctionARN string
	Event             []byte
	Status            int
	Err               string
}

// configState is this emulator's AWS Config state, with a lock of its
// own so that invoking a function never holds the emulator's.
func (e *Emulator) configState() *configState {
	e.sideOnce.Do(e.initSide)
	return e.config
}

type configEvaluationIn struct {
	ComplianceResourceType *string
	ComplianceResourceId   *string
	ComplianceType         *string
	Annotation             *string
	OrderingTimestamp      *float64
}

func (e *Emulator) serveConfig(w http.ResponseWriter, r *http.Request, c *call, body []byte) {
	if strings.Contains(c.op, "OrganizationConfigRule") {
		e.serveConfigOrg(w, c, body)
		return
	}
	var in struct {
		ConfigRule      *configRuleJSON
		ConfigRuleName  *string
		ConfigRuleNames []string
		ComplianceTypes []string
		Evaluations     []configEvaluationIn
		ResultToken     *string
		TestMode        *bool
		Limit           *int
		NextToken       *string
	}
	if err := decodeJSON(body, &in); err != nil {
		writeJSONError(w, c.reqID, err)
		return
	}
	s := e.configState()
	s.mu.Lock()
	e.syncOrgRules(s)
	s.mu.Unlock()
	var out any
	var err *apiError
	switch c.op {
	case "PutConfigRule":
		out, err = e.putConfigRule(s, c, in.ConfigRule)
	case "DescribeConfigRules":
		out, err = s.describeConfigRules(c, in.ConfigRuleNames, in.NextToken)
	case "DeleteConfigRule":
		out, err = s.deleteConfigRule(c, in.ConfigRuleName)
	case "StartConfigRulesEvaluation":
		out, err = e.startConfigRulesEvaluation(s, c, in.ConfigRuleNames)
	case "PutEvaluations":
		out, err = e.putEvaluations(s, c, in.Evaluations, in.ResultToken, in.TestMode != nil && *in.TestMode)
	case "GetComplianceDetailsByConfigRule":
		out, err = s.complianceDetails(c, in.ConfigRuleName, in.ComplianceTypes, in.Limit, in.NextToken)
	case "DescribeComplianceByConfigRule":
		out, err = s.complianceByRule(c, in.ConfigRuleNames, in.ComplianceTypes, in.NextToken)
	default:
		err = errorf(http.StatusBadRequest, "UnknownOperationException", "unknown operation %q", c.op)
	}
	if err != nil {
		writeJSONError(w, c.reqID, err)
		return
	}
	writeJSON(w, c.reqID, out)
}

func invalidParameter(format string, args ...any) *apiError {
	return errorf(http.StatusBadRequest, "InvalidParameterValueException", format, args...)
}

func noSuchRule(name string) *apiError {
	return errorf(http.StatusBadRequest, "NoSuchConfigRuleException", "The ConfigRule '%s' provided in the request is invalid. Please check the configRule name.", name)
}

func (e *Emulator) putConfigRule(s *configState, c *call, in *configRuleJSON) (any, *apiError) {
	if in == nil {
		return nil, required("configRule")
	}
	if in.Source == nil {
		return nil, required("configRule.source")
	}
	name := in.ConfigRuleName
	switch {
	case name == "" && in.ConfigRuleArn == "" && in.ConfigRuleId == "":
		return nil, invalidParameter("The ConfigRule must have a name, an ARN or an ID.")
	case len(name) > maxRuleName:
		return nil, validationError("Value '%s' at 'configRule.configRuleName' failed to satisfy constraint: Member must have length less than or equal to %d", name, maxRuleName)
	}
	src := in.Source
	if src.Owner != "CUSTOM_LAMBDA" {
		// The emulator plays only custom Lambda rules; a managed or policy
		// rule would be evaluated by AWS itself, which it cannot do.
		return nil, invalidParameter("The emulator supports only Source.Owner CUSTOM_LAMBDA, not %q.", src.Owner)
	}
	if !strings.HasPrefix(src.SourceIdentifier, "arn:aws:lambda:") || !strings.Contains(src.SourceIdentifier, ":function:") {
		return nil, invalidParameter("The sourceIdentifier %s is invalid. Please refer to the documentation for a list of valid sourceIdentifiers that can be used when AWS is the Owner.", src.SourceIdentifier)
	}
	if len(src.SourceDetails) == 0 {
		return nil, invalidParameter("SourceDetails should be provided for a custom rule.")
	}
	for _, d := range src.SourceDetails {
		if d.EventSource != "" && d.EventSource != "aws.config" {
			return nil, validationError("Value '%s' at 'configRule.source.sourceDetails.member.eventSource' failed to satisfy constraint: Member must satisfy enum value set: [aws.config]", d.EventSource)
		}
		if !configMessageTypes[d.MessageType] {
			return nil, validationError("Value '%s' at 'configRule.source.sourceDetails.member.messageType' failed to satisfy constraint: Member must satisfy enum value set: [ConfigurationItemChangeNotification, ConfigurationSnapshotDeliveryCompleted, ScheduledNotification, OversizedConfigurationItemChangeNotification]", d.MessageType)
		}
		if d.MaximumExecutionFrequency != "" && !configFrequencies[d.MaximumExecutionFrequency] {
			return nil, validationError("Value '%s' at 'configRule.source.sourceDetails.member.maximumExecutionFrequency' failed to satisfy constraint: Member must satisfy enum value set: [One_Hour, Six_Hours, Three_Hours, Twelve_Hours, TwentyFour_Hours]", d.MaximumExecutionFrequency)
		}
	}
	if in.MaximumExecutionFrequency != "" && !configFrequencies[in.MaximumExecutionFrequency] {
		return nil, validationError("Value '%s' at 'configRule.maximumExecutionFrequency' failed to satisfy constraint: Member must satisfy enum value set: [One_Hour, Six_Hours, Three_Hours, Twelve_Hours, TwentyFour_Hours]", in.MaximumExecutionFrequency)
	}
	if in.InputParameters != "" {
		if len(in.InputParameters) > maxInputParameters {
			return nil, validationError("Value at 'configRule.inputParameters' failed to satisfy constraint: Member must have length less than or equal to %d", maxInputParameters)
		}
		var obj map[string]any
		if json.Unmarshal([]byte(in.InputParameters), &obj) != nil {
			return nil, invalidParameter("Blank spaces are not acceptable for input parameter: %s.", in.InputParameters)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	existing := s.findRule(c, name, in.ConfigRuleArn, in.ConfigRuleId)
	if existing == nil && name == "" {
		return nil, noSuchRule(in.ConfigRuleArn + in.ConfigRuleId)
	}
	spec := *in
	spec.CreatedBy = ""
	if existing != nil {
		if existing.spec.CreatedBy != "" {
			return nil, serviceOwned()
		}
		// An update keeps the rule's identity, as AWS does.
		spec.ConfigRuleName, spec.ConfigRuleArn, spec.ConfigRuleId = existing.spec.ConfigRuleName, existing.spec.ConfigRuleArn, existing.spec.ConfigRuleId
		spec.ConfigRuleState = "ACTIVE"
		existing.spec = spec
		return struct{}{}, nil
	}
	if in.ConfigRuleArn != "" || in.ConfigRuleId != "" {
		return nil, invalidParameter("ConfigRuleArn and ConfigRuleId are set by AWS Config; leave them out when creating a rule.")
	}
	n := 0
	for _, r := range s.rules {
		if r.account == c.account() && r.region == c.region {
			n++
		}
	}
	if n >= maxConfigRules {
		return nil, errorf(http.StatusBadRequest, "MaxNumberOfConfigRulesExceededException", "Failed to put config rule because the maximum number of config rules: %d is reached.", maxConfigRules)
	}
	id := "config-rule-" + strings.ToLower(randomID(6))
	spec.ConfigRuleId = id
	spec.ConfigRuleArn = fmt.Sprintf("arn:aws:config:%s:%s:config-rule/%s", c.region, c.account(), id)
	spec.ConfigRuleState = "ACTIVE"
	rule := &configRule{spec: spec, account: c.account(), region: c.region, evaluations: map[string]*configEvaluation{}}
	s.rules[rule.key()] = rule
	return struct{}{}, nil
}

// findRule finds the caller's rule by name, ARN or ID. Called with s.mu held.
func (s *configState) findRule(c *call, name, arn, id string) *configRule {
	if name != "" {
		return s.rules[c.account()+"/"+c.region+"/"+name]
	}
	for _, r := range s.rules {
		if r.account == c.account() && r.region == c.region && ((arn != "" && r.spec.ConfigRuleArn == arn) || (id != "" && r.spec.ConfigRuleId == id)) {
			return r
		}
	}
	return nil
}

// callerRules are the caller's rules in the region, by name, or the named
// ones (NoSuchConfigRuleException for a name that does not exist).
// Called with s.mu held.
func (s *configState) callerRules(c *call, names []string) ([]*configRule, *apiError) {
	var list []*configRule
	if len(names) == 0 {
		for _, r := range s.rules {
			if r.account == c.account() && r.region == c.region {
				list = append(list, r)
			}
		}
		sort.Slice(list, func(i, j int) bool { return list[i].spec.ConfigRuleName < list[j].spec.ConfigRuleName })
		return list, nil
	}
	for _, n := range names {
		r := s.findRule(c, n, "", "")
		if r == nil {
			return nil, noSuchRule(n)
		}
		list = append(list, r)
	}
	return list, nil
}

func (s *configState) describeConfigRules(c *call, names []string, next *string) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rules, err := s.callerRules(c, names)
	if err != nil {
		return nil, err
	}
	page, nextTok, err := configPage(rules, next, 25)
	if err != nil {
		return nil, err
	}
	out := []configRuleJSON{}
	for _, r := range page {
		out = append(out, r.spec)
	}
	return map[string]any{"ConfigRules": out, "NextToken": nextTok}, nil
}

func (s *configState) deleteConfigRule(c *call, name *string) (any, *apiError) {
	if name == nil || *name == "" {
		return nil, required("configRuleName")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.findRule(c, *name, "", "")
	if r == nil {
		return nil, noSuchRule(*name)
	}
	if r.spec.CreatedBy != "" {
		return nil, serviceOwned()
	}
	s.removeRule(r.key())
	return struct{}{}, nil
}

// serviceOwned is AWS Config's refusal to change a rule a service
// created, such as the member rule of an organization rule: only the
// organization rule's owner changes it, through the organization API.
func serviceOwned() *apiError {
	return errorf(http.StatusBadRequest, "AccessDeniedException", "An AWS service owns ServiceLinkedConfigRule. You do not have permissions to take action on this rule.")
}

// configPage cuts one page of rules; the token carries an offset.
func configPage[T any](list []T, next *string, size int) ([]T, *string, *apiError) {
	off, err := decodeToken(next, len(list))
	if err != nil {
		return nil, nil, invalidNextToken(next)
	}
	end := min(off+size, len(list))
	var tok *string
	if end < len(list) {
		t := encodeToken(end)
		tok = &t
	}
	return list[off:end], tok, nil
}

func invalidNextToken(*string) *apiError {
	return errorf(http.StatusBadRequest, "InvalidNextTokenException", "The nextToken provided is invalid")
}

// configInvocation is one event to deliver to one function.
type configInvocation struct {
	rule, function string
	event          []byte
}

func (e *Emulator) startConfigRulesEvaluation(s *configState, c *call, names []string) (any, *apiError) {
	if len(names) > 25 {
		return nil, validationError("Value at 'configRuleNames' failed to satisfy constraint: Member must have length less than or equal to 25")
	}
	s.mu.Lock()
	rules, err := s.callerRules(c, names)
	var invs []configInvocation
	if err == nil {
		for _, r := range rules {
			invs = append(invs, e.ruleEvents(s, r)...)
		}
	}
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	// As on AWS, the call returns before the function runs: a function
	// that asks for a re-evaluation from inside an invocation (its
	// real-time path) must not wait for itself, and a runtime that serves
	// one invocation at a time could not answer. The compliance reads wait
	// for invocations in flight instead (see settle).
	go e.invokeConfig(s, invs)
	return struct{}{}, nil
}

// RunConfigSchedule fires every periodic rule of every account once, as
// AWS Config's schedule would, and returns when every function has
// answered; tests call it instead of waiting for the schedule.
func (e *Emulator) RunConfigSchedule() {
	s := e.configState()
	s.mu.Lock()
	e.syncOrgRules(s)
	var rules []*configRule
	for _, r := range s.rules {
		if r.periodic() {
			rules = append(rules, r)
		}
	}
	sort.Slice(rules, func(i, j int) bool { return rules[i].key() < rules[j].key() })
	var invs []configInvocation
	for _, r := range rules {
		invs = append(invs, e.configEvent(s, r, "ScheduledNotification"))
	}
	s.mu.Unlock()
	e.invokeConfig(s, invs)
}

// ConfigInvocations are the function invocations made so far, once those
// in flight have ended.
func (e *Emulator) ConfigInvocations() []ConfigInvocation {
	s := e.configState()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settle(func(string) bool { return true })
	return append([]ConfigInvocation(nil), s.invocations...)
}

// settle waits until no invocation of a rule that match selects is in
// flight, so that a read right after StartConfigRulesEvaluation sees what
// the function reported. AWS gives no such promise, but its evaluations
// take minutes; here they take milliseconds, and tests (the AWS CLI ones
// included) read at once. Each invocation is bounded by
// configInvokeTimeout, so the wait is too. Called with s.mu held.
func (s *configState) settle(match func(rule string) bool) {
	for {
		busy := false
		for k, n := range s.pending {
			if n > 0 && match(k) {
				busy = true
			}
		}
		if !busy {
			return
		}
		s.settled.Wait()
	}
}

// ruleEvents are the events one evaluation of a rule sends: the scheduled
// notification of a periodic rule, and for a change-triggered rule one
// configuration item change notification per resource in its scope. The
// emulator records CloudTrail trails only, so those are the resources a
// change-triggered rule sees. Called with s.mu held.
func (e *Emulator) ruleEvents(s *configState, r *configRule) []configInvocation {
	var invs []configInvocation
	if r.periodic() {
		invs = append(invs, e.configEvent(s, r, "ScheduledNotification"))
	}
	changes := false
	for _, d := range r.spec.Source.SourceDetails {
		changes = changes || d.MessageType == "ConfigurationItemChangeNotification" || d.MessageType == "OversizedConfigurationItemChangeNotification"
	}
	if !changes || !r.inScope("AWS::CloudTrail::Trail") {
		return invs
	}
	for _, item := range e.trailConfigurationItems(r.account, r.region) {
		invs = append(invs, e.configEventWith(s, r, "ConfigurationItemChangeNotification", map[string]any{"configurationItem": item, "configurationItemDiff": nil}))
	}
	return invs
}

// inScope is whether the rule's scope takes resources of this type.
func (r *configRule) inScope(resourceType string) bool {
	if r.spec.Scope == nil || len(r.spec.Scope.ComplianceResourceTypes) == 0 {
		return true
	}
	for _, t := range r.spec.Scope.ComplianceResourceTypes {
		if t == resourceType {
			return true
		}
	}
	return false
}

// trailConfigurationItems are the configuration items AWS Config records
// for the trails whose home is this account and region.
func (e *Emulator) trailConfigurationItems(account, region string) []map[string]any {
	e.mu.Lock()
	defer e.mu.Unlock()
	var trails []*trail
	for _, t := range e.trails {
		if t.account == account && t.home == region {
			trails = append(trails, t)
		}
	}
	sort.Slice(trails, func(i, j int) bool { return trails[i].arn < trails[j].arn })
	now := e.now().UTC().Format("2006-01-02T15:04:05.000Z")
	var items []map[string]any
	for _, t := range trails {
		items = append(items, map[string]any{
			"configurationItemVersion":     "1.3",
			"configurationItemCaptureTime": now,
			"configurationItemStatus":      "OK",
			"configurationStateId":         e.now().UnixMilli(),
			"awsAccountId":                 account,
			"resourceType":                 "AWS::CloudTrail::Trail",
			"resourceId":                   t.name,
			"resourceName":                 t.name,
			"ARN":                          t.arn,
			"awsRegion":                    region,
			"availabilityZone":             "Not Applicable",
			"configuration": map[string]any{
				"name": t.name, "trailARN": t.arn, "homeRegion": t.home, "s3BucketName": t.bucket,
				"isMultiRegionTrail": t.multiRegion, "isOrganizationTrail": t.org,
				"includeGlobalServiceEvents": t.globalEvents, "logFileValidationEnabled": t.validation,
				"hasCustomEventSelectors": t.custom,
			},
			"supplementaryConfiguration": map[string]any{},
			"tags":                       map[string]any{},
			"relationships":              []any{},
		})
	}
	return items
}

// configEvent builds the event AWS Config sends to a custom rule's
// function ("Example Events for AWS Config Rules" in the AWS Config
// Developer Guide) and issues its result token. Called with s.mu held.
func (e *Emulator) configEvent(s *configState, r *configRule, messageType string) configInvocation {
	return e.configEventWith(s, r, messageType, nil)
}

// configEventWith builds an event whose invoking event carries extra
// members (the configuration item of a change notification).
func (e *Emulator) configEventWith(s *configState, r *configRule, messageType string, extra map[string]any) configInvocation {
	now := e.now().UTC()
	s.seq++
	token := fmt.Sprintf("%s%d", randomID(40), s.seq)
	s.tokens[token] = issuedToken{rule: r.key(), invoked: now}
	r.tokens = append(r.tokens, token)
	if len(r.tokens) > maxTokensPerRule {
		delete(s.tokens, r.tokens[0])
		r.tokens = r.tokens[1:]
	}
	ie := map[string]any{
		"awsAccountId":             r.account,
		"notificationCreationTime": now.Format("2006-01-02T15:04:05.000Z"),
		"messageType":              messageType,
		"recordVersion":            "1.0",
	}
	if extra != nil {
		delete(ie, "awsAccountId")
		ie["recordVersion"] = "1.3"
		for k, v := range extra {
			ie[k] = v
		}
	}
	invoking, _ := json.Marshal(ie)
	params := r.spec.InputParameters
	if params == "" {
		params = "{}" // what AWS sends for a rule without parameters
	}
	event, _ := json.Marshal(map[string]any{
		"version":          "1.0",
		"invokingEvent":    string(invoking),
		"ruleParameters":   params,
		"resultToken":      token,
		"eventLeftScope":   false,
		"executionRoleArn": fmt.Sprintf("arn:aws:iam::%s:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig", r.account),
		"configRuleArn":    r.spec.ConfigRuleArn,
		"configRuleName":   r.spec.ConfigRuleName,
		"configRuleId":     r.spec.ConfigRuleId,
		"accountId":        r.account,
	})
	s.pending[r.key()]++
	return configInvocation{rule: r.key(), function: r.spec.Source.SourceIdentifier, event: event}
}

// invokeConfig delivers each event to its function's endpoint, one after
// the other, and notes what each answered. A function without an endpoint
// is noted as not delivered: AWS would report the failed invocation in the
// rule's evaluation status, and no compliance is stored.
func (e *Emulator) invokeConfig(s *configState, invs []configInvocation) {
	for _, inv := range invs {
		rec := ConfigInvocation{Rule: inv.rule, FunctionARN: inv.function, Event: inv.event}
		if url, ok := e.lambdaEndpoint(inv.function); !ok {
			rec.Err = "no invoke endpoint for " + inv.function
		} else {
			rec.Status, rec.Err = postEvent(url, inv.event)
		}
		s.mu.Lock()
		if s.pending[inv.rule]--; s.pending[inv.rule] <= 0 {
			delete(s.pending, inv.rule)
		}
		s.settled.Broadcast()
		s.invocations = append(s.invocations, rec)
		if len(s.invocations) > maxInvocationsKept {
			s.invocations = s.invocations[len(s.invocations)-maxInvocationsKept:]
		}
		s.mu.Unlock()
	}
}

func postEvent(url string, event []byte) (int, string) {
	ctx, cancel := context.WithTimeout(context.Background(), configInvokeTimeout)
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
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode >= 300 {
		return resp.StatusCode, fmt.Sprintf("invoke %s: HTTP %d", url, resp.StatusCode)
	}
	// A function that failed answers 200 with an error document (the
	// runtime interface emulator does not always set X-Amz-Function-Error).
	var fnErr struct{ ErrorType, ErrorMessage string }
	if resp.Header.Get("X-Amz-Function-Error") != "" || (json.Unmarshal(body, &fnErr) == nil && fnErr.ErrorType != "") {
		return resp.StatusCode, fmt.Sprintf("function error %s: %s", fnErr.ErrorType, fnErr.ErrorMessage)
	}
	return resp.StatusCode, ""
}

func (e *Emulator) putEvaluations(s *configState, c *call, in []configEvaluationIn, token *string, testMode bool) (any, *apiError) {
	if token == nil {
		return nil, required("resultToken")
	}
	if len(in) > maxEvaluationsPerPut {
		return nil, validationError("Value at 'evaluations' failed to satisfy constraint: Member must have length less than or equal to %d", maxEvaluationsPerPut)
	}
	now := e.now().UTC()
	evs := make([]*configEvaluation, 0, len(in))
	for i, ev := range in {
		member := fmt.Sprintf("evaluations.%d.member", i+1)
		switch {
		case ev.ComplianceResourceType == nil:
			return nil, required(member + ".complianceResourceType")
		case ev.ComplianceResourceId == nil:
			return nil, required(member + ".complianceResourceId")
		case ev.ComplianceType == nil:
			return nil, required(member + ".complianceType")
		case ev.OrderingTimestamp == nil:
			return nil, required(member + ".orderingTimestamp")
		case len(*ev.ComplianceResourceType) < 1 || len(*ev.ComplianceResourceType) > maxResourceType:
			return nil, validationError("Value at '%s.complianceResourceType' failed to satisfy constraint: Member must have length between 1 and %d", member, maxResourceType)
		case len(*ev.ComplianceResourceId) < 1 || len(*ev.ComplianceResourceId) > maxResourceID:
			return nil, validationError("Value at '%s.complianceResourceId' failed to satisfy constraint: Member must have length between 1 and %d", member, maxResourceID)
		case ev.Annotation != nil && (len(*ev.Annotation) < 1 || len([]rune(*ev.Annotation)) > maxAnnotation):
			return nil, validationError("Value at '%s.annotation' failed to satisfy constraint: Member must have length between 1 and %d", member, maxAnnotation)
		case *ev.ComplianceType == "INSUFFICIENT_DATA":
			// The enum allows it, but AWS Config refuses it from a function.
			return nil, invalidParameter("The value INSUFFICIENT_DATA for ComplianceType is not supported by PutEvaluations.")
		case !evaluationTypes[*ev.ComplianceType]:
			return nil, validationError("Value '%s' at '%s.complianceType' failed to satisfy constraint: Member must satisfy enum value set: [COMPLIANT, NON_COMPLIANT, NOT_APPLICABLE, INSUFFICIENT_DATA]", *ev.ComplianceType, member)
		}
		ann := ""
		if ev.Annotation != nil {
			ann = *ev.Annotation
		}
		sec := *ev.OrderingTimestamp
		ordering := time.Unix(0, int64(sec*float64(time.Second))).UTC()
		evs = append(evs, &configEvaluation{resourceType: *ev.ComplianceResourceType, resourceID: *ev.ComplianceResourceId,
			compliance: *ev.ComplianceType, annotation: ann, ordering: ordering, recorded: now, token: *token})
	}
	if testMode {
		// Test mode checks the evaluations and stores nothing; the token
		// need not be valid (functions send "TESTMODE"), only present.
		return map[string]any{"FailedEvaluations": []any{}}, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	issued, ok := s.tokens[*token]
	rule := s.rules[issued.rule]
	// A token is good for the account and region of the rule it was
	// issued for, as the function's credentials and endpoint are.
	if !ok || rule == nil || rule.account != c.account() || rule.region != c.region {
		return nil, errorf(http.StatusBadRequest, "InvalidResultTokenException", "The resultToken provided is invalid")
	}
	for _, ev := range evs {
		ev.invoked = issued.invoked
		k := ev.resourceType + "/" + ev.resourceID
		// A later ordering timestamp replaces an earlier one; an older
		// report arriving late does not overwrite a newer result.
		if old := rule.evaluations[k]; old != nil && old.ordering.After(ev.ordering) {
			continue
		}
		rule.evaluations[k] = ev
	}
	return map[string]any{"FailedEvaluations": []any{}}, nil
}

func checkComplianceTypes(types []string) *apiError {
	for _, t := range types {
		if !evaluationTypes[t] && t != "INSUFFICIENT_DATA" {
			return validationError("Value '[%s]' at 'complianceTypes' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [COMPLIANT, NON_COMPLIANT, NOT_APPLICABLE, INSUFFICIENT_DATA]]", strings.Join(types, ", "))
		}
	}
	return nil
}

func wanted(types []string, t string) bool {
	if len(types) == 0 {
		return true
	}
	for _, w := range types {
		if w == t {
			return true
		}
	}
	return false
}

func (s *configState) complianceDetails(c *call, name *string, types []string, limit *int, next *string) (any, *apiError) {
	if name == nil || *name == "" {
		return nil, required("configRuleName")
	}
	if err := checkComplianceTypes(types); err != nil {
		return nil, err
	}
	size := 100
	if limit != nil {
		if *limit < 0 || *limit > 100 {
			return nil, validationError("Value '%d' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 100", *limit)
		}
		if *limit > 0 {
			size = *limit
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := c.account() + "/" + c.region + "/" + *name
	s.settle(func(k string) bool { return k == key })
	r := s.findRule(c, *name, "", "")
	if r == nil {
		return nil, noSuchRule(*name)
	}
	var evs []*configEvaluation
	for _, ev := range r.evaluations {
		if wanted(types, ev.compliance) {
			evs = append(evs, ev)
		}
	}
	sort.Slice(evs, func(i, j int) bool {
		if evs[i].resourceType != evs[j].resourceType {
			return evs[i].resourceType < evs[j].resourceType
		}
		return evs[i].resourceID < evs[j].resourceID
	})
	page, tok, err := configPage(evs, next, size)
	if err != nil {
		return nil, err
	}
	results := []map[string]any{}
	for _, ev := range page {
		res := map[string]any{
			"EvaluationResultIdentifier": map[string]any{
				"EvaluationResultQualifier": map[string]any{"ConfigRuleName": r.spec.ConfigRuleName, "ResourceType": ev.resourceType, "ResourceId": ev.resourceID, "EvaluationMode": "DETECTIVE"},
				"OrderingTimestamp":         epoch(ev.ordering),
			},
			"ComplianceType":        ev.compliance,
			"ResultRecordedTime":    epoch(ev.recorded),
			"ConfigRuleInvokedTime": epoch(ev.invoked),
		}
		if ev.annotation != "" {
			res["Annotation"] = ev.annotation
		}
		results = append(results, res)
	}
	return map[string]any{"EvaluationResults": results, "NextToken": tok}, nil
}

func (s *configState) complianceByRule(c *call, names, types []string, next *string) (any, *apiError) {
	if err := checkComplianceTypes(types); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	prefix := c.account() + "/" + c.region + "/"
	s.settle(func(k string) bool { return strings.HasPrefix(k, prefix) })
	rules, err := s.callerRules(c, names)
	if err != nil {
		return nil, err
	}
	var list []map[string]any
	for _, r := range rules {
		// A rule is non-compliant if any resource is, compliant if some
		// are and none is not, and without results INSUFFICIENT_DATA:
		// NOT_APPLICABLE results do not count (API_Compliance).
		nonCompliant, compliant := 0, 0
		for _, ev := range r.evaluations {
			switch ev.compliance {
			case "NON_COMPLIANT":
				nonCompliant++
			case "COMPLIANT":
				compliant++
			}
		}
		comp := map[string]any{"ComplianceType": "INSUFFICIENT_DATA"}
		switch {
		case nonCompliant > 0:
			comp = map[string]any{"ComplianceType": "NON_COMPLIANT",
				"ComplianceContributorCount": map[string]any{"CappedCount": min(nonCompliant, 100), "CapExceeded": nonCompliant > 100}}
		case compliant > 0:
			comp = map[string]any{"ComplianceType": "COMPLIANT"}
		}
		if wanted(types, comp["ComplianceType"].(string)) {
			list = append(list, map[string]any{"ConfigRuleName": r.spec.ConfigRuleName, "Compliance": comp})
		}
	}
	page, tok, perr := configPage(list, next, 25)
	if perr != nil {
		return nil, perr
	}
	if page == nil {
		page = []map[string]any{}
	}
	return map[string]any{"ComplianceByConfigRules": page, "NextToken": tok}, nil
}
