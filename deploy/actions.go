package deploy

import (
	"slices"

	tgaws "github.com/trailguard/trailguard/aws"
)

// The IAM actions the function (package control) calls, in one place, so
// that the execution role deploy writes cannot drift from the code: the
// tests run the function's handler in the emulator with exactly these
// actions (it reports and alerts) and with each one taken away (it
// cannot). sts:GetCallerIdentity is not listed: AWS allows it to every
// caller.
var (
	// FunctionScanActions are the reads of one account's scan
	// (aws.ScanAccount, called by control's scan), in the function's own
	// account.
	FunctionScanActions = tgaws.ScanActions
	// FunctionReportActions are what every deployment calls:
	// config:PutEvaluations (control/config.go, the answer to a Config rule
	// event).
	FunctionReportActions = []string{"config:PutEvaluations"}
	// FunctionReevaluateActions ask the account's rule to evaluate again at
	// once after a change event (control/reevaluate.go): with --org in the
	// function's own account, whose member rule of the organization rule
	// it finds first (FindMemberRuleActions).
	FunctionReevaluateActions = []string{"config:StartConfigRulesEvaluation"}
	// FindMemberRuleActions find an account's member rule of the
	// organization rule, whose name AWS Config generates in every account
	// (OrgConfigRule-<name>-<suffix>), before it is asked to evaluate
	// again: with --org only.
	FindMemberRuleActions = []string{"config:DescribeConfigRules"}
	// FunctionAlertActions publish the alert (control/apicall.go, publish),
	// on the deployment's topic only.
	FunctionAlertActions = []string{"sns:Publish"}
	// FunctionRemediateActions is the one write auto-remediation makes
	// (control/apicall.go, startLogging), granted only with
	// --auto-remediate start-logging.
	FunctionRemediateActions = []string{"cloudtrail:StartLogging"}
	// FunctionAssumeActions reach a member account (aws.MemberConfig), on
	// the member role only, granted only with --org.
	FunctionAssumeActions = tgaws.AssumeRoleActions
	// MemberRoleActions are what the function does through the member role
	// of an organization: the scan's reads; PutEvaluations, since an
	// organization rule's evaluation is written in the member account; and
	// after a change event in the member, finding its member rule and
	// asking it to evaluate again.
	MemberRoleActions = slices.Concat(tgaws.ScanActions, []string{"config:PutEvaluations"}, FindMemberRuleActions, FunctionReevaluateActions)
	// LogActions are not called by the function's code: the Lambda service
	// writes the function's log with them, on its own log group only.
	// Without them the function runs but nobody can see why it failed.
	LogActions = []string{"logs:CreateLogStream", "logs:PutLogEvents"}
)

// FunctionActions are every action the function's code calls for the
// given options (LogActions excluded), in the order the role grants them.
func FunctionActions(autoRemediate, org bool) []string {
	a := slices.Concat(FunctionScanActions, FunctionReportActions)
	if org {
		a = append(a, FindMemberRuleActions...)
	}
	a = append(a, FunctionReevaluateActions...)
	a = append(a, FunctionAlertActions...)
	if autoRemediate {
		a = append(a, FunctionRemediateActions...)
	}
	if org {
		a = append(a, FunctionAssumeActions...)
	}
	return a
}
