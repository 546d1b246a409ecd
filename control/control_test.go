package control_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/configservice"
	cstypes "github.com/aws/aws-sdk-go-v2/service/configservice/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/trailguard/trailguard"
	"github.com/trailguard/trailguard/control"
	"github.com/trailguard/trailguard/internal/awsemu"
)

const (
	acct     = "111111111111"
	member   = "222222222222"
	function = "arn:aws:lambda:us-east-1:111111111111:function:trailguard"
	rule     = "cis-3-1"
)

// env is the emulator, the function's SDK configuration, and the function
// itself served over HTTP as the emulator invokes it.
type env struct {
	emu   *awsemu.Emulator
	srv   *httptest.Server
	creds awsemu.Credentials
	h     *control.Handler

	mu    sync.Mutex
	resps []control.Response
	errs  []string
}

func newEnv(t *testing.T, s control.Settings) *env {
	t.Helper()
	emu, srv := awsemu.Start()
	t.Cleanup(srv.Close)
	e := &env{emu: emu, srv: srv, creds: emu.AddAccount(acct)}
	e.h = &control.Handler{Config: e.cfg(e.creds, "us-east-1"), Settings: s}
	// The function runs through aws-lambda-go's own handler, so that the
	// event is decoded and the response encoded as in Lambda.
	fn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		out, err := lambda.NewHandler(e.h.Handle).Invoke(r.Context(), body)
		e.mu.Lock()
		defer e.mu.Unlock()
		if err != nil {
			e.errs = append(e.errs, err.Error())
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		var resp control.Response
		if err := json.Unmarshal(out, &resp); err != nil {
			e.errs = append(e.errs, "response: "+err.Error())
		}
		e.resps = append(e.resps, resp)
		w.Write(out)
	}))
	t.Cleanup(fn.Close)
	emu.SetLambdaEndpoint(function, fn.URL)
	return e
}

func (e *env) cfg(c awsemu.Credentials, region string) aws.Config {
	return aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken),
		BaseEndpoint: aws.String(e.srv.URL),
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
	}
}

func (e *env) config() *configservice.Client {
	return configservice.NewFromConfig(e.cfg(e.creds, "us-east-1"))
}

func (e *env) responses() ([]control.Response, []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]control.Response(nil), e.resps...), append([]string(nil), e.errs...)
}

// trail seeds a trail of the account; multi-region ones include global
// service events, as AWS requires.
func (e *env) trail(t *testing.T, account, name string, multiRegion, logging bool) string {
	t.Helper()
	arn, err := e.emu.PutTrail(account, awsemu.TrailSpec{Name: name, S3BucketName: "logs-" + account, IsMultiRegion: multiRegion,
		IncludeGlobalServiceEvents: multiRegion, Logging: logging})
	if err != nil {
		t.Fatal(err)
	}
	return arn
}

func (e *env) putRule(t *testing.T, params string) {
	t.Helper()
	r := &cstypes.ConfigRule{
		ConfigRuleName: aws.String(rule),
		Source: &cstypes.Source{Owner: cstypes.OwnerCustomLambda, SourceIdentifier: aws.String(function),
			SourceDetails: []cstypes.SourceDetail{{EventSource: cstypes.EventSourceAwsConfig, MessageType: cstypes.MessageTypeScheduledNotification,
				MaximumExecutionFrequency: cstypes.MaximumExecutionFrequencyTwentyFourHours}}},
	}
	if params != "" {
		r.InputParameters = aws.String(params)
	}
	if _, err := e.config().PutConfigRule(context.Background(), &configservice.PutConfigRuleInput{ConfigRule: r}); err != nil {
		t.Fatal(err)
	}
}

func (e *env) evaluate(t *testing.T) {
	t.Helper()
	if _, err := e.config().StartConfigRulesEvaluation(context.Background(), &configservice.StartConfigRulesEvaluationInput{ConfigRuleNames: []string{rule}}); err != nil {
		t.Fatal(err)
	}
	e.emu.ConfigInvocations() // waits for the function's answer
}

// compliance is the account's result of the rule, read back from Config.
func (e *env) compliance(t *testing.T) (string, string) {
	t.Helper()
	out, err := e.config().GetComplianceDetailsByConfigRule(context.Background(), &configservice.GetComplianceDetailsByConfigRuleInput{ConfigRuleName: aws.String(rule)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.EvaluationResults) != 1 {
		t.Fatalf("compliance details: %d results, want 1", len(out.EvaluationResults))
	}
	r := out.EvaluationResults[0]
	q := r.EvaluationResultIdentifier.EvaluationResultQualifier
	if aws.ToString(q.ResourceType) != "AWS::::Account" || aws.ToString(q.ResourceId) != acct {
		t.Errorf("evaluated %s %s, want AWS::::Account %s", aws.ToString(q.ResourceType), aws.ToString(q.ResourceId), acct)
	}
	return string(r.ComplianceType), aws.ToString(r.Annotation)
}

// A Config rule evaluation goes through the emulator: StartConfigRulesEvaluation
// invokes the function over HTTP, the function scans and puts its
// evaluation with the token, and Config returns it.
func TestConfigRule(t *testing.T) {
	cases := []struct {
		name       string
		params     string
		setup      func(t *testing.T, e *env)
		compliance string
		annotation string // prefix
	}{
		{"compliant_account", "", func(t *testing.T, e *env) { e.trail(t, acct, "main", true, true) }, "COMPLIANT", "PASS"},
		{"logging_stopped", "", func(t *testing.T, e *env) { e.trail(t, acct, "main", true, false) }, "NON_COMPLIANT", "FAIL"},
		{"only_single_region_trail", "", func(t *testing.T, e *env) { e.trail(t, acct, "local", false, true) }, "NON_COMPLIANT", "FAIL"},
		{"selectors_unreadable", "", func(t *testing.T, e *env) {
			e.trail(t, acct, "main", true, true)
			e.emu.Deny("cloudtrail:GetEventSelectors")
		}, "NON_COMPLIANT", "UNKNOWN"},
		{"trails_unreadable", "", func(t *testing.T, e *env) {
			e.trail(t, acct, "main", true, true)
			e.emu.Deny("cloudtrail:DescribeTrails")
		}, "NON_COMPLIANT", "ERROR"},
		{"unknown_rule_parameter", `{"strikt":"true"}`, func(t *testing.T, e *env) { e.trail(t, acct, "main", true, true) }, "NON_COMPLIANT", "ERROR: rule parameters"},
		{"strict_parameter_as_string", `{"strict":"true","executionRoleName":"Auditor"}`, func(t *testing.T, e *env) { e.trail(t, acct, "main", true, true) }, "COMPLIANT", "PASS"},
		{"alert_topic_parameter_hears_failure", `{"alertTopicArn":"arn:aws:sns:us-east-1:111111111111:rule-alerts"}`, func(t *testing.T, e *env) {
			e.trail(t, acct, "main", true, false)
			if _, err := sns.NewFromConfig(e.cfg(e.creds, "us-east-1")).CreateTopic(context.Background(), &sns.CreateTopicInput{Name: aws.String("rule-alerts")}); err != nil {
				t.Fatal(err)
			}
		}, "NON_COMPLIANT", "FAIL"},
		{"strict_parameter_not_a_bool", `{"strict":"yes"}`, func(t *testing.T, e *env) { e.trail(t, acct, "main", true, true) }, "NON_COMPLIANT", "ERROR: rule parameters"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, control.Settings{})
			tc.setup(t, e)
			e.putRule(t, tc.params)
			e.evaluate(t)
			if _, errs := e.responses(); len(errs) > 0 {
				t.Fatalf("function failed: %v", errs)
			}
			got, ann := e.compliance(t)
			if got != tc.compliance || !strings.HasPrefix(ann, tc.annotation) {
				t.Errorf("compliance %s %q, want %s with annotation starting %q", got, ann, tc.compliance, tc.annotation)
			}
			if utf8.RuneCountInString(ann) > 256 {
				t.Errorf("annotation of %d characters", utf8.RuneCountInString(ann))
			}
			msgs := e.emu.Published("arn:aws:sns:us-east-1:111111111111:rule-alerts")
			if wantAlert := strings.Contains(tc.params, "alertTopicArn"); (len(msgs) == 1) != wantAlert ||
				wantAlert && !strings.Contains(msgs[0].Message, "trailguard fix") {
				t.Errorf("alerts %+v, want one with the fix command: %v", msgs, wantAlert)
			}
		})
	}
}

// configEvent is a Config rule event as AWS sends it, for the cases the
// emulator's rule cannot produce (another account, test mode, left scope).
func configEvent(t *testing.T, account, messageType, token string, leftScope bool, params string) []byte {
	t.Helper()
	ie := map[string]any{"messageType": messageType, "notificationCreationTime": "2026-01-02T03:04:05.000Z", "recordVersion": "1.0"}
	switch messageType {
	case "ConfigurationItemChangeNotification":
		ie["configurationItem"] = map[string]any{"awsAccountId": account, "resourceType": "AWS::CloudTrail::Trail"}
	case "OversizedConfigurationItemChangeNotification":
		ie["configurationItemSummary"] = map[string]any{"awsAccountId": account, "resourceType": "AWS::CloudTrail::Trail"}
	default:
		ie["awsAccountId"] = account
	}
	inv, _ := json.Marshal(ie)
	b, _ := json.Marshal(map[string]any{"version": "1.0", "invokingEvent": string(inv), "ruleParameters": params, "resultToken": token,
		"eventLeftScope": leftScope, "executionRoleArn": "arn:aws:iam::111111111111:role/config", "configRuleName": rule, "accountId": acct})
	return b
}

// Events the emulator's rule does not send, through the same handler:
// test mode writes nothing, a resource out of scope is NOT_APPLICABLE,
// another account is read through the execution role.
func TestConfigEvent(t *testing.T) {
	cases := []struct {
		name        string
		setup       func(t *testing.T, e *env)
		event       func(t *testing.T) []byte
		compliance  string
		annotation  string
		testMode    bool
		wantInvokeE string
	}{
		{"testmode_writes_nothing", func(t *testing.T, e *env) { e.trail(t, acct, "main", true, true) },
			func(t *testing.T) []byte {
				return configEvent(t, acct, "ScheduledNotification", "TESTMODE", false, "{}")
			}, "COMPLIANT", "PASS", true, ""},
		{"event_left_scope", func(t *testing.T, e *env) {},
			func(t *testing.T) []byte {
				return configEvent(t, acct, "ConfigurationItemChangeNotification", "TESTMODE", true, "{}")
			}, "NOT_APPLICABLE", "", true, ""},
		{"trail_change_notification", func(t *testing.T, e *env) { e.trail(t, acct, "main", true, false) },
			func(t *testing.T) []byte {
				return configEvent(t, acct, "ConfigurationItemChangeNotification", "TESTMODE", false, "{}")
			}, "NON_COMPLIANT", "FAIL", true, ""},
		{"oversized_change_notification", func(t *testing.T, e *env) { e.trail(t, acct, "main", true, true) },
			func(t *testing.T) []byte {
				return configEvent(t, acct, "OversizedConfigurationItemChangeNotification", "TESTMODE", false, "{}")
			}, "COMPLIANT", "PASS", true, ""},
		{"member_account_through_execution_role", func(t *testing.T, e *env) {
			e.emu.AddRole(member, "Auditor")
			e.trail(t, member, "main", true, true)
		}, func(t *testing.T) []byte {
			return configEvent(t, member, "ScheduledNotification", "TESTMODE", false, `{"executionRoleName":"Auditor"}`)
		}, "COMPLIANT", "PASS", true, ""},
		{"member_account_role_missing", func(t *testing.T, e *env) {
			e.emu.AddAccount(member)
			e.trail(t, member, "main", true, true)
		}, func(t *testing.T) []byte {
			return configEvent(t, member, "ScheduledNotification", "TESTMODE", false, `{"executionRoleName":"Auditor"}`)
		}, "NON_COMPLIANT", "ERROR", true, ""},
		{"unknown_message_type", func(t *testing.T, e *env) {},
			func(t *testing.T) []byte {
				return configEvent(t, acct, "Bogus", "TESTMODE", false, "{}")
			}, "", "", false, "messageType"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, control.Settings{})
			tc.setup(t, e)
			out, err := lambda.NewHandler(e.h.Handle).Invoke(context.Background(), tc.event(t))
			if tc.wantInvokeE != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantInvokeE) {
					t.Fatalf("error %v, want one naming %s", err, tc.wantInvokeE)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var resp control.Response
			if err := json.Unmarshal(out, &resp); err != nil {
				t.Fatal(err)
			}
			if resp.TestMode != tc.testMode || len(resp.Evaluations) != 1 {
				t.Fatalf("response %+v, want test mode %v and one evaluation", resp, tc.testMode)
			}
			ev := resp.Evaluations[0]
			want := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
			if ev.ComplianceType != tc.compliance || !strings.HasPrefix(ev.Annotation, tc.annotation) || ev.ResourceType != "AWS::::Account" ||
				!ev.OrderingTimestamp.Equal(want) {
				t.Errorf("evaluation %+v, want %s (%q…) on AWS::::Account at the notification time", ev, tc.compliance, tc.annotation)
			}
			if ev.ResourceID != resp.Account || resp.Account == "" {
				t.Errorf("resource %s, account %s", ev.ResourceID, resp.Account)
			}
		})
	}
}

// The annotation starts with the status and stays within AWS Config's 256
// characters whatever the reasons hold, without control characters and
// without cutting a character in two.
func TestAnnotation(t *testing.T) {
	long := strings.Repeat("é\x1b[31m\u202e trail ", 200)
	cases := []struct {
		name   string
		result trailguard.Result
		prefix string
	}{
		{"hostile_long_reason", trailguard.Result{Status: trailguard.StatusUnknown, Reasons: []string{long}}, "UNKNOWN: "},
		{"many_reasons", trailguard.Result{Status: trailguard.StatusFail, Reasons: strings.Split(strings.Repeat("no trail logs;", 100), ";")}, "FAIL: "},
		{"pass", trailguard.Result{Status: trailguard.StatusPass, CoveringTrail: "arn:aws:cloudtrail:us-east-1:111111111111:trail/main"}, "PASS: covered by arn:"},
		{"error_with_newlines", trailguard.Result{Status: trailguard.StatusError, Reasons: []string{"line1\nFAKE: PASS\r\n"}}, "ERROR: line1 FAKE"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := control.Annotation(tc.result)
			if !strings.HasPrefix(a, tc.prefix) || utf8.RuneCountInString(a) > 256 || !utf8.ValidString(a) {
				t.Errorf("annotation %q (%d characters), want ≤ 256 starting %q", a, utf8.RuneCountInString(a), tc.prefix)
			}
			if strings.ContainsAny(a, "\x1b\n\r\u202e") {
				t.Errorf("annotation %q holds control characters", a)
			}
		})
	}
}

func TestTrailARN(t *testing.T) {
	cases := []struct{ name, in, region, want string }{
		{"name_becomes_arn", "main", "eu-west-1", "arn:aws:cloudtrail:eu-west-1:111111111111:trail/main"},
		{"arn_stays", "arn:aws:cloudtrail:us-east-1:111111111111:trail/main", "eu-west-1", "arn:aws:cloudtrail:us-east-1:111111111111:trail/main"},
		{"china_partition", "main", "cn-north-1", "arn:aws-cn:cloudtrail:cn-north-1:111111111111:trail/main"},
		{"no_name", " ", "us-east-1", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := control.TrailARN(tc.in, tc.region, acct); got != tc.want {
				t.Errorf("TrailARN(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// eventsCall sends one EventBridge API call; the SDK's eventbridge client
// is not a dependency of the module, and the emulator does not check
// signatures beyond the key.
func (e *env) eventsCall(t *testing.T, op, body string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/", strings.NewReader(body))
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+e.creds.AccessKeyID+"/20260101/us-east-1/events/aws4_request, SignedHeaders=host, Signature=0")
	req.Header.Set("X-Amz-Target", "AWSEvents."+op)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("events %s: %d %s", op, resp.StatusCode, b)
	}
}

// A change reaches the function as it does in AWS: the CloudTrail call is
// recorded, an EventBridge rule delivers it to the function, the function
// re-scans, alerts once through SNS, and has the Config rule re-evaluated.
func TestTrailChange(t *testing.T) {
	cases := []struct {
		name          string
		auto          bool
		wantLogging   bool
		wantStatus    trailguard.Status
		wantAlert     []string
		wantCompliant string
	}{
		{"stop_logging_alerts", false, false, trailguard.StatusFail,
			[]string{`Who:   "arn:aws:iam::111111111111:root"`, "StopLogging", "arn:aws:cloudtrail:us-east-1:111111111111:trail/main", "Verdict: FAIL", "trailguard fix", "From:"}, "NON_COMPLIANT"},
		{"auto_remediation_starts_logging", true, true, trailguard.StatusPass,
			[]string{"StopLogging", "Auto-remediation: StartLogging on arn:aws:cloudtrail:us-east-1:111111111111:trail/main", "Verdict: PASS"}, "COMPLIANT"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			topic := "arn:aws:sns:us-east-1:" + acct + ":trailguard-alerts"
			e := newEnv(t, control.Settings{AlertTopicARN: topic, ConfigRuleName: rule, AutoRemediate: tc.auto})
			snsc := sns.NewFromConfig(e.cfg(e.creds, "us-east-1"))
			if _, err := snsc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("trailguard-alerts")}); err != nil {
				t.Fatal(err)
			}
			arn := e.trail(t, acct, "main", true, true)
			e.putRule(t, "")
			pattern, _ := json.Marshal(`{"source":["aws.cloudtrail"],"detail-type":["AWS API Call via CloudTrail"],"detail":{"eventName":["StopLogging","DeleteTrail","UpdateTrail","PutEventSelectors","CreateTrail","StartLogging"]}}`)
			e.eventsCall(t, "PutRule", `{"Name":"trailguard","EventPattern":`+string(pattern)+`}`)
			e.eventsCall(t, "PutTargets", `{"Rule":"trailguard","Targets":[{"Id":"fn","Arn":"`+function+`"}]}`)

			ct := cloudtrail.NewFromConfig(e.cfg(e.creds, "us-east-1"))
			if _, err := ct.StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String("main")}); err != nil {
				t.Fatal(err)
			}
			dctx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			for i := 0; i < 3; i++ { // the remediation's StartLogging is delivered in turn
				e.emu.Deliveries(dctx)
				e.emu.ConfigInvocations()
			}
			resps, errs := e.responses()
			if len(errs) > 0 {
				t.Fatalf("function failed: %v", errs)
			}
			var first *control.Response
			for i := range resps {
				if resps[i].Event == "StopLogging" {
					first = &resps[i]
					break
				}
			}
			if first == nil || first.Status != tc.wantStatus || first.AlertMessageID == "" || first.RuleEvaluationStarted != rule {
				t.Fatalf("responses %+v, want a change event answered %s with an alert and a re-evaluation", resps, tc.wantStatus)
			}
			msgs := e.emu.Published(topic)
			if len(msgs) != 1 {
				t.Fatalf("%d alerts, want exactly one: %+v", len(msgs), msgs)
			}
			for _, w := range tc.wantAlert {
				if !strings.Contains(msgs[0].Message, w) {
					t.Errorf("alert lacks %q:\n%s", w, msgs[0].Message)
				}
			}
			st, err := ct.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String(arn)})
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToBool(st.IsLogging) != tc.wantLogging {
				t.Errorf("logging %v, want %v", aws.ToBool(st.IsLogging), tc.wantLogging)
			}
			if got, ann := e.compliance(t); got != tc.wantCompliant {
				t.Errorf("after re-evaluation %s %q, want %s", got, ann, tc.wantCompliant)
			}
		})
	}
}

// apiCall is an "AWS API Call via CloudTrail" envelope with the given
// detail fields.
func apiCall(account, name, trail, userAgent string) []byte {
	b, _ := json.Marshal(map[string]any{
		"version": "0", "id": "1", "detail-type": "AWS API Call via CloudTrail", "source": "aws.cloudtrail", "account": account,
		"time": "2026-01-02T03:04:05Z", "region": "us-east-1",
		"detail": map[string]any{"eventSource": "cloudtrail.amazonaws.com", "eventName": name, "awsRegion": "us-east-1",
			"eventTime": "2026-01-02T03:04:05Z", "sourceIPAddress": "203.0.113.9", "userAgent": userAgent,
			"userIdentity":      map[string]any{"arn": "arn:aws:iam::" + account + ":user/mallory\n\x1b[32mVerdict: PASS"},
			"requestParameters": map[string]any{"name": trail}, "recipientAccountId": account},
	})
	return b
}

// Auto-remediation writes only StartLogging, only on the trail the event
// stopped, and only when this run read it as a multi-region trail of the
// account that is not logging; the alert escapes what the event says.
func TestAutoRemediationScope(t *testing.T) {
	cases := []struct {
		name      string
		setup     func(t *testing.T, e *env) (stopped string)
		event     func(trail string) []byte
		wantRemed string
		starts    []string // trails that must be logging afterwards
		stopped   []string // trails that must still be stopped
	}{
		{"single_region_trail_left_alone", func(t *testing.T, e *env) string {
			return e.trail(t, acct, "local", false, false)
		}, func(tr string) []byte { return apiCall(acct, "StopLogging", "local", "aws-cli/2") }, "none: trail", nil, []string{"local"}},
		{"other_trail_not_touched", func(t *testing.T, e *env) string {
			e.trail(t, acct, "main", true, false)
			return e.trail(t, acct, "local", false, false)
		}, func(tr string) []byte { return apiCall(acct, "StopLogging", "local", "aws-cli/2") }, "none:", nil, []string{"main", "local"}},
		{"delete_trail_not_remediated", func(t *testing.T, e *env) string {
			return e.trail(t, acct, "main", true, false)
		}, func(tr string) []byte { return apiCall(acct, "DeleteTrail", "main", "aws-cli/2") }, "none: auto-remediation answers only", nil, []string{"main"}},
		{"stopped_trail_by_arn", func(t *testing.T, e *env) string {
			return e.trail(t, acct, "main", true, false)
		}, func(tr string) []byte { return apiCall(acct, "StopLogging", tr, "aws-cli/2\x1b]0;owned\x07") }, "StartLogging on", []string{"main"}, nil},
		{"trail_of_another_account", func(t *testing.T, e *env) string {
			e.trail(t, acct, "main", true, false)
			return "arn:aws:cloudtrail:us-east-1:" + member + ":trail/main"
		}, func(tr string) []byte { return apiCall(acct, "StopLogging", tr, "aws-cli/2") }, "none: trail", nil, []string{"main"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			topic := "arn:aws:sns:us-east-1:" + acct + ":alerts"
			e := newEnv(t, control.Settings{AlertTopicARN: topic, AutoRemediate: true})
			if _, err := sns.NewFromConfig(e.cfg(e.creds, "us-east-1")).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("alerts")}); err != nil {
				t.Fatal(err)
			}
			tr := tc.setup(t, e)
			out, err := lambda.NewHandler(e.h.Handle).Invoke(ctx, tc.event(tr))
			if err != nil {
				t.Fatal(err)
			}
			var resp control.Response
			if err := json.Unmarshal(out, &resp); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(resp.Remediation, tc.wantRemed) {
				t.Errorf("remediation %q, want %q…", resp.Remediation, tc.wantRemed)
			}
			ct := cloudtrail.NewFromConfig(e.cfg(e.creds, "us-east-1"))
			for want, names := range map[bool][]string{true: tc.starts, false: tc.stopped} {
				for _, n := range names {
					st, err := ct.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String(n)})
					if err != nil {
						t.Fatal(err)
					}
					if aws.ToBool(st.IsLogging) != want {
						t.Errorf("trail %s logging %v, want %v", n, aws.ToBool(st.IsLogging), want)
					}
				}
			}
			msgs := e.emu.Published(topic)
			if len(msgs) != 1 {
				t.Fatalf("%d alerts, want one", len(msgs))
			}
			m := msgs[0].Message
			if strings.ContainsAny(m, "\x1b\x07") || strings.Contains(m, "\nVerdict: PASS\n") && resp.Status != trailguard.StatusPass {
				t.Errorf("alert carries the event's control characters or a forged line:\n%s", m)
			}
			if !strings.Contains(m, `"arn:aws:iam::`+acct+`:user/mallory\n\x1b[32mVerdict: PASS"`) {
				t.Errorf("alert does not name who, escaped:\n%s", m)
			}
		})
	}
}

// Events that cannot change the control are answered without a scan or an
// alert; an event of no known shape is an error.
func TestIgnoredEvents(t *testing.T) {
	cases := []struct {
		name    string
		event   string
		ignored bool
	}{
		{"read_only_call", string(apiCall(acct, "DescribeTrails", "main", "x")), true},
		{"other_detail_type", `{"detail-type":"Scheduled Event","source":"aws.events"}`, true},
		{"unknown_shape", `{"hello":"world"}`, false},
		{"not_json", `[1,2`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			topic := "arn:aws:sns:us-east-1:" + acct + ":alerts"
			e := newEnv(t, control.Settings{AlertTopicARN: topic})
			resp, err := e.h.Handle(context.Background(), json.RawMessage(tc.event))
			if tc.ignored != (err == nil && resp.Ignored != "") {
				t.Errorf("response %+v, error %v; want ignored %v", resp, err, tc.ignored)
			}
			if n := len(e.emu.Published(topic)); n != 0 {
				t.Errorf("%d alerts for an event that changes nothing", n)
			}
		})
	}
}

func TestSettingsFromEnv(t *testing.T) {
	cases := []struct {
		name    string
		env     map[string]string
		want    control.Settings
		wantErr bool
	}{
		{"empty", nil, control.Settings{}, false},
		{"all_set", map[string]string{control.EnvAlertTopic: "arn:aws:sns:us-east-1:111111111111:a", control.EnvConfigRule: "r",
			control.EnvAutoRemediate: "start-logging", control.EnvExecutionRole: "Auditor"},
			control.Settings{AlertTopicARN: "arn:aws:sns:us-east-1:111111111111:a", ConfigRuleName: "r", AutoRemediate: true, ExecutionRoleName: "Auditor"}, false},
		{"remediation_typo", map[string]string{control.EnvAutoRemediate: "start_logging"}, control.Settings{}, true},
		{"remediation_of_anything_else", map[string]string{control.EnvAutoRemediate: "create-trail"}, control.Settings{}, true},
		{"topic_not_an_arn", map[string]string{control.EnvAlertTopic: "alerts"}, control.Settings{}, true},
		{"role_with_shell_text", map[string]string{control.EnvExecutionRole: "a;rm -rf"}, control.Settings{}, true},
		{"organization_rule", map[string]string{control.EnvOrgConfigRule: "trailguard-cis-3-1", control.EnvExecutionRole: "trailguard-member"},
			control.Settings{OrgConfigRuleName: "trailguard-cis-3-1", ExecutionRoleName: "trailguard-member"}, false},
		{"organization_rule_with_shell_text", map[string]string{control.EnvOrgConfigRule: "r$(id)"}, control.Settings{}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := control.SettingsFromEnv(func(k string) string { return tc.env[k] })
			if (err != nil) != tc.wantErr || !tc.wantErr && got != tc.want {
				t.Errorf("SettingsFromEnv = %+v, %v; want %+v, error %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}
