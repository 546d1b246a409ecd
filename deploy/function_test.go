package deploy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/configservice"
	cstypes "github.com/aws/aws-sdk-go-v2/service/configservice/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/trailguard/trailguard/control"
	"github.com/trailguard/trailguard/deploy"
	"github.com/trailguard/trailguard/internal/awsemu"
)

const (
	central  = "111111111111"
	member   = "222222222222"
	function = "arn:aws:lambda:us-east-1:111111111111:function:trailguard"
)

func sdkConfig(url string, c awsemu.Credentials) aws.Config {
	return aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(url), Retryer: func() aws.Retryer { return aws.NopRetryer{} },
		Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)}
}

// settingsFromTemplate reads the function's environment from the emitted
// CloudFormation template, with the topic reference resolved, through the
// function's own SettingsFromEnv: the test runs the function as deployed.
func settingsFromTemplate(t *testing.T, o deploy.Options, topic string) control.Settings {
	t.Helper()
	var tmpl struct {
		Resources map[string]struct {
			Type       string
			Properties struct {
				Environment struct{ Variables map[string]any }
			}
		}
	}
	if err := json.Unmarshal(emit(t, o), &tmpl); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for k, v := range tmpl.Resources["Function"].Properties.Environment.Variables {
		switch v := v.(type) {
		case string:
			env[k] = v
		case map[string]any:
			if v["Ref"] != "AlertTopic" {
				t.Fatalf("environment %s = %v: only the topic is a reference", k, v)
			}
			env[k] = topic
		}
	}
	s, err := control.SettingsFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("the template's environment is refused by the function: %v", err)
	}
	return s
}

// scenario runs the function as deployed with the given options, its role
// (and with Org the member role) allowed exactly the given actions: for
// every account it watches (its own; with Org a member too), a Config rule
// event while the account is compliant, then the CloudTrail call that
// stops its trail. It returns what went wrong (nothing when the function
// did all it should) and the actions AWS denied.
func scenario(t *testing.T, o deploy.Options, fnActions, memberActions []string) (problems []string, denied []string) {
	t.Helper()
	ctx := context.Background()
	emu, srv := awsemu.Start()
	t.Cleanup(srv.Close)
	creds := emu.AddAccount(central)
	watched := []string{central}
	if o.Org {
		watched = append(watched, member)
		emu.AddRole(member, o.MemberRoleName)
	}
	trails := map[string]string{}
	for _, acct := range watched {
		arn, err := emu.PutTrail(acct, awsemu.TrailSpec{Name: "main", S3BucketName: "logs-" + acct, IsMultiRegion: true, IncludeGlobalServiceEvents: true, Logging: true})
		if err != nil {
			t.Fatal(err)
		}
		trails[acct] = arn
	}
	topic := "arn:aws:sns:us-east-1:" + central + ":trailguard-alerts"
	if _, err := sns.NewFromConfig(sdkConfig(srv.URL, creds)).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("trailguard-alerts")}); err != nil {
		t.Fatal(err)
	}
	if bucket, key, ok := o.MutelistS3(); ok {
		// The mutelist the rule names, in the function's account; it
		// mutes another account, so a verdict read with it is unchanged.
		s3c := s3.NewFromConfig(sdkConfig(srv.URL, creds), func(o *s3.Options) { o.UsePathStyle = true })
		if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
			t.Fatal(err)
		}
		doc, err := os.ReadFile("testdata/mutelist.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(doc)}); err != nil {
			t.Fatal(err)
		}
	}
	settings := settingsFromTemplate(t, o, topic)
	if o.Org {
		// The organization rule, with a member rule in each account; its
		// invocations go to a stub too.
		stub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{}`)) }))
		t.Cleanup(stub.Close)
		emu.SetLambdaEndpoint(function, stub.URL)
		emu.SetOrganization(central, member)
		_, err := configservice.NewFromConfig(sdkConfig(srv.URL, creds)).PutOrganizationConfigRule(ctx, &configservice.PutOrganizationConfigRuleInput{
			OrganizationConfigRuleName: aws.String(settings.OrgConfigRuleName),
			OrganizationCustomRuleMetadata: &cstypes.OrganizationCustomRuleMetadata{LambdaFunctionArn: aws.String(function),
				OrganizationConfigRuleTriggerTypes: []cstypes.OrganizationConfigRuleTriggerType{cstypes.OrganizationConfigRuleTriggerTypeScheduledNotification}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	if settings.ConfigRuleName != "" {
		// The rule the function asks to evaluate again; its invocations
		// go to a stub, so that only the function under test calls AWS.
		stub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{}`)) }))
		t.Cleanup(stub.Close)
		emu.SetLambdaEndpoint(function, stub.URL)
		_, err := configservice.NewFromConfig(sdkConfig(srv.URL, creds)).PutConfigRule(ctx, &configservice.PutConfigRuleInput{ConfigRule: &cstypes.ConfigRule{
			ConfigRuleName: aws.String(settings.ConfigRuleName),
			Source: &cstypes.Source{Owner: cstypes.OwnerCustomLambda, SourceIdentifier: aws.String(function),
				SourceDetails: []cstypes.SourceDetail{{EventSource: cstypes.EventSourceAwsConfig, MessageType: cstypes.MessageTypeScheduledNotification,
					MaximumExecutionFrequency: cstypes.MaximumExecutionFrequencyTwentyFourHours}}}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	restrict := func(on bool) {
		if !on {
			emu.AllowOnly(central)
			emu.AllowOnly(member)
			return
		}
		emu.AllowOnly(central, fnActions...)
		if o.Org {
			emu.AllowOnly(member, memberActions...)
		}
	}
	h := &control.Handler{Config: sdkConfig(srv.URL, creds), Settings: settings}
	invoke := func(ev []byte) (control.Response, error) {
		out, err := lambda.NewHandler(h.Handle).Invoke(ctx, ev)
		var resp control.Response
		if err == nil {
			err = json.Unmarshal(out, &resp)
		}
		return resp, err
	}
	// The rule's parameters as deploy writes them.
	var params string
	{
		var tmpl map[string]any
		if err := json.Unmarshal(emit(t, o), &tmpl); err != nil {
			t.Fatal(err)
		}
		res := tmpl["Resources"].(map[string]any)
		if r, ok := res["ConfigRule"]; ok {
			if p, ok := r.(map[string]any)["Properties"].(map[string]any)["InputParameters"]; ok {
				b, _ := json.Marshal(p)
				params = string(b)
			}
		} else {
			params = res["OrganizationConfigRule"].(map[string]any)["Properties"].(map[string]any)["OrganizationCustomRuleMetadata"].(map[string]any)["InputParameters"].(string)
		}
	}
	emu.RecordCalls(true)
	wantStatus := "FAIL"
	if o.AutoRemediate != "" {
		wantStatus = "PASS"
	}
	for i, acct := range watched {
		// 1. AWS Config evaluates the compliant account.
		restrict(true)
		inv, _ := json.Marshal(map[string]any{"messageType": "ScheduledNotification", "awsAccountId": acct, "notificationCreationTime": "2026-01-02T03:04:05.000Z"})
		cev, _ := json.Marshal(map[string]any{"version": "1.0", "invokingEvent": string(inv), "ruleParameters": params, "resultToken": "TESTMODE",
			"eventLeftScope": false, "configRuleName": o.RuleName, "accountId": acct})
		resp, err := invoke(cev)
		switch {
		case err != nil:
			problems = append(problems, acct+": config event: "+err.Error())
		case len(resp.Evaluations) != 1 || resp.Evaluations[0].ComplianceType != "COMPLIANT":
			problems = append(problems, acct+": config event: evaluation "+string(resp.Status)+" "+strings.Join(resp.Reasons, "; "))
		}

		// 2. Someone stops the trail; EventBridge delivers the call.
		restrict(false)
		if _, err := cloudtrail.NewFromConfig(sdkConfig(srv.URL, emu.AddAccount(acct))).StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String(trails[acct])}); err != nil {
			t.Fatal(err)
		}
		restrict(true)
		ev, _ := json.Marshal(map[string]any{"version": "0", "id": "1", "detail-type": "AWS API Call via CloudTrail", "source": "aws.cloudtrail",
			"account": acct, "time": "2026-01-02T03:04:05Z", "region": "us-east-1",
			"detail": map[string]any{"eventSource": "cloudtrail.amazonaws.com", "eventName": "StopLogging", "awsRegion": "us-east-1",
				"eventTime": "2026-01-02T03:04:05Z", "sourceIPAddress": "203.0.113.9", "userAgent": "aws-cli/2",
				"userIdentity": map[string]any{"arn": "arn:aws:iam::" + acct + ":user/mallory"}, "requestParameters": map[string]any{"name": trails[acct]},
				"recipientAccountId": acct}})
		resp, err = invoke(ev)
		switch {
		case err != nil:
			problems = append(problems, acct+": change event: "+err.Error())
		case string(resp.Status) != wantStatus:
			problems = append(problems, acct+": change event: "+string(resp.Status)+" "+strings.Join(resp.Reasons, "; ")+", want "+wantStatus)
		}
		if n := len(emu.Published(topic)); n != i+1 {
			problems = append(problems, fmt.Sprintf("%s: %d alerts published, want %d", acct, n, i+1))
		}
		if settings.ConfigRuleName != "" && resp.RuleEvaluationStarted != settings.ConfigRuleName {
			problems = append(problems, acct+": the rule was not asked to evaluate again")
		}
		if o.Org && !strings.HasPrefix(resp.RuleEvaluationStarted, "OrgConfigRule-"+o.RuleName+"-") {
			problems = append(problems, acct+": the account's member rule of the organization rule was not asked to evaluate again")
		}
	}
	restrict(false)
	emu.ConfigInvocations()
	for _, c := range emu.CallLog() {
		if c.Code == "AccessDenied" || c.Code == "AccessDeniedException" || c.Code == "UnauthorizedOperation" || c.Code == "AuthorizationError" {
			denied = append(denied, c.Action)
		}
	}
	return problems, denied
}

func without(list []string, a string) []string {
	return slices.DeleteFunc(slices.Clone(list), func(s string) bool { return s == a })
}

// The execution role deploy writes holds exactly what the function calls:
// with those actions (and, for an organization, the member role's) the
// function reports to AWS Config, alerts, re-evaluates and remediates, and
// AWS denies it nothing; without any one of them a call is denied, and
// the function cannot do its work (ec2:DescribeRegions aside: without it
// the verdict stands, on the trails, and only the region table is
// incomplete).
func TestFunctionRole_is_exactly_what_the_function_calls(t *testing.T) {
	org := orgBase()
	orgRemediate := orgBase()
	orgRemediate.AutoRemediate = "start-logging"
	remediate := cfnBase()
	remediate.AutoRemediate = "start-logging"
	mutelistS3 := cfnBase()
	mutelistS3.Mutelist = "s3://trailguard-config/mutelists/cis-3-1.yaml"
	orgMutelistS3 := orgBase()
	orgMutelistS3.Mutelist = mutelistS3.Mutelist
	orgMutelistInline := orgBase()
	orgMutelistInline.Mutelist = "testdata/mutelist.yaml"
	for _, tc := range []deployCase{{"one_account", cfnBase()}, {"one_account_auto_remediation", remediate}, {"organization", org}, {"organization_auto_remediation", orgRemediate},
		{"one_account_mutelist_in_s3", mutelistS3}, {"organization_mutelist_in_s3", orgMutelistS3}, {"organization_mutelist_inline", orgMutelistInline}} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.o
			o.Defaults()
			fn := deploy.FunctionActionsFor(o)
			var mem []string
			if o.Org {
				mem = deploy.MemberActions(o.AutoRemediate != "")
			}
			problems, denied := scenario(t, o, fn, mem)
			if len(problems) > 0 || len(denied) > 0 {
				t.Fatalf("with exactly the deployed actions: problems %q, denied %q", problems, denied)
			}
			check := func(role string, list []string, run func(fewer []string) ([]string, []string)) {
				for _, a := range list {
					problems, denied := run(without(list, a))
					if !slices.Contains(denied, a) {
						if role == "member" && a == "config:PutEvaluations" {
							// These events carry the TESTMODE token, which
							// the function answers with its own role; a real
							// member rule's token is written through the
							// member role, which control's
							// TestOrganizationRule proves against the
							// emulator's organization rules.
							t.Logf("member role without %s: not needed for a TESTMODE evaluation", a)
							continue
						}
						t.Errorf("%s role without %s: never denied (denied %q): the function does not call it", role, a, denied)
					}
					if len(problems) == 0 && a != "ec2:DescribeRegions" {
						t.Errorf("%s role without %s: the function still did all its work", role, a)
					}
					if a == "s3:GetObject" && !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, "evaluation ERROR mutelist not applied") }) {
						// An unread mutelist never lets the verdict through
						// unmuted, nor as a pass.
						t.Errorf("function role without s3:GetObject: problems %q, want the evaluation ERROR for the unread mutelist", problems)
					}
				}
			}
			check("function", fn, func(fewer []string) ([]string, []string) { return scenario(t, o, fewer, mem) })
			check("member", mem, func(fewer []string) ([]string, []string) { return scenario(t, o, fn, fewer) })
		})
	}
}
