package control_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/configservice"
	cstypes "github.com/aws/aws-sdk-go-v2/service/configservice/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/trailguard/trailguard"
	"github.com/trailguard/trailguard/control"
	"github.com/trailguard/trailguard/internal/awsemu"
)

// lockedBuffer is the function's log, written while tests read it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// memberCompliance is what the account reads of its member rule of the
// organization rule: the rule's name, and its one evaluation (none when
// nothing was written).
func memberCompliance(t *testing.T, e *env, c awsemu.Credentials) (string, []cstypes.EvaluationResult) {
	t.Helper()
	ctx := context.Background()
	client := configservice.NewFromConfig(e.cfg(c, "us-east-1"))
	rules, err := client.DescribeConfigRules(ctx, &configservice.DescribeConfigRulesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rules.ConfigRules) != 1 || !strings.HasPrefix(aws.ToString(rules.ConfigRules[0].ConfigRuleName), "OrgConfigRule-"+rule+"-") {
		t.Fatalf("account %s has rules %+v, want the organization's member rule", c.AccountID, rules.ConfigRules)
	}
	name := aws.ToString(rules.ConfigRules[0].ConfigRuleName)
	out, err := client.GetComplianceDetailsByConfigRule(ctx, &configservice.GetComplianceDetailsByConfigRuleInput{ConfigRuleName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return name, out.EvaluationResults
}

// An organization custom rule put from the function's (management)
// account: AWS Config invokes the function once per account with that
// account's member rule and token; the function reads each member through
// the member role and writes its evaluation through the same role, so
// each account reads its own verdict. A member whose role cannot be
// assumed gets nothing written, and the function says which role and
// what to grant.
func TestOrganizationRule(t *testing.T) {
	const (
		covered   = member         // covered by the organization trail
		uncovered = "333333333333" // outside the organization trail, no trail of its own
		noRole    = "444444444444" // the member role does not exist
		roleName  = "TrailguardMember"
	)
	e := newEnv(t, control.Settings{})
	log := &lockedBuffer{}
	e.h.Log = log
	creds := map[string]awsemu.Credentials{acct: e.creds}
	for _, id := range []string{covered, uncovered, noRole} {
		creds[id] = e.emu.AddAccount(id)
	}
	e.emu.SetOrganization(acct, covered, uncovered, noRole)
	e.emu.ExcludeFromOrgTrails(uncovered)
	e.emu.AddRole(covered, roleName)
	e.emu.AddRole(uncovered, roleName)
	orgTrail, err := e.emu.PutTrail(acct, awsemu.TrailSpec{Name: "org", S3BucketName: "org-logs", IsMultiRegion: true, IsOrganizationTrail: true,
		IncludeGlobalServiceEvents: true, Logging: true})
	if err != nil {
		t.Fatal(err)
	}

	_, err = e.config().PutOrganizationConfigRule(context.Background(), &configservice.PutOrganizationConfigRuleInput{
		OrganizationConfigRuleName: aws.String(rule),
		OrganizationCustomRuleMetadata: &cstypes.OrganizationCustomRuleMetadata{
			LambdaFunctionArn:                  aws.String(function),
			OrganizationConfigRuleTriggerTypes: []cstypes.OrganizationConfigRuleTriggerType{cstypes.OrganizationConfigRuleTriggerTypeScheduledNotification},
			InputParameters:                    aws.String(`{"executionRoleName":"` + roleName + `"}`),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.emu.RunConfigSchedule()

	cases := []struct {
		name       string
		account    string
		compliance string
		annotation string // prefix; "" for nothing written
	}{
		{"management_account_reads_itself", acct, "COMPLIANT", "PASS: covered by " + orgTrail},
		{"member_covered_by_organization_trail", covered, "COMPLIANT", "PASS: covered by " + orgTrail},
		{"member_outside_organization_trail", uncovered, "NON_COMPLIANT", "FAIL"},
		{"member_role_missing_writes_nothing", noRole, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, results := memberCompliance(t, e, creds[tc.account])
			if tc.compliance == "" {
				if len(results) != 0 {
					t.Fatalf("account %s reads %+v, want nothing written", tc.account, results)
				}
				return
			}
			if len(results) != 1 {
				t.Fatalf("account %s reads %d results, want its own one", tc.account, len(results))
			}
			r := results[0]
			id := aws.ToString(r.EvaluationResultIdentifier.EvaluationResultQualifier.ResourceId)
			if id != tc.account || string(r.ComplianceType) != tc.compliance || !strings.HasPrefix(aws.ToString(r.Annotation), tc.annotation) {
				t.Errorf("account %s reads %s %s %q, want its own %s %q…", tc.account, id, r.ComplianceType, aws.ToString(r.Annotation), tc.compliance, tc.annotation)
			}
		})
	}

	resps, errs := e.responses()
	wantRole := "arn:aws:iam::" + noRole + ":role/" + roleName
	if len(errs) != 1 || !strings.Contains(errs[0], wantRole) || !strings.Contains(errs[0], "sts:AssumeRole") || !strings.Contains(errs[0], "config:PutEvaluations") {
		t.Errorf("function errors %q, want one naming %s and the permissions to grant", errs, wantRole)
	}
	if !strings.Contains(log.String(), wantRole) {
		t.Errorf("function log %q does not name %s", log.String(), wantRole)
	}
	for _, r := range resps {
		if r.Account == noRole {
			t.Errorf("the unreachable member answered a response %+v, want an error", r)
		}
	}
}

// The unreachable member's own invocation, through the handler: the
// verdict is ERROR (nothing passes) and the error names the role.
func TestOrganizationRuleRoleUnreachable(t *testing.T) {
	const roleName = "TrailguardMember"
	cases := []struct {
		name  string
		setup func(e *env)
	}{
		{"role_missing", func(e *env) { e.emu.AddAccount(member) }},
		{"external_id_required", func(e *env) { e.emu.RequireExternalID(member, roleName, "secret-id") }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, control.Settings{})
			log := &lockedBuffer{}
			e.h.Log = log
			tc.setup(e)
			e.trail(t, member, "main", true, true)
			ev := configEvent(t, member, "ScheduledNotification", "token-of-the-member-rule", false, `{"executionRoleName":"`+roleName+`"}`)
			ev = bytes.Replace(ev, []byte(`"accountId":"`+acct+`"`), []byte(`"accountId":"`+member+`"`), 1)
			resp, err := e.h.Handle(context.Background(), ev)
			want := "arn:aws:iam::" + member + ":role/" + roleName
			if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "not written") {
				t.Fatalf("error %v, want one saying the evaluation was not written through %s", err, want)
			}
			if resp.Status != trailguard.StatusError || len(resp.Errors) != 1 {
				t.Errorf("response %+v, want ERROR with the error", resp)
			}
			if !strings.Contains(log.String(), want) {
				t.Errorf("log %q does not name the role", log.String())
			}
		})
	}
}

const (
	mutelistBucket = "trailguard-config"
	mutelistKey    = "mutelists/cis-3-1.yaml"
)

// putObject stores a mutelist in the function's account.
func (e *env) putObject(t *testing.T, key string, body []byte) {
	t.Helper()
	ctx := context.Background()
	client := s3.NewFromConfig(e.cfg(e.creds, "us-east-1"), func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(mutelistBucket)}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(mutelistBucket), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
}

func muteEntry(account, expires string) string {
	return "mutes:\n  - accounts: [\"" + account + "\"]\n    reason: account closing in Q1\n    owner: secops@example.com\n    expires: " + expires + "\n"
}

// The mutelist parameter: a muted account is NOT_APPLICABLE with who
// muted it and why, never COMPLIANT; a mutelist that cannot be read or
// parsed is NON_COMPLIANT with an annotation starting ERROR; an expired
// entry no longer mutes and is noted.
func TestMutelistParameter(t *testing.T) {
	quoteJSON := func(s string) string {
		r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
		return `"` + r.Replace(s) + `"`
	}
	cases := []struct {
		name       string
		logging    bool
		params     string
		setup      func(t *testing.T, e *env)
		compliance string
		annotation string // prefix
		contains   string
		notice     bool
	}{
		{"inline_yaml_mutes_failing_account", false, `{"mutelist":` + quoteJSON(muteEntry(acct, "2099-12-31")) + `}`, nil,
			"NOT_APPLICABLE", "MUTED (FAIL): account closing in Q1 (owner secops@example.com, until 2099-12-31; ruleParameters.mutelist:", "", false},
		{"inline_json_object", false, `{"mutelist":{"mutes":[{"accounts":["` + acct + `"],"reason":"sandbox","owner":"cloud@example.com","expires":"2099-01-01"}]}}`, nil,
			"NOT_APPLICABLE", "MUTED (FAIL): sandbox (owner cloud@example.com", "", false},
		{"s3_mutelist", false, `{"mutelist":"s3://` + mutelistBucket + `/` + mutelistKey + `"}`, func(t *testing.T, e *env) {
			e.putObject(t, mutelistKey, []byte(muteEntry("1111*", "2099-12-31")))
		}, "NOT_APPLICABLE", "MUTED (FAIL): account closing in Q1", "s3://" + mutelistBucket + "/" + mutelistKey + ":", false},
		{"passing_account_stays_compliant", true, `{"mutelist":` + quoteJSON(muteEntry(acct, "2099-12-31")) + `}`, nil,
			"COMPLIANT", "PASS", "", false},
		{"entry_for_another_account", false, `{"mutelist":` + quoteJSON(muteEntry("999999999999", "2099-12-31")) + `}`, nil,
			"NON_COMPLIANT", "FAIL", "", false},
		{"expired_entry_does_not_mute", false, `{"mutelist":` + quoteJSON(muteEntry(acct, "2020-01-31")) + `}`, nil,
			"NON_COMPLIANT", "FAIL", "", true},
		{"s3_object_missing", true, `{"mutelist":"s3://` + mutelistBucket + `/missing.yaml"}`, func(t *testing.T, e *env) {
			e.putObject(t, mutelistKey, []byte(muteEntry(acct, "2099-12-31")))
		}, "NON_COMPLIANT", "ERROR: mutelist not applied (verdict without it: PASS): s3:GetObject s3://" + mutelistBucket + "/missing.yaml: NoSuchKey", "", false},
		{"s3_read_denied", true, `{"mutelist":"s3://` + mutelistBucket + `/` + mutelistKey + `"}`, func(t *testing.T, e *env) {
			e.putObject(t, mutelistKey, []byte(muteEntry(acct, "2099-12-31")))
			e.emu.Deny("s3:GetObject")
		}, "NON_COMPLIANT", "ERROR: mutelist not applied", "s3:GetObject", false},
		{"s3_object_too_large", false, `{"mutelist":"s3://` + mutelistBucket + `/` + mutelistKey + `"}`, func(t *testing.T, e *env) {
			e.putObject(t, mutelistKey, append([]byte(muteEntry(acct, "2099-12-31")+"# "), bytes.Repeat([]byte("x"), 1<<20)...))
		}, "NON_COMPLIANT", "ERROR: mutelist not applied", "limit", false},
		{"malformed_inline_entry", true, `{"mutelist":` + quoteJSON("mutes:\n  - accounts: [\""+acct+"\"]\n    reason: no owner\n") + `}`, nil,
			"NON_COMPLIANT", "ERROR: mutelist not applied (verdict without it: PASS): ruleParameters.mutelist:", "owner is required", false},
		{"malformed_s3_yaml", false, `{"mutelist":"s3://` + mutelistBucket + `/` + mutelistKey + `"}`, func(t *testing.T, e *env) {
			e.putObject(t, mutelistKey, []byte("mutes: [\n  {unclosed"))
		}, "NON_COMPLIANT", "ERROR: mutelist not applied (verdict without it: FAIL): s3://" + mutelistBucket + "/" + mutelistKey + ":", "", false},
		{"not_an_s3_uri", true, `{"mutelist":"s3://Not_A_Bucket/key"}`, nil, "NON_COMPLIANT", "ERROR: rule parameters", "bucket", false},
		{"mutelist_not_a_string", true, `{"mutelist":["a"]}`, nil, "NON_COMPLIANT", "ERROR: rule parameters", "mutelist", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, control.Settings{})
			e.h.Log = &lockedBuffer{}
			e.trail(t, acct, "main", true, tc.logging)
			if tc.setup != nil {
				tc.setup(t, e)
			}
			e.putRule(t, tc.params)
			e.evaluate(t)
			resps, errs := e.responses()
			if len(errs) > 0 || len(resps) != 1 {
				t.Fatalf("function answered %+v, errors %v", resps, errs)
			}
			got, ann := e.compliance(t)
			if got != tc.compliance || !strings.HasPrefix(ann, tc.annotation) || !strings.Contains(ann, tc.contains) {
				t.Errorf("compliance %s %q, want %s starting %q containing %q", got, ann, tc.compliance, tc.annotation, tc.contains)
			}
			if tc.compliance == "NOT_APPLICABLE" && resps[0].Status != trailguard.StatusMuted {
				t.Errorf("response status %s, want MUTED", resps[0].Status)
			}
			if tc.notice != (len(resps[0].Notices) == 1 && strings.Contains(resps[0].Notices[0], "expired")) {
				t.Errorf("notices %q, want an expiry notice: %v", resps[0].Notices, tc.notice)
			}
		})
	}
}

// A member's verdict and its evaluation go through one AssumeRole: the
// write reuses the scan's cached credentials of the same role.
func TestOrganizationRuleAssumesRoleOnce(t *testing.T) {
	e := newEnv(t, control.Settings{})
	e.emu.AddAccount(member)
	e.emu.SetOrganization(acct, member)
	e.emu.AddRole(member, "TrailguardMember")
	if _, err := e.emu.PutTrail(acct, awsemu.TrailSpec{Name: "org", S3BucketName: "org-logs", IsMultiRegion: true, IsOrganizationTrail: true,
		IncludeGlobalServiceEvents: true, Logging: true}); err != nil {
		t.Fatal(err)
	}
	_, err := e.config().PutOrganizationConfigRule(context.Background(), &configservice.PutOrganizationConfigRuleInput{
		OrganizationConfigRuleName: aws.String(rule), ExcludedAccounts: []string{acct},
		OrganizationCustomRuleMetadata: &cstypes.OrganizationCustomRuleMetadata{LambdaFunctionArn: aws.String(function),
			OrganizationConfigRuleTriggerTypes: []cstypes.OrganizationConfigRuleTriggerType{cstypes.OrganizationConfigRuleTriggerTypeScheduledNotification},
			InputParameters:                    aws.String(`{"executionRoleName":"TrailguardMember"}`)}})
	if err != nil {
		t.Fatal(err)
	}
	e.emu.ResetCalls()
	e.emu.RunConfigSchedule()
	calls := e.emu.Calls()
	if _, errs := e.responses(); len(errs) != 0 || calls["config:PutEvaluations"] != 1 || calls["sts:AssumeRole"] != 1 {
		t.Errorf("calls %v, errors %v: want one PutEvaluations after one AssumeRole", calls, errs)
	}
}
