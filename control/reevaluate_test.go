package control_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/configservice"
	cstypes "github.com/aws/aws-sdk-go-v2/service/configservice/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/trailguard/trailguard/control"
	"github.com/trailguard/trailguard/internal/awsemu"
)

// After a change event in an organization deployment the function finds
// the account's member rule of the organization rule (its name carries a
// generated suffix) and asks it to evaluate again, through the member role
// in a member account and its own role in its own account: AWS Config's
// compliance follows at once, not at the next period. The member rule of
// another organization rule whose name extends this one's, and a rule an
// account made itself under such a name, are not asked; an account the
// organization rule excludes has no member rule and is told so, without
// failing the invocation (which would publish its alert again).
func TestOrganizationRule_change_event_reevaluates_member_rule(t *testing.T) {
	const (
		roleName = "TrailguardMember"
		excluded = "333333333333"
	)
	cases := []struct {
		name    string
		account string
		// fnDenied are taken from the function's own role: a member's
		// re-evaluation goes through the member role only.
		fnDenied []string
		// ownRules are rules the account made itself, named so that they
		// list before the member rule (25 to a page).
		ownRules      int
		wantPages     int
		wantStarted   bool
		wantNotice    string
		wantCompliant string // the account's member rule after the event
	}{
		{"member_account_through_member_role", member, []string{"config:DescribeConfigRules", "config:StartConfigRulesEvaluation"}, 0, 1, true, "", "NON_COMPLIANT"},
		{"member_rule_on_the_second_page", member, nil, 30, 2, true, "", "NON_COMPLIANT"},
		{"function_account_through_its_own_role", acct, nil, 0, 1, true, "", "NON_COMPLIANT"},
		{"account_excluded_from_the_rule", excluded, nil, 0, 1, false, "no member rule of organization rule " + rule, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			topic := "arn:aws:sns:us-east-1:" + acct + ":trailguard-alerts"
			e := newEnv(t, control.Settings{AlertTopicARN: topic, OrgConfigRuleName: rule, ExecutionRoleName: roleName})
			if _, err := sns.NewFromConfig(e.cfg(e.creds, "us-east-1")).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("trailguard-alerts")}); err != nil {
				t.Fatal(err)
			}
			creds := map[string]awsemu.Credentials{acct: e.creds}
			for _, id := range []string{member, excluded} {
				creds[id] = e.emu.AddAccount(id)
				e.emu.AddRole(id, roleName)
			}
			e.emu.SetOrganization(acct, member, excluded)
			trails := map[string]string{}
			for id := range creds {
				trails[id] = e.trail(t, id, "main", true, true)
			}
			for i := 0; i < tc.ownRules; i++ {
				if _, err := configservice.NewFromConfig(e.cfg(creds[tc.account], "us-east-1")).PutConfigRule(ctx, &configservice.PutConfigRuleInput{ConfigRule: &cstypes.ConfigRule{
					ConfigRuleName: aws.String(fmt.Sprintf("Custom-%02d", i)),
					Source: &cstypes.Source{Owner: cstypes.OwnerCustomLambda, SourceIdentifier: aws.String("arn:aws:lambda:us-east-1:" + tc.account + ":function:other"),
						SourceDetails: []cstypes.SourceDetail{{EventSource: cstypes.EventSourceAwsConfig, MessageType: cstypes.MessageTypeConfigurationItemChangeNotification}}}}}); err != nil {
					t.Fatal(err)
				}
			}
			// The member's own rule named like a member rule, before the
			// organization's rules exist.
			if _, err := configservice.NewFromConfig(e.cfg(creds[member], "us-east-1")).PutConfigRule(ctx, &configservice.PutConfigRuleInput{ConfigRule: &cstypes.ConfigRule{
				ConfigRuleName: aws.String("OrgConfigRule-" + rule + "-ownrule1"), InputParameters: aws.String(`{"executionRoleName":"` + roleName + `"}`),
				Source: &cstypes.Source{Owner: cstypes.OwnerCustomLambda, SourceIdentifier: aws.String(function),
					SourceDetails: []cstypes.SourceDetail{{EventSource: cstypes.EventSourceAwsConfig, MessageType: cstypes.MessageTypeScheduledNotification}}}}}); err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{rule, rule + "-other"} {
				if _, err := e.config().PutOrganizationConfigRule(ctx, &configservice.PutOrganizationConfigRuleInput{
					OrganizationConfigRuleName: aws.String(name), ExcludedAccounts: []string{excluded},
					OrganizationCustomRuleMetadata: &cstypes.OrganizationCustomRuleMetadata{LambdaFunctionArn: aws.String(function),
						OrganizationConfigRuleTriggerTypes: []cstypes.OrganizationConfigRuleTriggerType{cstypes.OrganizationConfigRuleTriggerTypeScheduledNotification},
						InputParameters:                    aws.String(`{"executionRoleName":"` + roleName + `"}`)}}); err != nil {
					t.Fatal(err)
				}
			}
			e.emu.RunConfigSchedule()
			e.emu.ConfigInvocations()
			before := len(e.emu.ConfigInvocations())

			if _, err := cloudtrail.NewFromConfig(e.cfg(creds[tc.account], "us-east-1")).StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String(trails[tc.account])}); err != nil {
				t.Fatal(err)
			}
			if tc.fnDenied != nil {
				e.emu.AllowOnly(acct, "cloudtrail:*", "ec2:DescribeRegions", "sts:AssumeRole", "sns:Publish", "config:PutEvaluations")
			}
			e.emu.ResetCalls()
			resp, err := e.h.Handle(ctx, apiCall(tc.account, "StopLogging", trails[tc.account], "aws-cli/2"))
			e.emu.AllowOnly(acct)
			if err != nil {
				t.Fatalf("change event: %v (response %+v)", err, resp)
			}
			invs := e.emu.ConfigInvocations()[before:] // waits for the evaluation started
			calls := e.emu.Calls()
			t.Logf("calls of the change event and the evaluation it started: %v", calls)
			memberRule := memberRuleName(t, e, creds[tc.account])
			if !tc.wantStarted {
				if resp.RuleEvaluationStarted != "" || len(invs) != 0 {
					t.Errorf("started %q, invocations %d; want none", resp.RuleEvaluationStarted, len(invs))
				}
				if !slices.ContainsFunc(resp.Notices, func(n string) bool { return strings.Contains(n, tc.wantNotice) }) {
					t.Errorf("notices %q, want one saying %q", resp.Notices, tc.wantNotice)
				}
				return
			}
			if resp.RuleEvaluationStarted != memberRule || !strings.HasPrefix(memberRule, "OrgConfigRule-"+rule+"-") {
				t.Fatalf("started %q, want the account's member rule %q", resp.RuleEvaluationStarted, memberRule)
			}
			// Every page of rules read, one start; a member's role assumed
			// once for the scan and the re-evaluation together.
			if calls["config:DescribeConfigRules"] != tc.wantPages || calls["config:StartConfigRulesEvaluation"] != 1 || calls["sts:AssumeRole"] > 1 {
				t.Errorf("calls %v: want %d DescribeConfigRules, one StartConfigRulesEvaluation, at most one AssumeRole", calls, tc.wantPages)
			}
			if len(invs) != 1 || invs[0].Rule != tc.account+"/us-east-1/"+memberRule {
				var rules []string
				for _, inv := range invs {
					rules = append(rules, inv.Rule)
				}
				t.Fatalf("rules invoked after the event %q, want one: %s of account %s", rules, memberRule, tc.account)
			}
			out, err := configservice.NewFromConfig(e.cfg(creds[tc.account], "us-east-1")).GetComplianceDetailsByConfigRule(ctx,
				&configservice.GetComplianceDetailsByConfigRuleInput{ConfigRuleName: aws.String(memberRule)})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.EvaluationResults) != 1 || string(out.EvaluationResults[0].ComplianceType) != tc.wantCompliant {
				t.Errorf("account %s reads %+v, want %s at once", tc.account, out.EvaluationResults, tc.wantCompliant)
			}
		})
	}
}

// memberRuleName is the account's member rule of the organization rule
// named rule, as the account lists it ("" when it has none).
func memberRuleName(t *testing.T, e *env, c awsemu.Credentials) string {
	t.Helper()
	p := configservice.NewDescribeConfigRulesPaginator(configservice.NewFromConfig(e.cfg(c, "us-east-1")), &configservice.DescribeConfigRulesInput{})
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range out.ConfigRules {
			name := aws.ToString(r.ConfigRuleName)
			if aws.ToString(r.CreatedBy) != "" && strings.HasPrefix(name, "OrgConfigRule-"+rule+"-") && !strings.HasPrefix(name, "OrgConfigRule-"+rule+"-other-") {
				return name
			}
		}
	}
	return ""
}
