package deploy

import (
	"slices"
)

// WatchedCalls are the CloudTrail API calls the EventBridge rule delivers:
// the ones the function acts on (control/apicall.go, watched).
var WatchedCalls = []string{"StopLogging", "DeleteTrail", "UpdateTrail", "PutEventSelectors", "CreateTrail", "StartLogging"}

// SCPDeniedActions are what the service control policy denies: every
// call that can switch the control off (CreateTrail and StartLogging only
// add logging).
var SCPDeniedActions = []string{"cloudtrail:StopLogging", "cloudtrail:DeleteTrail", "cloudtrail:UpdateTrail", "cloudtrail:PutEventSelectors"}

// The function's settings, as fixed as the function needs them.
const (
	runtime      = "provided.al2023"
	architecture = "arm64"
	handlerName  = "bootstrap"
	memoryMB     = 128
	// timeoutSeconds covers one account's scan (a handful of calls) with
	// the SDK's retries under CloudTrail's low throttling quotas; Lambda
	// bills the time used, not the timeout.
	timeoutSeconds = 300
	// logRetentionDays keeps the function's log for a year, long enough for
	// an audit period, instead of Lambda's default of forever.
	logRetentionDays = 365
	// alertKey is the KMS key of the alert topic: the AWS managed key of
	// SNS. Its key policy lets every principal of the account use it
	// through SNS, so the function needs no KMS permission to publish; a
	// customer managed key is needed only for AWS services that publish
	// (EventBridge, CloudWatch alarms), and here only the function does.
	alertKey = "alias/aws/sns"
)

// EventPattern is the EventBridge pattern of the calls the function acts
// on, as the JSON EventBridge reads.
func EventPattern() map[string]any {
	return map[string]any{
		"source":      []string{"aws.cloudtrail"},
		"detail-type": []string{"AWS API Call via CloudTrail"},
		"detail": map[string]any{
			"eventSource": []string{"cloudtrail.amazonaws.com"},
			"eventName":   slices.Clone(WatchedCalls),
		},
	}
}

// ruleParameters are the Config rule's input parameters
// (control.RuleParameters); AWS Config passes values as strings.
func (o *Options) ruleParameters() map[string]string {
	p := map[string]string{}
	if o.Strict {
		p["strict"] = "true"
	}
	if o.Org {
		p["executionRoleName"] = o.MemberRoleName
	}
	if m := o.mutelistParameter(); m != "" {
		p["mutelist"] = m
	}
	return p
}

func (o *Options) ruleParametersJSON() string {
	return marshalParameters(o.ruleParameters())
}

// environment is the function's environment (control.SettingsFromEnv).
// The topic is added by each format, as a reference.
func (o *Options) environment() map[string]string {
	env := map[string]string{}
	if o.Org {
		// An organization rule has a generated name in every account: the
		// function finds the account's member rule by this name.
		env["TRAILGUARD_ORG_CONFIG_RULE_NAME"] = o.RuleName
	} else {
		env["TRAILGUARD_CONFIG_RULE_NAME"] = o.RuleName
	}
	if o.AutoRemediate != "" {
		env["TRAILGUARD_AUTO_REMEDIATE"] = o.AutoRemediate
	}
	if o.Strict {
		env["TRAILGUARD_STRICT"] = "true"
	}
	if o.Org {
		env["TRAILGUARD_EXECUTION_ROLE_NAME"] = o.MemberRoleName
	}
	return env
}

// MemberActions are the member role's actions: the scan's reads,
// PutEvaluations, the re-evaluation of the member rule, and StartLogging with auto-remediation (the function
// remediates a member's trail through this role).
func MemberActions(autoRemediate bool) []string {
	a := slices.Clone(MemberRoleActions)
	if autoRemediate {
		a = append(a, FunctionRemediateActions...)
	}
	return a
}

// SCPDocument is the service control policy: deny the calls that switch
// the control off to every principal whose ARN matches none of the
// break-glass patterns. Service-linked roles (CloudTrail's own, for
// organization trails) are outside every SCP.
func SCPDocument(breakGlass []string) map[string]any {
	return map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Sid":       "TrailguardProtectCloudTrail",
			"Effect":    "Deny",
			"Action":    slices.Clone(SCPDeniedActions),
			"Resource":  "*",
			"Condition": map[string]any{"ArnNotLike": map[string]any{"aws:PrincipalARN": slices.Clone(breakGlass)}},
		}},
	}
}

// reportActions are the Config actions of the function's role. None
// takes a useful resource: PutEvaluations and DescribeConfigRules take
// none, and a rule's ARN ends in a generated id that a template cannot
// name ahead.
func reportActions(o *Options) []string {
	a := slices.Clone(FunctionReportActions)
	if o.Org {
		a = append(a, FindMemberRuleActions...)
	}
	return append(a, FunctionReevaluateActions...)
}
