package awsemu_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/configservice"
	cstypes "github.com/aws/aws-sdk-go-v2/service/configservice/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"

	"github.com/trailguard/trailguard/internal/awsemu"
)

const (
	orgMgmt     = "111111111111"
	orgMemberA  = "222222222222"
	orgMemberB  = "333333333333"
	orgExcluded = "444444444444"
	configOrgSP = "config-multiaccountsetup.amazonaws.com"
)

// orgFunc stands in for the central function of an organization rule:
// it reports each member's evaluation with that member's own credentials
// (what the function does through the member role), or, with asCaller
// set, with the credentials of the account it runs in.
type orgFunc struct {
	e        *env
	creds    map[string]awsemu.Credentials
	asCaller string // report with this account's credentials when set

	mu     sync.Mutex
	events []configEvent
	errs   []error
}

func (f *orgFunc) serve(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var ev configEvent
		err := json.Unmarshal(body, &ev)
		if err == nil {
			who := ev.AccountId
			if f.asCaller != "" {
				who = f.asCaller
			}
			_, err = f.e.config(f.creds[who], "us-east-1").PutEvaluations(r.Context(), &configservice.PutEvaluationsInput{
				ResultToken: aws.String(ev.ResultToken), Evaluations: accountEvaluation(ev.AccountId, "COMPLIANT", "reported for "+ev.AccountId)})
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

func (f *orgFunc) got() ([]configEvent, []error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]configEvent(nil), f.events...), append([]error(nil), f.errs...)
}

// newOrg builds an organization of four accounts with the function's
// endpoint registered.
func newOrg(t *testing.T) (*env, map[string]awsemu.Credentials) {
	e := newEnv(t)
	creds := map[string]awsemu.Credentials{}
	for _, id := range []string{orgMgmt, orgMemberA, orgMemberB, orgExcluded} {
		creds[id] = e.emu.AddAccount(id)
	}
	e.emu.SetOrganization(orgMgmt, orgMemberA, orgMemberB, orgExcluded)
	return e, creds
}

func orgCustomRule(name string, excluded ...string) *configservice.PutOrganizationConfigRuleInput {
	return &configservice.PutOrganizationConfigRuleInput{
		OrganizationConfigRuleName: aws.String(name),
		OrganizationCustomRuleMetadata: &cstypes.OrganizationCustomRuleMetadata{
			LambdaFunctionArn:                  aws.String(ruleFunction),
			OrganizationConfigRuleTriggerTypes: []cstypes.OrganizationConfigRuleTriggerType{cstypes.OrganizationConfigRuleTriggerTypeScheduledNotification},
			MaximumExecutionFrequency:          cstypes.MaximumExecutionFrequencyOneHour,
			InputParameters:                    aws.String(`{"executionRoleName":"TrailguardMember"}`),
		},
		ExcludedAccounts: excluded,
	}
}

// memberRule is the one rule AWS Config shows in the account.
func memberRule(t *testing.T, e *env, c awsemu.Credentials) *cstypes.ConfigRule {
	t.Helper()
	out, err := e.config(c, "us-east-1").DescribeConfigRules(context.Background(), &configservice.DescribeConfigRulesInput{})
	must(t, err)
	if len(out.ConfigRules) != 1 {
		t.Fatalf("account %s has %d rules, want the one member rule", c.AccountID, len(out.ConfigRules))
	}
	return &out.ConfigRules[0]
}

// An organization custom rule from the management account: trusted access
// is enabled by the call, every account but the excluded one gets a
// member rule named as AWS names it, each member's evaluation invokes the
// central function for that member with that member's token, and each
// member reads back its own result.
func TestOrgConfigRuleDeploysToEveryAccount(t *testing.T) {
	ctx := context.Background()
	e, creds := newOrg(t)
	fn := &orgFunc{e: e, creds: creds}
	e.emu.SetLambdaEndpoint(ruleFunction, fn.serve(t).URL)
	mgmt := e.config(creds[orgMgmt], "us-east-1")

	out, err := mgmt.PutOrganizationConfigRule(ctx, orgCustomRule("cis-3-1", orgExcluded))
	must(t, err)
	if !strings.HasPrefix(aws.ToString(out.OrganizationConfigRuleArn), "arn:aws:config:us-east-1:"+orgMgmt+":organization-config-rule/cis-3-1-") {
		t.Errorf("organization rule ARN %s", aws.ToString(out.OrganizationConfigRuleArn))
	}
	access, err := organizations.NewFromConfig(e.cfg(creds[orgMgmt], "us-east-1")).ListAWSServiceAccessForOrganization(ctx, &organizations.ListAWSServiceAccessForOrganizationInput{})
	must(t, err)
	if len(access.EnabledServicePrincipals) != 1 || aws.ToString(access.EnabledServicePrincipals[0].ServicePrincipal) != configOrgSP {
		t.Errorf("trusted access %+v, want %s enabled by the call", access.EnabledServicePrincipals, configOrgSP)
	}

	names := map[string]string{}
	for _, id := range []string{orgMgmt, orgMemberA, orgMemberB} {
		r := memberRule(t, e, creds[id])
		name := aws.ToString(r.ConfigRuleName)
		if !strings.HasPrefix(name, "OrgConfigRule-cis-3-1-") || aws.ToString(r.CreatedBy) != configOrgSP ||
			aws.ToString(r.Source.SourceIdentifier) != ruleFunction || aws.ToString(r.InputParameters) != `{"executionRoleName":"TrailguardMember"}` ||
			r.MaximumExecutionFrequency != cstypes.MaximumExecutionFrequencyOneHour || !strings.Contains(aws.ToString(r.ConfigRuleArn), ":"+id+":") {
			t.Errorf("account %s member rule %+v, want OrgConfigRule-cis-3-1-… created by %s invoking the central function", id, r, configOrgSP)
		}
		names[id] = name
	}
	if rules, err := e.config(creds[orgExcluded], "us-east-1").DescribeConfigRules(ctx, &configservice.DescribeConfigRulesInput{}); err != nil || len(rules.ConfigRules) != 0 {
		t.Errorf("excluded account has rules %+v (%v)", rules, err)
	}

	e.emu.RunConfigSchedule()
	events, errs := fn.got()
	if len(errs) != 0 {
		t.Fatalf("PutEvaluations with each member's own credentials failed: %v", errs)
	}
	seen := []string{}
	for _, ev := range events {
		var inv map[string]any
		must(t, json.Unmarshal([]byte(ev.InvokingEvent), &inv))
		if inv["awsAccountId"] != ev.AccountId || ev.ConfigRuleName != names[ev.AccountId] || !strings.Contains(ev.ExecutionRoleArn, "::"+ev.AccountId+":") {
			t.Errorf("event %+v, invoking %v: want the member's account, rule and role", ev, inv)
		}
		seen = append(seen, ev.AccountId)
	}
	sort.Strings(seen)
	if fmt.Sprint(seen) != fmt.Sprint([]string{orgMgmt, orgMemberA, orgMemberB}) {
		t.Errorf("function invoked for %v, want each account of the organization but the excluded one", seen)
	}
	for id, name := range names {
		d, err := e.config(creds[id], "us-east-1").GetComplianceDetailsByConfigRule(ctx, &configservice.GetComplianceDetailsByConfigRuleInput{ConfigRuleName: aws.String(name)})
		must(t, err)
		if len(d.EvaluationResults) != 1 || aws.ToString(d.EvaluationResults[0].EvaluationResultIdentifier.EvaluationResultQualifier.ResourceId) != id {
			t.Errorf("account %s reads %+v, want its own evaluation only", id, d.EvaluationResults)
		}
	}

	// A member's own evaluation request invokes the function too.
	_, err = e.config(creds[orgMemberA], "us-east-1").StartConfigRulesEvaluation(ctx, &configservice.StartConfigRulesEvaluationInput{ConfigRuleNames: []string{names[orgMemberA]}})
	must(t, err)
	e.emu.ConfigInvocations()
	if events, _ := fn.got(); len(events) != 4 || events[3].AccountId != orgMemberA {
		t.Errorf("after the member's StartConfigRulesEvaluation: %d events, want a fourth for %s", len(events), orgMemberA)
	}

	// The member cannot change or remove what the organization put there.
	_, err = e.config(creds[orgMemberA], "us-east-1").DeleteConfigRule(ctx, &configservice.DeleteConfigRuleInput{ConfigRuleName: aws.String(names[orgMemberA])})
	wantCode(t, err, "AccessDeniedException")
	r := memberRule(t, e, creds[orgMemberA])
	r.InputParameters = aws.String(`{}`)
	r.CreatedBy = nil
	_, err = e.config(creds[orgMemberA], "us-east-1").PutConfigRule(ctx, &configservice.PutConfigRuleInput{ConfigRule: r})
	wantCode(t, err, "AccessDeniedException")

	st, err := mgmt.GetOrganizationConfigRuleDetailedStatus(ctx, &configservice.GetOrganizationConfigRuleDetailedStatusInput{OrganizationConfigRuleName: aws.String("cis-3-1")})
	must(t, err)
	if len(st.OrganizationConfigRuleDetailedStatus) != 3 {
		t.Errorf("detailed status %+v, want three accounts", st.OrganizationConfigRuleDetailedStatus)
	}
	for _, s := range st.OrganizationConfigRuleDetailedStatus {
		if s.MemberAccountRuleStatus != cstypes.MemberAccountRuleStatusCreateSuccessful || aws.ToString(s.ConfigRuleName) != names[aws.ToString(s.AccountId)] {
			t.Errorf("status %+v", s)
		}
	}
	desc, err := mgmt.DescribeOrganizationConfigRules(ctx, &configservice.DescribeOrganizationConfigRulesInput{})
	must(t, err)
	if len(desc.OrganizationConfigRules) != 1 || aws.ToString(desc.OrganizationConfigRules[0].OrganizationCustomRuleMetadata.LambdaFunctionArn) != ruleFunction ||
		fmt.Sprint(desc.OrganizationConfigRules[0].ExcludedAccounts) != "["+orgExcluded+"]" {
		t.Errorf("DescribeOrganizationConfigRules %+v", desc.OrganizationConfigRules)
	}

	// Deleting the organization rule removes every member rule.
	_, err = mgmt.DeleteOrganizationConfigRule(ctx, &configservice.DeleteOrganizationConfigRuleInput{OrganizationConfigRuleName: aws.String("cis-3-1")})
	must(t, err)
	for _, id := range []string{orgMgmt, orgMemberA, orgMemberB} {
		if rules, err := e.config(creds[id], "us-east-1").DescribeConfigRules(ctx, &configservice.DescribeConfigRulesInput{}); err != nil || len(rules.ConfigRules) != 0 {
			t.Errorf("account %s keeps %+v (%v) after the organization rule was deleted", id, rules, err)
		}
	}
}

// A member's result token is good only with the member's credentials: the
// central function reporting with its own account's credentials is
// refused, and nothing is stored.
func TestOrgConfigRuleTokenBelongsToMember(t *testing.T) {
	ctx := context.Background()
	e, creds := newOrg(t)
	fn := &orgFunc{e: e, creds: creds, asCaller: orgMgmt}
	e.emu.SetLambdaEndpoint(ruleFunction, fn.serve(t).URL)
	_, err := e.config(creds[orgMgmt], "us-east-1").PutOrganizationConfigRule(ctx, orgCustomRule("cis-3-1", orgMemberB, orgExcluded))
	must(t, err)
	e.emu.RunConfigSchedule()
	events, errs := fn.got()
	if len(events) != 2 {
		t.Fatalf("%d invocations, want the management account's and one member's", len(events))
	}
	if len(errs) != 1 {
		t.Fatalf("PutEvaluations errors %v, want exactly the member's token refused", errs)
	}
	wantCode(t, errs[0], "InvalidResultTokenException")
	name := aws.ToString(memberRule(t, e, creds[orgMemberA]).ConfigRuleName)
	d, err := e.config(creds[orgMemberA], "us-east-1").GetComplianceDetailsByConfigRule(ctx, &configservice.GetComplianceDetailsByConfigRuleInput{ConfigRuleName: aws.String(name)})
	must(t, err)
	if len(d.EvaluationResults) != 0 {
		t.Errorf("member stores %+v from a token used by another account", d.EvaluationResults)
	}
}

// Who may put an organization rule, and AWS Config's error for everyone
// else.
func TestOrgConfigRuleRefusals(t *testing.T) {
	ctx := context.Background()
	const standalone = "999999999999"
	cases := []struct {
		name   string
		setup  func(t *testing.T, e *env, creds map[string]awsemu.Credentials)
		caller string
		input  func() *configservice.PutOrganizationConfigRuleInput
		code   string
	}{
		{"member_account", nil, orgMemberA, nil, "OrganizationAccessDeniedException"},
		{"account_outside_any_organization", nil, standalone, nil, "NoAvailableOrganizationException"},
		{"management_may_not_enable_trusted_access", func(t *testing.T, e *env, _ map[string]awsemu.Credentials) {
			e.emu.AllowOnly(orgMgmt, "config:*", "iam:GetRole", "iam:CreateServiceLinkedRole")
		}, orgMgmt, nil, "OrganizationAccessDeniedException"},
		{"management_with_trusted_access_needs_no_enable", func(t *testing.T, e *env, _ map[string]awsemu.Credentials) {
			e.emu.SetTrustedAccess(orgMgmt, configOrgSP, true)
			e.emu.AllowOnly(orgMgmt, "config:*", "iam:GetRole", "iam:CreateServiceLinkedRole")
		}, orgMgmt, nil, ""},
		{"management_without_iam_get_role", func(t *testing.T, e *env, _ map[string]awsemu.Credentials) {
			e.emu.AllowOnly(orgMgmt, "config:*", "organizations:*")
		}, orgMgmt, nil, "InsufficientPermissionsException"},
		{"delegated_admin", func(t *testing.T, e *env, creds map[string]awsemu.Credentials) {
			e.emu.SetTrustedAccess(orgMgmt, configOrgSP, true)
			registerAdmin(t, e, creds, orgMemberA)
		}, orgMemberA, nil, ""},
		{"delegated_admin_without_trusted_access", func(t *testing.T, e *env, creds map[string]awsemu.Credentials) {
			registerAdmin(t, e, creds, orgMemberA)
		}, orgMemberA, nil, "OrganizationAccessDeniedException"},
		{"delegated_admin_without_list_permission", func(t *testing.T, e *env, creds map[string]awsemu.Credentials) {
			e.emu.SetTrustedAccess(orgMgmt, configOrgSP, true)
			registerAdmin(t, e, creds, orgMemberA)
			e.emu.AllowOnly(orgMemberA, "config:*", "iam:*")
		}, orgMemberA, nil, "OrganizationAccessDeniedException"},
		{"delegated_admin_of_another_service", func(t *testing.T, e *env, creds map[string]awsemu.Credentials) {
			e.emu.SetTrustedAccess(orgMgmt, configOrgSP, true)
			_, err := organizations.NewFromConfig(e.cfg(creds[orgMgmt], "us-east-1")).RegisterDelegatedAdministrator(context.Background(),
				&organizations.RegisterDelegatedAdministratorInput{AccountId: aws.String(orgMemberA), ServicePrincipal: aws.String("securityhub.amazonaws.com")})
			must(t, err)
		}, orgMemberA, nil, "OrganizationAccessDeniedException"},
		{"managed_rule_metadata", nil, orgMgmt, func() *configservice.PutOrganizationConfigRuleInput {
			return &configservice.PutOrganizationConfigRuleInput{OrganizationConfigRuleName: aws.String("managed"),
				OrganizationManagedRuleMetadata: &cstypes.OrganizationManagedRuleMetadata{RuleIdentifier: aws.String("MULTI_REGION_CLOUD_TRAIL_ENABLED")}}
		}, "InvalidParameterValueException"},
		{"no_metadata", nil, orgMgmt, func() *configservice.PutOrganizationConfigRuleInput {
			return &configservice.PutOrganizationConfigRuleInput{OrganizationConfigRuleName: aws.String("none")}
		}, "InvalidParameterValueException"},
		{"unknown_trigger_type", nil, orgMgmt, func() *configservice.PutOrganizationConfigRuleInput {
			in := orgCustomRule("r")
			in.OrganizationCustomRuleMetadata.OrganizationConfigRuleTriggerTypes = []cstypes.OrganizationConfigRuleTriggerType{"ConfigurationSnapshotDeliveryCompleted"}
			return in
		}, "ValidationException"},
		{"function_not_a_lambda_arn", nil, orgMgmt, func() *configservice.PutOrganizationConfigRuleInput {
			in := orgCustomRule("r")
			in.OrganizationCustomRuleMetadata.LambdaFunctionArn = aws.String("arn:aws:sns:us-east-1:111111111111:topic")
			return in
		}, "InvalidParameterValueException"},
		{"parameters_not_json", nil, orgMgmt, func() *configservice.PutOrganizationConfigRuleInput {
			in := orgCustomRule("r")
			in.OrganizationCustomRuleMetadata.InputParameters = aws.String("strict=true")
			return in
		}, "InvalidParameterValueException"},
		{"name_too_long", nil, orgMgmt, func() *configservice.PutOrganizationConfigRuleInput {
			return orgCustomRule(strings.Repeat("r", 65))
		}, "ValidationException"},
		{"excluded_account_not_an_id", nil, orgMgmt, func() *configservice.PutOrganizationConfigRuleInput {
			return orgCustomRule("r", "12345")
		}, "ValidationException"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, creds := newOrg(t)
			creds[standalone] = e.emu.AddAccount(standalone)
			if tc.setup != nil {
				tc.setup(t, e, creds)
			}
			in := orgCustomRule("cis-3-1")
			if tc.input != nil {
				in = tc.input()
			}
			_, err := e.config(creds[tc.caller], "us-east-1").PutOrganizationConfigRule(ctx, in)
			if tc.code != "" {
				wantCode(t, err, tc.code)
				if rules, _ := e.config(creds[orgMemberB], "us-east-1").DescribeConfigRules(ctx, &configservice.DescribeConfigRulesInput{}); rules != nil && len(rules.ConfigRules) != 0 {
					t.Errorf("a refused call deployed %+v", rules.ConfigRules)
				}
				return
			}
			must(t, err)
			// Every account gets the rule, the caller and the management
			// account included.
			for _, id := range []string{orgMgmt, orgMemberA, orgMemberB, orgExcluded} {
				memberRule(t, e, creds[id])
			}
		})
	}
}

func registerAdmin(t *testing.T, e *env, creds map[string]awsemu.Credentials, account string) {
	t.Helper()
	_, err := organizations.NewFromConfig(e.cfg(creds[orgMgmt], "us-east-1")).RegisterDelegatedAdministrator(context.Background(),
		&organizations.RegisterDelegatedAdministratorInput{AccountId: aws.String(account), ServicePrincipal: aws.String(configOrgSP)})
	must(t, err)
}

// Delegated administrators as Organizations keeps them: only the
// management account registers, not itself, not twice; the management
// account and the administrators list them.
func TestDelegatedAdministrators(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name    string
		caller  string
		account string
		before  []string // registered first
		code    string
	}{
		{"management_registers_member", orgMgmt, orgMemberA, nil, ""},
		{"member_cannot_register", orgMemberA, orgMemberB, nil, "AccessDeniedException"},
		{"management_account_itself", orgMgmt, orgMgmt, nil, "ConstraintViolationException"},
		{"already_registered", orgMgmt, orgMemberA, []string{orgMemberA}, "AccountAlreadyRegisteredException"},
		{"not_in_the_organization", orgMgmt, "999999999999", nil, "AccountNotFoundException"},
		{"fourth_administrator", orgMgmt, orgExcluded, []string{orgMemberA, orgMemberB, "555555555555"}, "ConstraintViolationException"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, creds := newOrg(t)
			e.emu.SetOrganization(orgMgmt, "555555555555")
			e.emu.AddAccount("999999999999")
			for _, id := range tc.before {
				registerAdmin(t, e, creds, id)
			}
			_, err := organizations.NewFromConfig(e.cfg(creds[tc.caller], "us-east-1")).RegisterDelegatedAdministrator(ctx,
				&organizations.RegisterDelegatedAdministratorInput{AccountId: aws.String(tc.account), ServicePrincipal: aws.String(configOrgSP)})
			if tc.code != "" {
				wantCode(t, err, tc.code)
				return
			}
			must(t, err)
			for _, who := range []string{orgMgmt, tc.account} {
				out, err := organizations.NewFromConfig(e.cfg(creds[who], "us-east-1")).ListDelegatedAdministrators(ctx,
					&organizations.ListDelegatedAdministratorsInput{ServicePrincipal: aws.String(configOrgSP)})
				must(t, err)
				if len(out.DelegatedAdministrators) != 1 || aws.ToString(out.DelegatedAdministrators[0].Id) != tc.account || out.DelegatedAdministrators[0].DelegationEnabledDate == nil {
					t.Errorf("%s lists %+v", who, out.DelegatedAdministrators)
				}
			}
			_, err = organizations.NewFromConfig(e.cfg(creds[orgMemberB], "us-east-1")).ListDelegatedAdministrators(ctx, &organizations.ListDelegatedAdministratorsInput{})
			wantCode(t, err, "AccessDeniedException")
			_, err = organizations.NewFromConfig(e.cfg(creds[orgMgmt], "us-east-1")).DeregisterDelegatedAdministrator(ctx,
				&organizations.DeregisterDelegatedAdministratorInput{AccountId: aws.String(tc.account), ServicePrincipal: aws.String(configOrgSP)})
			must(t, err)
			_, err = organizations.NewFromConfig(e.cfg(creds[orgMgmt], "us-east-1")).DeregisterDelegatedAdministrator(ctx,
				&organizations.DeregisterDelegatedAdministratorInput{AccountId: aws.String(tc.account), ServicePrincipal: aws.String(configOrgSP)})
			wantCode(t, err, "AccountNotRegisteredException")
		})
	}
}

// The AWS CLI, AWS's own client, puts the organization rule, reads its
// status, and reads a member's compliance through the member rule.
func TestOrgConfigRuleThroughAWSCLI(t *testing.T) {
	e, creds := newOrg(t)
	fn := &orgFunc{e: e, creds: creds}
	e.emu.SetLambdaEndpoint(ruleFunction, fn.serve(t).URL)
	mgmt := newCLI(t, e, creds[orgMgmt].AccessKeyID, creds[orgMgmt].SecretAccessKey)
	meta := fmt.Sprintf(`{"LambdaFunctionArn":%q,"OrganizationConfigRuleTriggerTypes":["ScheduledNotification","ConfigurationItemChangeNotification"],"MaximumExecutionFrequency":"Six_Hours","ResourceTypesScope":["AWS::CloudTrail::Trail"],"InputParameters":"{\"strict\":\"true\"}"}`, ruleFunction)
	put := mgmt.json("us-east-1", "configservice", "put-organization-config-rule", "--organization-config-rule-name", "cis-3-1",
		"--organization-custom-rule-metadata", meta, "--excluded-accounts", orgExcluded)
	if arn, _ := put["OrganizationConfigRuleArn"].(string); !strings.Contains(arn, ":organization-config-rule/cis-3-1-") {
		t.Fatalf("put-organization-config-rule = %v", put)
	}
	st := mgmt.json("us-east-1", "configservice", "get-organization-config-rule-detailed-status", "--organization-config-rule-name", "cis-3-1",
		"--filters", "AccountId="+orgMemberA)
	list, _ := st["OrganizationConfigRuleDetailedStatus"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["MemberAccountRuleStatus"] != "CREATE_SUCCESSFUL" {
		t.Fatalf("get-organization-config-rule-detailed-status = %v", st)
	}
	memberName, _ := list[0].(map[string]any)["ConfigRuleName"].(string)
	statuses := mgmt.json("us-east-1", "configservice", "describe-organization-config-rule-statuses")
	if s, _ := statuses["OrganizationConfigRuleStatuses"].([]any); len(s) != 1 || s[0].(map[string]any)["OrganizationRuleStatus"] != "CREATE_SUCCESSFUL" {
		t.Errorf("describe-organization-config-rule-statuses = %v", statuses)
	}

	member := newCLI(t, e, creds[orgMemberA].AccessKeyID, creds[orgMemberA].SecretAccessKey)
	member.json("us-east-1", "configservice", "start-config-rules-evaluation", "--config-rule-names", memberName)
	e.emu.ConfigInvocations()
	if _, errs := fn.got(); len(errs) != 0 {
		t.Fatalf("function's PutEvaluations: %v", errs)
	}
	d := member.json("us-east-1", "configservice", "get-compliance-details-by-config-rule", "--config-rule-name", memberName)
	res, _ := d["EvaluationResults"].([]any)
	if len(res) != 1 || res[0].(map[string]any)["ComplianceType"] != "COMPLIANT" || res[0].(map[string]any)["Annotation"] != "reported for "+orgMemberA {
		t.Errorf("member reads %v, want its own COMPLIANT", d)
	}
	code, _, stderr := member.run("us-east-1", "configservice", "put-organization-config-rule", "--organization-config-rule-name", "mine",
		"--organization-custom-rule-metadata", meta)
	if code == 0 || !strings.Contains(stderr, "OrganizationAccessDeniedException") {
		t.Errorf("a member's put-organization-config-rule: exit %d, %s", code, stderr)
	}
	code, _, stderr = member.run("us-east-1", "configservice", "delete-config-rule", "--config-rule-name", memberName)
	if code == 0 || !strings.Contains(stderr, "AccessDeniedException") {
		t.Errorf("a member's delete-config-rule of the organization's rule: exit %d, %s", code, stderr)
	}
}

// Putting the organization rule again updates it in place: member rules
// keep their name and ARN and take the new parameters, an account newly
// excluded loses its member rule, and one no longer excluded gets one.
func TestOrgConfigRuleUpdate(t *testing.T) {
	ctx := context.Background()
	e, creds := newOrg(t)
	mgmt := e.config(creds[orgMgmt], "us-east-1")
	_, err := mgmt.PutOrganizationConfigRule(ctx, orgCustomRule("cis-3-1", orgExcluded))
	must(t, err)
	before := memberRule(t, e, creds[orgMemberA])

	in := orgCustomRule("cis-3-1", orgMemberB)
	in.OrganizationCustomRuleMetadata.InputParameters = aws.String(`{"strict":"true"}`)
	_, err = mgmt.PutOrganizationConfigRule(ctx, in)
	must(t, err)
	after := memberRule(t, e, creds[orgMemberA])
	if aws.ToString(after.ConfigRuleName) != aws.ToString(before.ConfigRuleName) || aws.ToString(after.ConfigRuleArn) != aws.ToString(before.ConfigRuleArn) ||
		aws.ToString(after.InputParameters) != `{"strict":"true"}` {
		t.Errorf("member rule after the update %+v, want the same rule with the new parameters (before %+v)", after, before)
	}
	if rules, err := e.config(creds[orgMemberB], "us-east-1").DescribeConfigRules(ctx, &configservice.DescribeConfigRulesInput{}); err != nil || len(rules.ConfigRules) != 0 {
		t.Errorf("newly excluded account keeps %+v (%v)", rules, err)
	}
	memberRule(t, e, creds[orgExcluded]) // no longer excluded
	desc, err := mgmt.DescribeOrganizationConfigRules(ctx, &configservice.DescribeOrganizationConfigRulesInput{OrganizationConfigRuleNames: []string{"cis-3-1"}})
	must(t, err)
	if len(desc.OrganizationConfigRules) != 1 || fmt.Sprint(desc.OrganizationConfigRules[0].ExcludedAccounts) != "["+orgMemberB+"]" {
		t.Errorf("DescribeOrganizationConfigRules %+v", desc.OrganizationConfigRules)
	}
	_, err = mgmt.DescribeOrganizationConfigRules(ctx, &configservice.DescribeOrganizationConfigRulesInput{OrganizationConfigRuleNames: []string{"other"}})
	wantCode(t, err, "NoSuchOrganizationConfigRuleException")
	_, err = e.config(creds[orgMemberA], "us-east-1").DescribeOrganizationConfigRules(ctx, &configservice.DescribeOrganizationConfigRulesInput{})
	wantCode(t, err, "OrganizationAccessDeniedException")
}

// Membership changes reach the organization rule as on AWS: an account
// that joins gets the member rule at once, one that leaves loses it.
func TestOrgConfigRuleFollowsMembership(t *testing.T) {
	ctx := context.Background()
	e, creds := newOrg(t)
	_, err := e.config(creds[orgMgmt], "us-east-1").PutOrganizationConfigRule(ctx, orgCustomRule("cis-3-1", orgExcluded))
	must(t, err)
	const joiner = "555555555555"
	creds[joiner] = e.emu.AddAccount(joiner)
	e.emu.SetOrganization(orgMgmt, joiner)
	memberRule(t, e, creds[joiner])
	e.emu.SetOrganization(orgMemberB) // orgMemberB leaves for an organization of its own
	if rules, err := e.config(creds[orgMemberB], "us-east-1").DescribeConfigRules(ctx, &configservice.DescribeConfigRulesInput{}); err != nil || len(rules.ConfigRules) != 0 {
		t.Errorf("an account that left keeps %+v (%v)", rules, err)
	}
	if rules, err := e.config(creds[orgExcluded], "us-east-1").DescribeConfigRules(ctx, &configservice.DescribeConfigRulesInput{}); err != nil || len(rules.ConfigRules) != 0 {
		t.Errorf("the excluded account got %+v (%v)", rules, err)
	}
}
