package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard/internal/awsemu"
)

const (
	acct     = "111111111111"
	member   = "222222222222"
	region   = "us-east-1"
	function = "arn:aws:lambda:us-east-1:111111111111:function:trailguard"
	rule     = "cis-3-1"
	topic    = "arn:aws:sns:us-east-1:111111111111:trailguard-alerts"
	// pattern is the EventBridge pattern of the six CloudTrail calls that
	// can change the control.
	pattern = `{"source":["aws.cloudtrail"],"detail-type":["AWS API Call via CloudTrail"],"detail":{"eventSource":["cloudtrail.amazonaws.com"],"eventName":["StopLogging","DeleteTrail","UpdateTrail","PutEventSelectors","CreateTrail","StartLogging"]}}`
)

// stack is the emulator on a loopback port, the function binary under the
// RIE, and the AWS CLI that drives them.
type stack struct {
	emu   *awsemu.Emulator
	srv   *httptest.Server
	fn    *lambdaProcess
	creds awsemu.Credentials // the function's: the account's root keys
}

// newStack starts the emulator with the account, and the function with
// settings (TRAILGUARD_*=value) registered as functionARN's endpoint
// through Serve, which queues invocations as Lambda does.
func newStack(t *testing.T, settings ...string) *stack {
	t.Helper()
	s := newStackDirect(t, settings...)
	front := s.fn.Serve()
	t.Cleanup(front.Close)
	s.emu.SetLambdaEndpoint(function, front.URL)
	return s
}

// newStackDirect is newStack with the RIE's own invoke URL registered, for
// tests where no invocation starts while another runs (the function's
// Config path asks for no re-evaluation).
func newStackDirect(t *testing.T, settings ...string) *stack {
	t.Helper()
	emu, srv := awsemu.Start()
	t.Cleanup(srv.Close)
	s := &stack{emu: emu, srv: srv, creds: emu.AddAccount(acct)}
	s.fn = startFunction(t, lambdaEnv(srv.URL, s.creds, region, settings...))
	emu.SetLambdaEndpoint(function, s.fn.URL)
	emu.RecordCalls(true)
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		var calls []string
		for _, c := range emu.CallLog() {
			calls = append(calls, fmt.Sprintf("%s %s %d %s", c.Action, c.Resource, c.Status, c.Code))
		}
		t.Logf("emulator calls (since the last reset):\n%s\nfunction log:\n%s", strings.Join(calls, "\n"), s.fn.Logs())
	})
	return s
}

// trail seeds a trail of the account; multi-region ones include global
// service events, as AWS requires.
func (s *stack) trail(t *testing.T, account, name string, multiRegion, logging bool) string {
	t.Helper()
	arn, err := s.emu.PutTrail(account, awsemu.TrailSpec{Name: name, S3BucketName: "logs-" + account, IsMultiRegion: multiRegion,
		IncludeGlobalServiceEvents: multiRegion, Logging: logging})
	if err != nil {
		t.Fatal(err)
	}
	return arn
}

// settle waits until no EventBridge delivery and no Config invocation is
// under way, and none started since the last look: the function's own
// calls (StartConfigRulesEvaluation, StartLogging) set off more.
func (s *stack) settle(t *testing.T) ([]awsemu.Delivery, []awsemu.ConfigInvocation) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	last := [2]int{-1, -1}
	for {
		d := s.emu.Deliveries(ctx)
		inv := s.emu.ConfigInvocations()
		if ctx.Err() != nil {
			t.Fatalf("deliveries and Config invocations still under way after a minute: %d deliveries, %d invocations", len(d), len(inv))
		}
		if now := [2]int{len(d), len(inv)}; now == last {
			return d, inv
		} else {
			last = now
		}
	}
}

// cli runs the real AWS CLI against the emulator with one set of keys,
// isolated from the machine's AWS configuration.
type cli struct {
	t   *testing.T
	bin string
	env []string
	url string
}

func newCLI(t *testing.T, url string, c awsemu.Credentials) *cli {
	t.Helper()
	dir := t.TempDir()
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + dir,
		"AWS_ACCESS_KEY_ID=" + c.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + c.SecretAccessKey,
		"AWS_DEFAULT_REGION=" + region,
		"AWS_ENDPOINT_URL=" + url,
		"AWS_CONFIG_FILE=" + filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_PAGER=",
		"AWS_CLI_AUTO_PROMPT=off",
		"AWS_MAX_ATTEMPTS=1",
	}
	if c.SessionToken != "" {
		env = append(env, "AWS_SESSION_TOKEN="+c.SessionToken)
	}
	return &cli{t: t, bin: awsemu.AWSCLI(t), env: env, url: url}
}

// run runs one command and returns its exit code, stdout and stderr.
func (c *cli) run(args ...string) (int, []byte, string) {
	c.t.Helper()
	// Generous: only a hung CLI reaches it; Python starts slowly on a
	// loaded machine.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// AWS_ENDPOINT_URL is set too, but CLI releases before 2.13 (Debian 12
	// ships 2.9) read only the flag.
	cmd := exec.CommandContext(ctx, c.bin, append(args, "--endpoint-url", c.url, "--output", "json")...)
	cmd.Env = c.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return exit.ExitCode(), stdout.Bytes(), stderr.String()
	case err != nil:
		c.t.Fatalf("aws %s: %v", strings.Join(args, " "), err)
	}
	return 0, stdout.Bytes(), stderr.String()
}

// json runs a command that must succeed and decodes its output into out
// (nil: the output is not read).
func (c *cli) json(out any, args ...string) {
	c.t.Helper()
	code, stdout, stderr := c.run(args...)
	if code != 0 {
		c.t.Fatalf("aws %s: exit %d: %s", strings.Join(args, " "), code, stderr)
	}
	if out == nil || len(bytes.TrimSpace(stdout)) == 0 {
		return
	}
	if err := json.Unmarshal(stdout, out); err != nil {
		c.t.Fatalf("aws %s: output is not the JSON expected: %v\n%s", strings.Join(args, " "), err, stdout)
	}
}

// putRule puts the custom rule with the function, periodic and triggered by
// changes of AWS::CloudTrail::Trail, with the input parameters.
func (c *cli) putRule(params string) {
	c.t.Helper()
	r := map[string]any{
		"ConfigRuleName": rule,
		"Scope":          map[string]any{"ComplianceResourceTypes": []string{"AWS::CloudTrail::Trail"}},
		"Source": map[string]any{"Owner": "CUSTOM_LAMBDA", "SourceIdentifier": function, "SourceDetails": []map[string]any{
			{"EventSource": "aws.config", "MessageType": "ScheduledNotification", "MaximumExecutionFrequency": "One_Hour"},
			{"EventSource": "aws.config", "MessageType": "ConfigurationItemChangeNotification"},
			{"EventSource": "aws.config", "MessageType": "OversizedConfigurationItemChangeNotification"},
		}},
		"InputParameters": params,
	}
	b, _ := json.Marshal(r)
	c.json(nil, "configservice", "put-config-rule", "--config-rule", string(b))
}

// compliance is the rule's result for the account, as the CLI reads it.
func (c *cli) compliance() (string, string) {
	c.t.Helper()
	return c.complianceOf(rule, acct)
}

// complianceOf is the result of rule name for account, as the CLI reads it.
func (c *cli) complianceOf(name, account string) (string, string) {
	c.t.Helper()
	var out struct {
		EvaluationResults []struct {
			EvaluationResultIdentifier struct {
				EvaluationResultQualifier struct{ ConfigRuleName, ResourceType, ResourceId string }
			}
			ComplianceType, Annotation string
		}
	}
	c.json(&out, "configservice", "get-compliance-details-by-config-rule", "--config-rule-name", name)
	if len(out.EvaluationResults) != 1 {
		c.t.Fatalf("get-compliance-details-by-config-rule %s: %d results, want one for account %s: %+v", name, len(out.EvaluationResults), account, out)
	}
	r := out.EvaluationResults[0]
	if q := r.EvaluationResultIdentifier.EvaluationResultQualifier; q.ResourceType != "AWS::::Account" || q.ResourceId != account {
		c.t.Errorf("evaluated %s %s, want AWS::::Account %s", q.ResourceType, q.ResourceId, account)
	}
	return r.ComplianceType, r.Annotation
}

// evaluate has Config evaluate the rule and waits for the function's
// answer; an invocation that failed fails the test with the function's log.
func (s *stack) evaluate(t *testing.T, c *cli) {
	t.Helper()
	before := len(s.emu.ConfigInvocations())
	c.json(nil, "configservice", "start-config-rules-evaluation", "--config-rule-names", rule)
	_, invs := s.settle(t)
	if len(invs) <= before {
		t.Fatalf("start-config-rules-evaluation invoked no function: %d invocations before, %d after", before, len(invs))
	}
	for _, inv := range invs[before:] {
		if inv.Err != "" {
			t.Fatalf("the Config invocation failed: %s (HTTP %d)", inv.Err, inv.Status)
		}
	}
}

// The rule is put and evaluated with the AWS CLI; the function, run by the
// RIE, scans the account and reports back; the CLI reads the verdict.
func TestConfigRuleThroughRIE(t *testing.T) {
	cases := []struct {
		name       string
		setup      func(t *testing.T, s *stack)
		compliance string
		annotation string // prefix
	}{
		{"compliant_account", func(t *testing.T, s *stack) { s.trail(t, acct, "main", true, true) }, "COMPLIANT", "PASS"},
		{"logging_stopped", func(t *testing.T, s *stack) { s.trail(t, acct, "main", true, false) }, "NON_COMPLIANT", "FAIL"},
		{"no_trail", func(t *testing.T, s *stack) {}, "NON_COMPLIANT", "FAIL"},
		{"selectors_unreadable", func(t *testing.T, s *stack) {
			s.trail(t, acct, "main", true, true)
			// Denied to every caller, as a service control policy would:
			// only the function asks for selectors here.
			s.emu.Deny("cloudtrail:GetEventSelectors")
		}, "NON_COMPLIANT", "UNKNOWN"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newStackDirect(t)
			tc.setup(t, s)
			aws := newCLI(t, s.srv.URL, s.creds)
			aws.putRule(`{"strict":"false"}`)
			s.evaluate(t, aws)
			got, ann := aws.compliance()
			if got != tc.compliance || !strings.HasPrefix(ann, tc.annotation) {
				t.Errorf("compliance %s %q, want %s with an annotation starting %q", got, ann, tc.compliance, tc.annotation)
			}
			if len([]rune(ann)) > 256 {
				t.Errorf("annotation of %d characters, over AWS Config's 256", len([]rune(ann)))
			}
		})
	}
}

// cliIdentity is the ARN the CLI's credentials act as.
func (c *cli) identity() string {
	c.t.Helper()
	var id struct{ Arn string }
	c.json(&id, "sts", "get-caller-identity")
	return id.Arn
}

// A person with the AWS CLI stops logging; CloudTrail's record of the call
// reaches the function through the EventBridge rule; the function alerts
// once, naming who did it, and has the Config rule evaluated again, which
// then reads NON_COMPLIANT — or, with auto-remediation, starts logging
// again so that the account passes.
func TestStopLoggingThroughRIE(t *testing.T) {
	cases := []struct {
		name          string
		settings      []string
		wantLogging   bool
		wantCompliant string
		wantAnnPrefix string
		wantAlert     []string
	}{
		{"alert_and_non_compliant", nil, false, "NON_COMPLIANT", "FAIL",
			[]string{"StopLogging", "arn:aws:cloudtrail:us-east-1:111111111111:trail/main", "Verdict: FAIL", "trailguard fix"}},
		{"auto_remediation_restores", []string{"TRAILGUARD_AUTO_REMEDIATE=start-logging"}, true, "COMPLIANT", "PASS",
			[]string{"StopLogging", "Auto-remediation: StartLogging on arn:aws:cloudtrail:us-east-1:111111111111:trail/main", "Verdict: PASS"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			settings := append([]string{"TRAILGUARD_ALERT_TOPIC_ARN=" + topic, "TRAILGUARD_CONFIG_RULE_NAME=" + rule}, tc.settings...)
			s := newStack(t, settings...)
			trailARN := s.trail(t, acct, "main", true, true)
			admin := newCLI(t, s.srv.URL, s.creds)

			var created struct{ TopicArn string }
			admin.json(&created, "sns", "create-topic", "--name", "trailguard-alerts")
			if created.TopicArn != topic {
				t.Fatalf("create-topic: %q, want %s", created.TopicArn, topic)
			}
			admin.putRule("{}")
			admin.json(nil, "events", "put-rule", "--name", "trailguard-cloudtrail-changes", "--event-pattern", pattern)
			admin.json(nil, "events", "put-targets", "--rule", "trailguard-cloudtrail-changes",
				"--targets", `[{"Id":"trailguard","Arn":"`+function+`"}]`)
			s.evaluate(t, admin)
			if got, ann := admin.compliance(); got != "COMPLIANT" {
				t.Fatalf("before the change: %s %q, want COMPLIANT", got, ann)
			}

			// The operator is another principal than the function: a role
			// session the CLI assumes.
			s.emu.AddRole(acct, "Operator")
			var assumed struct {
				Credentials struct{ AccessKeyId, SecretAccessKey, SessionToken string }
			}
			admin.json(&assumed, "sts", "assume-role", "--role-arn", "arn:aws:iam::"+acct+":role/Operator", "--role-session-name", "mallory")
			operator := newCLI(t, s.srv.URL, awsemu.Credentials{AccountID: acct, AccessKeyID: assumed.Credentials.AccessKeyId,
				SecretAccessKey: assumed.Credentials.SecretAccessKey, SessionToken: assumed.Credentials.SessionToken})
			who := operator.identity()
			if !strings.Contains(who, ":assumed-role/Operator/mallory") {
				t.Fatalf("the operator acts as %q, want the role session", who)
			}
			operator.json(nil, "cloudtrail", "stop-logging", "--name", "main")

			deliveries, _ := s.settle(t)
			var stopped int
			for _, d := range deliveries {
				if bytes.Contains(d.Event, []byte(`"StopLogging"`)) {
					stopped++
					if d.Err != "" {
						t.Errorf("delivery of StopLogging to %s failed: %s (HTTP %d)", d.TargetARN, d.Err, d.Status)
					}
				}
			}
			if stopped != 1 {
				t.Fatalf("%d deliveries of the StopLogging event, want one; deliveries: %+v", stopped, deliveries)
			}

			msgs := s.emu.Published(topic)
			if len(msgs) != 1 {
				t.Fatalf("%d alerts published to %s, want exactly one: %+v", len(msgs), topic, msgs)
			}
			for _, w := range append(tc.wantAlert, fmt.Sprintf("%q", who)) {
				if !strings.Contains(msgs[0].Message, w) {
					t.Errorf("the alert lacks %q:\n%s", w, msgs[0].Message)
				}
			}

			var status struct{ IsLogging bool }
			admin.json(&status, "cloudtrail", "get-trail-status", "--name", trailARN)
			if status.IsLogging != tc.wantLogging {
				t.Errorf("get-trail-status: IsLogging %v, want %v", status.IsLogging, tc.wantLogging)
			}
			// The function's StartConfigRulesEvaluation re-ran the rule.
			got, ann := admin.compliance()
			if got != tc.wantCompliant || !strings.HasPrefix(ann, tc.wantAnnPrefix) {
				t.Errorf("after the change: %s %q, want %s starting %q", got, ann, tc.wantCompliant, tc.wantAnnPrefix)
			}
			if tc.wantCompliant == "NON_COMPLIANT" && !strings.Contains(ann, "logging") {
				t.Errorf("annotation %q does not give the reason (logging stopped)", ann)
			}
		})
	}
}

// A person invokes the function by hand through the RIE with the AWS CLI's
// lambda invoke and reads what it did.
func TestInvokeByHandThroughRIE(t *testing.T) {
	s := newStack(t, "TRAILGUARD_ALERT_TOPIC_ARN="+topic)
	s.trail(t, acct, "main", true, false)
	admin := newCLI(t, s.srv.URL, s.creds)
	admin.json(nil, "sns", "create-topic", "--name", "trailguard-alerts")

	cases := []struct {
		name  string
		event string
		check func(t *testing.T, resp map[string]any)
	}{
		{"config_event_in_test_mode", configEvent(acct), func(t *testing.T, resp map[string]any) {
			evs, _ := resp["evaluations"].([]any)
			if resp["kind"] != "config" || resp["account"] != acct || resp["status"] != "FAIL" || resp["test_mode"] != true || len(evs) != 1 {
				t.Fatalf("response %v, want a config FAIL of %s in test mode with one evaluation", resp, acct)
			}
			ev := evs[0].(map[string]any)
			if ev["compliance_type"] != "NON_COMPLIANT" || !strings.HasPrefix(ev["annotation"].(string), "FAIL") {
				t.Errorf("evaluation %v, want NON_COMPLIANT FAIL…", ev)
			}
			if rs, _ := resp["reasons"].([]any); len(rs) == 0 {
				t.Errorf("response %v gives no reasons", resp)
			}
		}},
		{"read_only_call_ignored", apiCallEvent(acct, "DescribeTrails"), func(t *testing.T, resp map[string]any) {
			if resp["kind"] != "cloudtrail-event" || resp["ignored"] == nil || resp["status"] != nil {
				t.Errorf("response %v, want an ignored event without a verdict", resp)
			}
		}},
		{"stop_logging_event", apiCallEvent(acct, "StopLogging"), func(t *testing.T, resp map[string]any) {
			if resp["status"] != "FAIL" || resp["event"] != "StopLogging" || resp["trail"] != "arn:aws:cloudtrail:us-east-1:"+acct+":trail/main" ||
				resp["alert_message_id"] == nil || resp["alert_message_id"] == "" {
				t.Errorf("response %v, want FAIL for StopLogging of the trail with the alert's id", resp)
			}
		}},
	}
	// The Lambda Invoke API of the RIE, through the CLI's own client.
	invoker := newCLI(t, strings.TrimSuffix(s.fn.URL, invokePath), s.creds)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "response.json")
			var meta struct {
				StatusCode    int
				FunctionError string
			}
			invoker.json(&meta, "lambda", "invoke", "--function-name", "function", "--cli-binary-format", "raw-in-base64-out",
				"--payload", tc.event, out)
			if meta.StatusCode != 200 || meta.FunctionError != "" {
				t.Fatalf("lambda invoke: %+v", meta)
			}
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			var resp map[string]any
			if err := json.Unmarshal(b, &resp); err != nil {
				t.Fatalf("the function's response is not a JSON object: %v\n%s", err, b)
			}
			tc.check(t, resp)
		})
	}
}

// configEvent is a Config rule event for account in test mode, as AWS
// Config sends one.
func configEvent(account string) string {
	inv, _ := json.Marshal(map[string]any{"messageType": "ScheduledNotification", "awsAccountId": account,
		"notificationCreationTime": time.Now().UTC().Format(time.RFC3339), "recordVersion": "1.0"})
	b, _ := json.Marshal(map[string]any{"version": "1.0", "invokingEvent": string(inv), "ruleParameters": "{}",
		"resultToken": "TESTMODE", "eventLeftScope": false, "executionRoleArn": "arn:aws:iam::" + account + ":role/config",
		"configRuleName": rule, "accountId": account})
	return string(b)
}

// apiCallEvent is an "AWS API Call via CloudTrail" event of a call on
// trail main.
func apiCallEvent(account, name string) string {
	b, _ := json.Marshal(map[string]any{
		"version": "0", "id": "1", "detail-type": "AWS API Call via CloudTrail", "source": "aws.cloudtrail", "account": account,
		"time": time.Now().UTC().Format(time.RFC3339), "region": region,
		"detail": map[string]any{"eventSource": "cloudtrail.amazonaws.com", "eventName": name, "awsRegion": region,
			"eventTime": time.Now().UTC().Format(time.RFC3339), "sourceIPAddress": "203.0.113.9", "userAgent": "aws-cli/2",
			"userIdentity":      map[string]any{"arn": "arn:aws:iam::" + account + ":user/ops"},
			"requestParameters": map[string]any{"name": "main"}, "recipientAccountId": account},
	})
	return string(b)
}

// An organization rule put with the AWS CLI in the management account runs
// as a member rule in the member; the member's evaluation, started with
// the member's own CLI, invokes the central function, which reads the
// member through the member role and writes the evaluation there (the
// member rule's token is good only in the member), so the member reads
// its own verdict.
func TestOrgConfigRuleThroughRIE(t *testing.T) {
	cases := []struct {
		name       string
		setup      func(emu *awsemu.Emulator)
		compliance string
		annotation string
		warmCalls  []string // the function's calls in a second evaluation, sorted
	}{
		{"member_covered_by_the_org_trail", func(*awsemu.Emulator) {}, "COMPLIANT", "PASS",
			[]string{"cloudtrail:DescribeTrails", "cloudtrail:GetEventSelectors", "cloudtrail:GetTrailStatus", "config:PutEvaluations"}},
		{"member_outside_the_org_trail", func(emu *awsemu.Emulator) { emu.ExcludeFromOrgTrails(member) }, "NON_COMPLIANT", "FAIL",
			[]string{"cloudtrail:DescribeTrails", "config:PutEvaluations", "ec2:DescribeRegions"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newStackDirect(t)
			s.emu.SetOrganization(acct, member)
			s.emu.AddRole(member, memberRole)
			memberCreds := s.emu.AddAccount(member)
			if _, err := s.emu.PutTrail(acct, awsemu.TrailSpec{Name: "org-wide", S3BucketName: "org-logs", IsMultiRegion: true,
				IsOrganizationTrail: true, IncludeGlobalServiceEvents: true, Logging: true}); err != nil {
				t.Fatal(err)
			}
			tc.setup(s.emu)

			mgmt := newCLI(t, s.srv.URL, s.creds)
			meta, _ := json.Marshal(map[string]any{"LambdaFunctionArn": function,
				"OrganizationConfigRuleTriggerTypes": []string{"ScheduledNotification", "ConfigurationItemChangeNotification"},
				"MaximumExecutionFrequency":          "One_Hour", "ResourceTypesScope": []string{"AWS::CloudTrail::Trail"},
				"InputParameters": `{"executionRoleName":"` + memberRole + `"}`})
			mgmt.json(nil, "configservice", "put-organization-config-rule", "--organization-config-rule-name", rule,
				"--organization-custom-rule-metadata", string(meta))
			var st struct {
				OrganizationConfigRuleDetailedStatus []struct{ ConfigRuleName, MemberAccountRuleStatus string }
			}
			mgmt.json(&st, "configservice", "get-organization-config-rule-detailed-status", "--organization-config-rule-name", rule,
				"--filters", "AccountId="+member)
			if len(st.OrganizationConfigRuleDetailedStatus) != 1 || st.OrganizationConfigRuleDetailedStatus[0].MemberAccountRuleStatus != "CREATE_SUCCESSFUL" {
				t.Fatalf("the member rule was not created: %+v", st)
			}
			memberRule := st.OrganizationConfigRuleDetailedStatus[0].ConfigRuleName

			s.emu.RecordCalls(true)
			own := newCLI(t, s.srv.URL, memberCreds)
			before := len(s.emu.ConfigInvocations())
			own.json(nil, "configservice", "start-config-rules-evaluation", "--config-rule-names", memberRule)
			_, invs := s.settle(t)
			if len(invs) != before+1 || invs[before].Err != "" {
				t.Fatalf("Config invocations %+v, want one more that succeeded", invs[before:])
			}
			got, ann := own.complianceOf(memberRule, member)
			if got != tc.compliance || !strings.HasPrefix(ann, tc.annotation) {
				t.Errorf("the member reads %s %q, want %s starting %q", got, ann, tc.compliance, tc.annotation)
			}
			var assumed int
			for _, c := range s.emu.CallLog() {
				if c.Action == "sts:AssumeRole" {
					assumed++
				}
			}
			if assumed != 1 {
				t.Errorf("%d AssumeRole calls, want the member role assumed once for the scan and the evaluation", assumed)
			}

			// A warm instance evaluates the member again with only the
			// calls the verdict and its report need.
			s.emu.RecordCalls(true)
			own.json(nil, "configservice", "start-config-rules-evaluation", "--config-rule-names", memberRule)
			if _, invs := s.settle(t); len(invs) != before+2 || invs[before+1].Err != "" {
				t.Fatalf("Config invocations %+v, want a second one that succeeded", invs[before:])
			}
			var calls []string
			for _, c := range s.emu.CallLog() {
				if c.Action != "config:StartConfigRulesEvaluation" { // the CLI's
					calls = append(calls, c.Action)
				}
			}
			sort.Strings(calls)
			if strings.Join(calls, " ") != strings.Join(tc.warmCalls, " ") {
				t.Errorf("the warm evaluation called %v, want %v", calls, tc.warmCalls)
			}
		})
	}
}
