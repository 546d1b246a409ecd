package awsemu_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/configservice"
	cstypes "github.com/aws/aws-sdk-go-v2/service/configservice/types"

	"github.com/trailguard/trailguard/internal/awsemu"
)

const ruleFunction = "arn:aws:lambda:us-east-1:111111111111:function:trailguard-rule"

func (e *env) config(c awsemu.Credentials, region string) *configservice.Client {
	return configservice.NewFromConfig(e.cfg(c, region))
}

// configEvent is the event AWS Config sends a custom rule's function.
type configEvent struct {
	Version          string `json:"version"`
	InvokingEvent    string `json:"invokingEvent"`
	RuleParameters   string `json:"ruleParameters"`
	ResultToken      string `json:"resultToken"`
	EventLeftScope   *bool  `json:"eventLeftScope"`
	ExecutionRoleArn string `json:"executionRoleArn"`
	ConfigRuleArn    string `json:"configRuleArn"`
	ConfigRuleName   string `json:"configRuleName"`
	ConfigRuleId     string `json:"configRuleId"`
	AccountId        string `json:"accountId"`
}

// ruleFunc stands in for a rule's Lambda function: it records each event
// and, through the SDK, reports the evaluations report(event) returns.
type ruleFunc struct {
	mu     sync.Mutex
	events []configEvent
	errs   []error
}

func (f *ruleFunc) serve(t *testing.T, client *configservice.Client, report func(configEvent) []cstypes.Evaluation) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var ev configEvent
		err := json.Unmarshal(body, &ev)
		if err == nil {
			_, err = client.PutEvaluations(r.Context(), &configservice.PutEvaluationsInput{ResultToken: aws.String(ev.ResultToken), Evaluations: report(ev)})
		}
		f.mu.Lock()
		f.events = append(f.events, ev)
		if err != nil {
			f.errs = append(f.errs, err)
		}
		f.mu.Unlock()
		w.Write([]byte("null"))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func (f *ruleFunc) got() ([]configEvent, []error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]configEvent(nil), f.events...), append([]error(nil), f.errs...)
}

func accountEvaluation(account, compliance, annotation string) []cstypes.Evaluation {
	ev := cstypes.Evaluation{ComplianceResourceType: aws.String("AWS::::Account"), ComplianceResourceId: aws.String(account),
		ComplianceType: cstypes.ComplianceType(compliance), OrderingTimestamp: aws.Time(time.Now())}
	if annotation != "" {
		ev.Annotation = aws.String(annotation)
	}
	return []cstypes.Evaluation{ev}
}

func periodicRule(name, params string) *cstypes.ConfigRule {
	r := &cstypes.ConfigRule{
		ConfigRuleName: aws.String(name),
		Source: &cstypes.Source{Owner: cstypes.OwnerCustomLambda, SourceIdentifier: aws.String(ruleFunction),
			SourceDetails: []cstypes.SourceDetail{{EventSource: cstypes.EventSourceAwsConfig, MessageType: cstypes.MessageTypeScheduledNotification,
				MaximumExecutionFrequency: cstypes.MaximumExecutionFrequencyTwentyFourHours}}},
	}
	if params != "" {
		r.InputParameters = aws.String(params)
	}
	return r
}

// The loop the AWS CLI drives: a rule is put, evaluated, its function
// reports back with the token it was given, and the CLI reads the result.
func TestConfigRuleEvaluatedThroughAWSCLI(t *testing.T) {
	e := newEnv(t)
	creds := e.emu.AddAccount("111111111111")
	fn := &ruleFunc{}
	srv := fn.serve(t, e.config(creds, "us-east-1"), func(ev configEvent) []cstypes.Evaluation {
		return accountEvaluation(ev.AccountId, "COMPLIANT", "multi-region trail logs all management events")
	})
	e.emu.SetLambdaEndpoint(ruleFunction, srv.URL)
	aws := newCLI(t, e, creds.AccessKeyID, creds.SecretAccessKey)

	rule := fmt.Sprintf(`{"ConfigRuleName":"cis-3-1","Source":{"Owner":"CUSTOM_LAMBDA","SourceIdentifier":%q,"SourceDetails":[{"EventSource":"aws.config","MessageType":"ScheduledNotification","MaximumExecutionFrequency":"TwentyFour_Hours"}]},"InputParameters":"{\"autoRemediate\":\"false\"}"}`, ruleFunction)
	aws.json("us-east-1", "configservice", "put-config-rule", "--config-rule", rule)
	described := aws.json("us-east-1", "configservice", "describe-config-rules", "--config-rule-names", "cis-3-1")
	rules, _ := described["ConfigRules"].([]any)
	if len(rules) != 1 || !strings.HasPrefix(rules[0].(map[string]any)["ConfigRuleArn"].(string), "arn:aws:config:us-east-1:111111111111:config-rule/config-rule-") {
		t.Fatalf("describe-config-rules = %v, want the rule with its ARN", described)
	}
	aws.json("us-east-1", "configservice", "start-config-rules-evaluation", "--config-rule-names", "cis-3-1")

	e.emu.ConfigInvocations() // the evaluation runs after the call returns, as on AWS
	events, errs := fn.got()
	if len(events) != 1 || len(errs) != 0 {
		t.Fatalf("function got %d events, PutEvaluations errors %v; want 1 event, no error", len(events), errs)
	}
	ev := events[0]
	var invoking map[string]any
	if err := json.Unmarshal([]byte(ev.InvokingEvent), &invoking); err != nil {
		t.Fatalf("invokingEvent is not a JSON string: %v", err)
	}
	if invoking["messageType"] != "ScheduledNotification" || invoking["awsAccountId"] != "111111111111" || invoking["recordVersion"] != "1.0" || invoking["notificationCreationTime"] == nil {
		t.Errorf("invokingEvent = %v, want a scheduled notification for the account", invoking)
	}
	if ev.RuleParameters != `{"autoRemediate":"false"}` || ev.ConfigRuleName != "cis-3-1" || ev.AccountId != "111111111111" || ev.Version != "1.0" ||
		ev.EventLeftScope == nil || *ev.EventLeftScope || ev.ConfigRuleArn != rules[0].(map[string]any)["ConfigRuleArn"] ||
		ev.ConfigRuleId != rules[0].(map[string]any)["ConfigRuleId"] || ev.ResultToken == "" || ev.ExecutionRoleArn == "" {
		t.Errorf("event = %+v, want the rule's name, ARN, ID, parameters, account and a result token", ev)
	}

	details := aws.json("us-east-1", "configservice", "get-compliance-details-by-config-rule", "--config-rule-name", "cis-3-1")
	results, _ := details["EvaluationResults"].([]any)
	if len(results) != 1 {
		t.Fatalf("get-compliance-details-by-config-rule = %v, want one result", details)
	}
	res := results[0].(map[string]any)
	q := res["EvaluationResultIdentifier"].(map[string]any)["EvaluationResultQualifier"].(map[string]any)
	if res["ComplianceType"] != "COMPLIANT" || q["ResourceId"] != "111111111111" || q["ResourceType"] != "AWS::::Account" ||
		res["Annotation"] != "multi-region trail logs all management events" {
		t.Errorf("result = %v, want the account COMPLIANT with the function's annotation", res)
	}
	// The AWS CLI reads the refusals as AWS Config's errors.
	evaluation := `[{"ComplianceResourceType":"AWS::::Account","ComplianceResourceId":"111111111111","ComplianceType":"%s","OrderingTimestamp":"2026-01-01T00:00:00Z"}]`
	for _, tc := range []struct{ token, compliance, wantCode string }{
		{"forged-token", "NON_COMPLIANT", "InvalidResultTokenException"},
		{ev.ResultToken, "INSUFFICIENT_DATA", "InvalidParameterValueException"},
	} {
		code, _, stderr := aws.run("us-east-1", "configservice", "put-evaluations", "--result-token", tc.token, "--evaluations", fmt.Sprintf(evaluation, tc.compliance))
		if code == 0 || !strings.Contains(stderr, tc.wantCode) {
			t.Errorf("put-evaluations %s with token %q: exit %d, stderr %q; want %s", tc.compliance, tc.token, code, stderr, tc.wantCode)
		}
	}

	byRule := aws.json("us-east-1", "configservice", "describe-compliance-by-config-rule", "--config-rule-names", "cis-3-1")
	list, _ := byRule["ComplianceByConfigRules"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["Compliance"].(map[string]any)["ComplianceType"] != "COMPLIANT" {
		t.Errorf("describe-compliance-by-config-rule = %v, want COMPLIANT", byRule)
	}
}

// PutEvaluations refuses what AWS Config refuses and stores nothing then.
func TestConfigPutEvaluations(t *testing.T) {
	ctx := context.Background()
	now := aws.Time(time.Now())
	valid := func() cstypes.Evaluation {
		return cstypes.Evaluation{ComplianceResourceType: aws.String("AWS::::Account"), ComplianceResourceId: aws.String("111111111111"),
			ComplianceType: cstypes.ComplianceTypeNonCompliant, OrderingTimestamp: now, Annotation: aws.String("trail stopped")}
	}
	many := func(n int) []cstypes.Evaluation {
		evs := make([]cstypes.Evaluation, n)
		for i := range evs {
			evs[i] = valid()
			evs[i].ComplianceResourceId = aws.String(fmt.Sprintf("resource-%d", i))
		}
		return evs
	}
	with := func(f func(*cstypes.Evaluation)) []cstypes.Evaluation {
		ev := valid()
		f(&ev)
		return []cstypes.Evaluation{ev}
	}
	cases := []struct {
		name     string
		token    string // "" = the token the rule's invocation got
		other    bool   // sent with another account's credentials
		region   string // sent to another region
		testMode bool
		evs      []cstypes.Evaluation
		wantCode string
		stored   int
	}{
		{name: "issued_token_is_stored", evs: many(1), stored: 1},
		{name: "hundred_evaluations_are_the_limit", evs: many(100), stored: 100},
		{name: "more_than_hundred_evaluations", evs: many(101), wantCode: "ValidationException"},
		{name: "unknown_token", token: "not-a-token", evs: many(1), wantCode: "InvalidResultTokenException"},
		{name: "token_used_by_another_account", other: true, evs: many(1), wantCode: "InvalidResultTokenException"},
		{name: "testmode_token_in_test_mode_stores_nothing", token: "TESTMODE", testMode: true, evs: many(1)},
		{name: "any_token_in_test_mode_stores_nothing", token: "not-a-token", testMode: true, evs: many(1)},
		{name: "issued_token_used_in_another_region", region: "eu-west-1", evs: many(1), wantCode: "InvalidResultTokenException"},
		{name: "testmode_token_without_test_mode", token: "TESTMODE", evs: many(1), wantCode: "InvalidResultTokenException"},
		{name: "test_mode_still_checks_evaluations", token: "TESTMODE", testMode: true,
			evs: with(func(e *cstypes.Evaluation) { e.ComplianceType = cstypes.ComplianceTypeInsufficientData }), wantCode: "InvalidParameterValueException"},
		{name: "insufficient_data_rejected", evs: with(func(e *cstypes.Evaluation) { e.ComplianceType = cstypes.ComplianceTypeInsufficientData }), wantCode: "InvalidParameterValueException"},
		{name: "unknown_compliance_type", evs: with(func(e *cstypes.Evaluation) { e.ComplianceType = "PASS" }), wantCode: "ValidationException"},
		{name: "annotation_of_256_characters", evs: with(func(e *cstypes.Evaluation) { e.Annotation = aws.String(strings.Repeat("é", 256)) }), stored: 1},
		{name: "annotation_over_256_characters", evs: with(func(e *cstypes.Evaluation) { e.Annotation = aws.String(strings.Repeat("a", 257)) }), wantCode: "ValidationException"},
		{name: "resource_id_over_768_characters", evs: with(func(e *cstypes.Evaluation) { e.ComplianceResourceId = aws.String(strings.Repeat("r", 769)) }), wantCode: "ValidationException"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			creds := e.emu.AddAccount("111111111111")
			other := e.emu.AddAccount("222222222222")
			tokens := make(chan string, 1)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var ev configEvent
				json.NewDecoder(r.Body).Decode(&ev)
				tokens <- ev.ResultToken
			}))
			t.Cleanup(srv.Close)
			e.emu.SetLambdaEndpoint("*", srv.URL)
			client := e.config(creds, "us-east-1")
			_, err := client.PutConfigRule(ctx, &configservice.PutConfigRuleInput{ConfigRule: periodicRule("cis-3-1", "")})
			must(t, err)
			e.emu.RunConfigSchedule()
			token := <-tokens
			if tc.token != "" {
				token = tc.token
			}
			sender := client
			if tc.other {
				sender = e.config(other, "us-east-1")
			}
			if tc.region != "" {
				sender = e.config(creds, tc.region)
			}
			_, err = sender.PutEvaluations(ctx, &configservice.PutEvaluationsInput{ResultToken: aws.String(token), Evaluations: tc.evs, TestMode: tc.testMode})
			if tc.wantCode != "" {
				wantCode(t, err, tc.wantCode)
			} else {
				must(t, err)
			}
			out, err := client.GetComplianceDetailsByConfigRule(ctx, &configservice.GetComplianceDetailsByConfigRuleInput{ConfigRuleName: aws.String("cis-3-1"), Limit: 100})
			must(t, err)
			if len(out.EvaluationResults) != tc.stored {
				t.Errorf("stored %d results, want %d", len(out.EvaluationResults), tc.stored)
			}
			if tc.stored > 0 && out.EvaluationResults[0].ComplianceType != cstypes.ComplianceTypeNonCompliant {
				t.Errorf("stored %v, want NON_COMPLIANT", out.EvaluationResults[0].ComplianceType)
			}
		})
	}
}

// PutConfigRule takes custom Lambda rules as AWS Config defines them and
// refuses malformed ones; DeleteConfigRule removes the rule and its tokens.
func TestConfigPutConfigRule(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name     string
		edit     func(*cstypes.ConfigRule)
		wantCode string
	}{
		{name: "periodic_custom_lambda_rule", edit: func(*cstypes.ConfigRule) {}},
		{name: "change_triggered_rule_with_scope", edit: func(r *cstypes.ConfigRule) {
			r.Source.SourceDetails = []cstypes.SourceDetail{{EventSource: cstypes.EventSourceAwsConfig, MessageType: cstypes.MessageTypeConfigurationItemChangeNotification},
				{EventSource: cstypes.EventSourceAwsConfig, MessageType: cstypes.MessageTypeOversizedConfigurationItemChangeNotification}}
			r.Scope = &cstypes.Scope{ComplianceResourceTypes: []string{"AWS::CloudTrail::Trail"}}
		}},
		{name: "managed_rule_not_played", edit: func(r *cstypes.ConfigRule) { r.Source.Owner = cstypes.OwnerAws }, wantCode: "InvalidParameterValueException"},
		{name: "source_not_a_function_arn", edit: func(r *cstypes.ConfigRule) { r.Source.SourceIdentifier = aws.String("trailguard-rule") }, wantCode: "InvalidParameterValueException"},
		{name: "no_source_details", edit: func(r *cstypes.ConfigRule) { r.Source.SourceDetails = nil }, wantCode: "InvalidParameterValueException"},
		{name: "unknown_frequency", edit: func(r *cstypes.ConfigRule) { r.Source.SourceDetails[0].MaximumExecutionFrequency = "Daily" }, wantCode: "ValidationException"},
		{name: "unknown_message_type", edit: func(r *cstypes.ConfigRule) { r.Source.SourceDetails[0].MessageType = "Hourly" }, wantCode: "ValidationException"},
		{name: "input_parameters_not_json", edit: func(r *cstypes.ConfigRule) { r.InputParameters = aws.String("autoRemediate=true") }, wantCode: "InvalidParameterValueException"},
		{name: "input_parameters_over_1024", edit: func(r *cstypes.ConfigRule) {
			r.InputParameters = aws.String(`{"a":"` + strings.Repeat("x", 1024) + `"}`)
		}, wantCode: "ValidationException"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			client := e.config(e.emu.AddAccount("111111111111"), "us-east-1")
			rule := periodicRule("cis-3-1", `{"autoRemediate":"true"}`)
			tc.edit(rule)
			_, err := client.PutConfigRule(ctx, &configservice.PutConfigRuleInput{ConfigRule: rule})
			if tc.wantCode != "" {
				wantCode(t, err, tc.wantCode)
				return
			}
			must(t, err)
			out, err := client.DescribeConfigRules(ctx, &configservice.DescribeConfigRulesInput{ConfigRuleNames: []string{"cis-3-1"}})
			must(t, err)
			if len(out.ConfigRules) != 1 {
				t.Fatalf("DescribeConfigRules gave %d rules, want 1", len(out.ConfigRules))
			}
			got := out.ConfigRules[0]
			if aws.ToString(got.Source.SourceIdentifier) != ruleFunction || len(got.Source.SourceDetails) != len(rule.Source.SourceDetails) ||
				aws.ToString(got.InputParameters) != aws.ToString(rule.InputParameters) || got.ConfigRuleState != cstypes.ConfigRuleStateActive {
				t.Errorf("described rule = %+v, want what was put", got)
			}
			if rule.Scope != nil && (got.Scope == nil || len(got.Scope.ComplianceResourceTypes) != 1) {
				t.Errorf("scope = %+v, want the put scope", got.Scope)
			}
			_, err = client.DeleteConfigRule(ctx, &configservice.DeleteConfigRuleInput{ConfigRuleName: aws.String("cis-3-1")})
			must(t, err)
			_, err = client.DescribeConfigRules(ctx, &configservice.DescribeConfigRulesInput{ConfigRuleNames: []string{"cis-3-1"}})
			wantCode(t, err, "NoSuchConfigRuleException")
		})
	}
}

// The schedule fires periodic rules only; an evaluation of a
// change-triggered rule sends a configuration item per trail in scope.
func TestConfigEvaluationEvents(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	creds := e.emu.AddAccount("111111111111")
	e.trail(t, creds, "us-east-1", "org-trail", true)
	client := e.config(creds, "us-east-1")
	fn := &ruleFunc{}
	srv := fn.serve(t, client, func(ev configEvent) []cstypes.Evaluation { return accountEvaluation(ev.AccountId, "COMPLIANT", "") })
	e.emu.SetLambdaEndpoint("*", srv.URL)

	must(t, func() error {
		_, err := client.PutConfigRule(ctx, &configservice.PutConfigRuleInput{ConfigRule: periodicRule("periodic", "")})
		return err
	}())
	change := periodicRule("on-change", "")
	change.Source.SourceDetails = []cstypes.SourceDetail{{EventSource: cstypes.EventSourceAwsConfig, MessageType: cstypes.MessageTypeConfigurationItemChangeNotification}}
	change.Scope = &cstypes.Scope{ComplianceResourceTypes: []string{"AWS::CloudTrail::Trail"}}
	_, err := client.PutConfigRule(ctx, &configservice.PutConfigRuleInput{ConfigRule: change})
	must(t, err)
	elsewhere := periodicRule("other-types", "")
	elsewhere.Source.SourceDetails = change.Source.SourceDetails
	elsewhere.Scope = &cstypes.Scope{ComplianceResourceTypes: []string{"AWS::S3::Bucket"}}
	_, err = client.PutConfigRule(ctx, &configservice.PutConfigRuleInput{ConfigRule: elsewhere})
	must(t, err)

	e.emu.RunConfigSchedule()
	events, errs := fn.got()
	if len(events) != 1 || events[0].ConfigRuleName != "periodic" || len(errs) != 0 {
		t.Fatalf("schedule invoked %+v (errors %v), want the periodic rule only", events, errs)
	}
	if events[0].RuleParameters != "{}" {
		t.Errorf("ruleParameters = %q, want {} for a rule without parameters, as AWS sends", events[0].RuleParameters)
	}

	_, err = client.StartConfigRulesEvaluation(ctx, &configservice.StartConfigRulesEvaluationInput{ConfigRuleNames: []string{"on-change", "other-types"}})
	must(t, err)
	e.emu.ConfigInvocations()
	events, errs = fn.got()
	if len(events) != 2 || events[1].ConfigRuleName != "on-change" || len(errs) != 0 {
		t.Fatalf("evaluation invoked %d events (errors %v), want one for the trail of the change-triggered rule in scope", len(events), errs)
	}
	var invoking struct {
		MessageType       string
		ConfigurationItem struct {
			ResourceType, ResourceId, ARN, AwsRegion string
			Configuration                            map[string]any
		}
	}
	must(t, json.Unmarshal([]byte(events[1].InvokingEvent), &invoking))
	if invoking.MessageType != "ConfigurationItemChangeNotification" || invoking.ConfigurationItem.ResourceType != "AWS::CloudTrail::Trail" ||
		invoking.ConfigurationItem.ResourceId != "org-trail" || invoking.ConfigurationItem.Configuration["isMultiRegionTrail"] != true {
		t.Errorf("invoking event = %+v, want the trail's configuration item", invoking)
	}

	_, err = client.StartConfigRulesEvaluation(ctx, &configservice.StartConfigRulesEvaluationInput{ConfigRuleNames: []string{"absent"}})
	wantCode(t, err, "NoSuchConfigRuleException")
}

// A function that could not be invoked or failed is noted as such, and
// the rule reads INSUFFICIENT_DATA: nothing reported is never compliant.
func TestConfigFunctionFailed(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name    string
		handler http.HandlerFunc // nil: no endpoint set
		wantErr string
	}{
		{name: "no_endpoint", wantErr: "no invoke endpoint"},
		{name: "function_error_document", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"errorType":"Runtime.ExitError","errorMessage":"boom"}`))
		}, wantErr: "Runtime.ExitError"},
		{name: "function_error_header", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Amz-Function-Error", "Unhandled")
			w.Write([]byte(`{}`))
		}, wantErr: "function error"},
		{name: "http_500", handler: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }, wantErr: "HTTP 500"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			if tc.handler != nil {
				srv := httptest.NewServer(tc.handler)
				t.Cleanup(srv.Close)
				e.emu.SetLambdaEndpoint(ruleFunction, srv.URL)
			}
			client := e.config(e.emu.AddAccount("111111111111"), "us-east-1")
			_, err := client.PutConfigRule(ctx, &configservice.PutConfigRuleInput{ConfigRule: periodicRule("cis-3-1", "")})
			must(t, err)
			_, err = client.StartConfigRulesEvaluation(ctx, &configservice.StartConfigRulesEvaluationInput{ConfigRuleNames: []string{"cis-3-1"}})
			must(t, err)
			inv := e.emu.ConfigInvocations()
			if len(inv) != 1 || !strings.Contains(inv[0].Err, tc.wantErr) {
				t.Fatalf("invocations = %+v, want one noted with %q", inv, tc.wantErr)
			}
			out, err := client.DescribeComplianceByConfigRule(ctx, &configservice.DescribeComplianceByConfigRuleInput{})
			must(t, err)
			if len(out.ComplianceByConfigRules) != 1 || out.ComplianceByConfigRules[0].Compliance.ComplianceType != cstypes.ComplianceTypeInsufficientData {
				t.Errorf("compliance = %+v, want INSUFFICIENT_DATA", out.ComplianceByConfigRules)
			}
		})
	}
}

// Tokens are bounded: after many runs of a rule its oldest token is no
// longer accepted, its latest is; deleting the rule voids its tokens.
func TestConfigResultTokensBounded(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	creds := e.emu.AddAccount("111111111111")
	var mu sync.Mutex
	var tokens []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev configEvent
		json.NewDecoder(r.Body).Decode(&ev)
		mu.Lock()
		tokens = append(tokens, ev.ResultToken)
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	e.emu.SetLambdaEndpoint("*", srv.URL)
	client := e.config(creds, "us-east-1")
	_, err := client.PutConfigRule(ctx, &configservice.PutConfigRuleInput{ConfigRule: periodicRule("cis-3-1", "")})
	must(t, err)
	for range 100 {
		e.emu.RunConfigSchedule()
	}
	put := func(tok string) error {
		_, err := client.PutEvaluations(ctx, &configservice.PutEvaluationsInput{ResultToken: aws.String(tok), Evaluations: accountEvaluation("111111111111", "COMPLIANT", "")})
		return err
	}
	wantCode(t, put(tokens[0]), "InvalidResultTokenException")
	must(t, put(tokens[len(tokens)-1]))
	_, err = client.DeleteConfigRule(ctx, &configservice.DeleteConfigRuleInput{ConfigRuleName: aws.String("cis-3-1")})
	must(t, err)
	wantCode(t, put(tokens[len(tokens)-1]), "InvalidResultTokenException")
}

// A function that serves one invocation at a time (as the Lambda runtime
// does) and asks for a re-evaluation from inside an invocation gets its
// answer at once; the re-run follows, and a read afterwards sees what the
// re-run reported.
func TestConfigReevaluationFromInsideTheFunction(t *testing.T) {
	e := newEnv(t)
	creds := e.emu.AddAccount("111111111111")
	client := e.config(creds, "us-east-1")
	var one sync.Mutex // one invocation at a time
	runs := 0
	startErr := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		one.Lock()
		defer one.Unlock()
		var ev configEvent
		json.NewDecoder(r.Body).Decode(&ev)
		runs++
		compliance := "NON_COMPLIANT"
		if runs == 1 {
			// Bounded: without it a runtime waiting on itself would hang the test.
			ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
			_, err := client.StartConfigRulesEvaluation(ctx, &configservice.StartConfigRulesEvaluationInput{ConfigRuleNames: []string{"cis-3-1"}})
			cancel()
			startErr <- err
			compliance = "COMPLIANT"
		}
		client.PutEvaluations(r.Context(), &configservice.PutEvaluationsInput{ResultToken: aws.String(ev.ResultToken), Evaluations: accountEvaluation("111111111111", compliance, "")})
	}))
	t.Cleanup(srv.Close)
	e.emu.SetLambdaEndpoint(ruleFunction, srv.URL)
	_, err := client.PutConfigRule(context.Background(), &configservice.PutConfigRuleInput{ConfigRule: periodicRule("cis-3-1", "")})
	must(t, err)
	e.emu.RunConfigSchedule()
	must(t, <-startErr)
	out, err := client.GetComplianceDetailsByConfigRule(context.Background(), &configservice.GetComplianceDetailsByConfigRuleInput{ConfigRuleName: aws.String("cis-3-1")})
	must(t, err)
	if len(out.EvaluationResults) != 1 || out.EvaluationResults[0].ComplianceType != cstypes.ComplianceTypeNonCompliant {
		t.Errorf("results %+v, want the re-run's NON_COMPLIANT", out.EvaluationResults)
	}
	if inv := e.emu.ConfigInvocations(); len(inv) != 2 {
		t.Errorf("%d invocations, want the scheduled run and the re-run", len(inv))
	}
}

// rawConfig sends one signed AWS Config request with a body the SDK would
// refuse to send, and returns the HTTP status and error code.
func rawConfig(t *testing.T, e *env, c awsemu.Credentials, op, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/", bytes.NewReader([]byte(body)))
	must(t, err)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "StarlingDoveService."+op)
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken}
	must(t, v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "config", "us-east-1", time.Now()))
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	defer resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType")
}

// Members the service model requires, left out by a client that does not
// validate, are refused by the service too.
func TestConfigPutEvaluationsRequiredMembers(t *testing.T) {
	e := newEnv(t)
	creds := e.emu.AddAccount("111111111111")
	full := map[string]any{"ComplianceResourceType": "AWS::::Account", "ComplianceResourceId": "111111111111", "ComplianceType": "COMPLIANT", "OrderingTimestamp": 1.7e9}
	for _, member := range []string{"OrderingTimestamp", "ComplianceResourceId", "ComplianceResourceType", "ComplianceType"} {
		t.Run(strings.ToLower(member)+"_missing", func(t *testing.T) {
			ev := map[string]any{}
			for k, v := range full {
				if k != member {
					ev[k] = v
				}
			}
			body, _ := json.Marshal(map[string]any{"ResultToken": "TESTMODE", "TestMode": true, "Evaluations": []any{ev}})
			status, code := rawConfig(t, e, creds, "PutEvaluations", string(body))
			if status != http.StatusBadRequest || code != "ValidationException" {
				t.Errorf("got %d %s, want 400 ValidationException", status, code)
			}
		})
	}
	t.Run("result_token_missing", func(t *testing.T) {
		status, code := rawConfig(t, e, creds, "PutEvaluations", `{"Evaluations":[]}`)
		if status != http.StatusBadRequest || code != "ValidationException" {
			t.Errorf("got %d %s, want 400 ValidationException", status, code)
		}
	})
	t.Run("body_not_an_object", func(t *testing.T) {
		status, code := rawConfig(t, e, creds, "PutEvaluations", `[1]`)
		if status != http.StatusBadRequest || code != "SerializationException" {
			t.Errorf("got %d %s, want 400 SerializationException", status, code)
		}
	})
}
