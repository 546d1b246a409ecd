package deploy

import (
	"encoding/json"
	"fmt"
	"slices"
)

type obj = map[string]any

func sub(s string, vars obj) any {
	if vars == nil {
		return obj{"Fn::Sub": s}
	}
	return obj{"Fn::Sub": []any{s, vars}}
}
func ref(name string) any         { return obj{"Ref": name} }
func getAtt(res, attr string) any { return obj{"Fn::GetAtt": []string{res, attr}} }
func statement(sid string, actions []string, resource any) obj {
	return obj{"Sid": sid, "Effect": "Allow", "Action": slices.Clone(actions), "Resource": resource}
}

// Logical ids of the resources other resources refer to.
const (
	cfnRole     = "FunctionRole"
	cfnFunction = "Function"
	cfnTopic    = "AlertTopic"
	cfnRule     = "ChangeEventRule"
	cfnLogGroup = "FunctionLogGroup"
	cfnConfigOK = "ConfigInvokePermission"
	cfnMember   = "MemberRoleStackSet"
)

// Emit writes the template the options ask for.
func Emit(o Options) ([]byte, error) {
	o.Defaults()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	switch {
	case o.SCPOnly && o.Format == JSON:
		return marshal(SCPDocument(o.BreakGlass))
	case o.Format == Terraform:
		return terraformFile(&o)
	}
	return marshal(CloudFormationTemplate(&o))
}

func marshal(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode template: %w", err)
	}
	return append(b, '\n'), nil
}

// CloudFormationTemplate is the template the options ask for, as data.
func CloudFormationTemplate(o *Options) obj {
	res := obj{}
	var desc string
	switch {
	case o.SCPOnly:
		desc = "trailguard: service control policy that keeps CloudTrail on (CIS AWS Foundations 3.1). Deploy in the management account (or a delegated administrator for Organizations policies), in any region: Organizations is global."
	case o.Forwarder:
		return forwarderTemplate(o)
	case o.ManagementAccount:
		return memberTemplate(o, true)
	case o.Org:
		desc = "trailguard: keeps CIS AWS Foundations 3.1 true in every account of the organization. Deploy in the AWS Config delegated administrator (or the management) account, in the region where your trails have their home: the function, an organization Config rule, the central event bus policy, and StackSets that give every member the member role and forward its CloudTrail API calls here. StackSets never reach the management account: deploy 'trailguard deploy --org --management-account' there too."
	default:
		desc = "trailguard: keeps CIS AWS Foundations 3.1 true in this account. Deploy in the region where your trails have their home: the function, its AWS Config rule (periodic and on trail changes), the EventBridge rule for CloudTrail API calls, and the encrypted alert topic. Needs AWS Config recording in this region."
	}
	if len(o.Regions) > 0 && o.Org {
		desc += " The member StackSet also forwards the CloudTrail API calls of " + o.regionsText() + " (a multi-region trail homed there is changed there); deploy the management account's template in each of those regions too, with CentralRegion set to this one."
	} else if len(o.Regions) > 0 {
		desc += " CloudTrail API calls of " + o.regionsText() + " (where a multi-region trail homed there is changed) reach the function through 'trailguard deploy --forwarder --regions', a template deployed in each of those regions with this stack's CentralEventBusArn output."
	}
	if !o.SCPOnly {
		addFunction(o, res)
	}
	if o.SCP || o.SCPOnly {
		p := obj{
			"Name":        o.FunctionName + "-protect-cloudtrail",
			"Description": "trailguard: deny StopLogging, DeleteTrail, UpdateTrail and PutEventSelectors except to break-glass roles (CIS AWS Foundations 3.1). It does not bind the management account.",
			"Type":        "SERVICE_CONTROL_POLICY",
			"Content":     SCPDocument(o.BreakGlass),
		}
		if len(o.SCPTargets) > 0 {
			p["TargetIds"] = slices.Clone(o.SCPTargets)
		}
		res["ProtectCloudTrailPolicy"] = obj{"Type": "AWS::Organizations::Policy", "Properties": p}
	}
	t := obj{"AWSTemplateFormatVersion": "2010-09-09", "Description": desc, "Resources": res}
	if !o.SCPOnly {
		t["Outputs"] = obj{
			"FunctionArn":   obj{"Description": "The trailguard function", "Value": getAtt(cfnFunction, "Arn")},
			"FunctionRole":  obj{"Description": "The function's execution role (members' role trusts it)", "Value": getAtt(cfnRole, "Arn")},
			"AlertTopicArn": obj{"Description": "Subscribe here to receive alerts", "Value": ref(cfnTopic)},
			"CentralEventBusArn": obj{"Description": "The default event bus the function's EventBridge rule reads: the CentralEventBusArn of the forwarding templates",
				"Value": sub("arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default", nil)},
		}
	}
	return t
}

// addFunction adds the function, its role, log group, topic, Config rule,
// EventBridge rule and permissions; with Org the organization rule, the
// bus policy and the member StackSets.
func addFunction(o *Options, res obj) {
	logGroup := "/aws/lambda/" + o.FunctionName
	res[cfnLogGroup] = obj{"Type": "AWS::Logs::LogGroup", "Properties": obj{"LogGroupName": logGroup, "RetentionInDays": logRetentionDays}}

	st := []any{
		statement("TrailguardReadTrails", FunctionScanActions, "*"),
		statement("TrailguardReportToConfig", reportActions(o), "*"),
		statement("TrailguardAlert", FunctionAlertActions, ref(cfnTopic)),
		statement("TrailguardWriteOwnLog", LogActions, sub("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:${LogGroup}:*", obj{"LogGroup": logGroup})),
	}
	if _, _, isS3 := o.MutelistS3(); isS3 {
		// The object's ARN as a Sub variable: its value is taken literally.
		st = append(st, statement("TrailguardReadMutelist", FunctionMutelistActions, sub("arn:${AWS::Partition}:s3:::${Object}", obj{"Object": o.mutelistObject()})))
	}
	if o.AutoRemediate != "" {
		st = append(st, statement("TrailguardStartLogging", FunctionRemediateActions, sub("arn:${AWS::Partition}:cloudtrail:*:${AWS::AccountId}:trail/*", nil)))
	}
	if o.Org {
		st = append(st, statement("TrailguardAssumeMemberRole", FunctionAssumeActions, sub("arn:${AWS::Partition}:iam::*:role/${Role}", obj{"Role": o.MemberRoleName})))
	}
	res[cfnRole] = obj{"Type": "AWS::IAM::Role", "Properties": obj{
		"RoleName":    o.FunctionName + "-function",
		"Description": "trailguard function: exactly the calls it makes (trailguard deploy)",
		"AssumeRolePolicyDocument": obj{"Version": "2012-10-17", "Statement": []any{obj{
			"Effect": "Allow", "Principal": obj{"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}}},
		"Policies": []any{obj{"PolicyName": "trailguard", "PolicyDocument": obj{"Version": "2012-10-17", "Statement": st}}},
	}}

	topic := obj{"TopicName": o.FunctionName + "-alerts", "DisplayName": "trailguard", "KmsMasterKeyId": alertKey}
	res[cfnTopic] = obj{"Type": "AWS::SNS::Topic", "Properties": topic}
	if o.AlertEmail != "" {
		res["AlertEmailSubscription"] = obj{"Type": "AWS::SNS::Subscription", "Properties": obj{
			"TopicArn": ref(cfnTopic), "Protocol": "email", "Endpoint": o.AlertEmail}}
	}

	vars := obj{"TRAILGUARD_ALERT_TOPIC_ARN": ref(cfnTopic)}
	for k, v := range o.environment() {
		vars[k] = v
	}
	res[cfnFunction] = obj{"Type": "AWS::Lambda::Function", "DependsOn": []string{cfnLogGroup}, "Properties": obj{
		"FunctionName":  o.FunctionName,
		"Description":   "trailguard: CIS AWS Foundations 3.1 as an AWS Config rule and the target of CloudTrail API calls",
		"Runtime":       runtime,
		"Architectures": []string{architecture},
		"Handler":       handlerName,
		"MemorySize":    memoryMB,
		"Timeout":       timeoutSeconds,
		"Role":          getAtt(cfnRole, "Arn"),
		"Code":          obj{"S3Bucket": o.CodeS3Bucket, "S3Key": o.CodeS3Key},
		"Environment":   obj{"Variables": vars},
	}}

	res[cfnRule] = obj{"Type": "AWS::Events::Rule", "Properties": obj{
		"Name":         o.FunctionName + "-cloudtrail-changes",
		"Description":  "trailguard: CloudTrail API calls that can switch logging off, to the function (with --org, members forward theirs to this account's default bus)",
		"EventPattern": EventPattern(),
		"State":        "ENABLED",
		"Targets":      []any{obj{"Id": "trailguard", "Arn": getAtt(cfnFunction, "Arn")}},
	}}
	res["EventsInvokePermission"] = obj{"Type": "AWS::Lambda::Permission", "Properties": obj{
		"FunctionName": ref(cfnFunction), "Action": "lambda:InvokeFunction", "Principal": "events.amazonaws.com",
		"SourceArn": getAtt(cfnRule, "Arn")}}

	configPerm := obj{"FunctionName": ref(cfnFunction), "Action": "lambda:InvokeFunction", "Principal": "config.amazonaws.com"}
	if !o.Org {
		configPerm["SourceAccount"] = ref("AWS::AccountId")
	}
	// With Org, AWS Config of every member account invokes the function:
	// a permission cannot list them all, and the function can only read an
	// account through the member role, which exists only in the
	// organization's accounts.
	res[cfnConfigOK] = obj{"Type": "AWS::Lambda::Permission", "Properties": configPerm}

	triggers := []string{"ScheduledNotification", "ConfigurationItemChangeNotification", "OversizedConfigurationItemChangeNotification"}
	if !o.Org {
		details := []any{}
		for _, m := range triggers {
			d := obj{"EventSource": "aws.config", "MessageType": m}
			if m == "ScheduledNotification" {
				d["MaximumExecutionFrequency"] = o.Period
			}
			details = append(details, d)
		}
		rule := obj{
			"ConfigRuleName": o.RuleName,
			"Description":    "CIS AWS Foundations 3.1: CloudTrail records every management API call in every region (trailguard)",
			"Scope":          obj{"ComplianceResourceTypes": []string{"AWS::CloudTrail::Trail"}},
			"Source":         obj{"Owner": "CUSTOM_LAMBDA", "SourceIdentifier": getAtt(cfnFunction, "Arn"), "SourceDetails": details},
		}
		if p := o.ruleParameters(); len(p) > 0 {
			rule["InputParameters"] = p
		}
		res["ConfigRule"] = obj{"Type": "AWS::Config::ConfigRule", "DependsOn": []string{cfnConfigOK}, "Properties": rule}
		return
	}

	res["OrganizationConfigRule"] = obj{"Type": "AWS::Config::OrganizationConfigRule", "DependsOn": []string{cfnConfigOK, cfnMember}, "Properties": obj{
		"OrganizationConfigRuleName": o.RuleName,
		"OrganizationCustomRuleMetadata": obj{
			"Description":                        "CIS AWS Foundations 3.1: CloudTrail records every management API call in every region (trailguard)",
			"LambdaFunctionArn":                  getAtt(cfnFunction, "Arn"),
			"OrganizationConfigRuleTriggerTypes": triggers,
			"MaximumExecutionFrequency":          o.Period,
			"ResourceTypesScope":                 []string{"AWS::CloudTrail::Trail"},
			"InputParameters":                    o.ruleParametersJSON(),
		},
	}}
	res["OrganizationEventBusPolicy"] = obj{"Type": "AWS::Events::EventBusPolicy", "Properties": obj{
		"StatementId": o.FunctionName + "-organization-forwards",
		"Statement": obj{
			"Effect": "Allow", "Principal": "*", "Action": "events:PutEvents",
			"Resource":  sub("arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default", nil),
			"Condition": obj{"StringEquals": obj{"aws:PrincipalOrgID": o.OrgID}},
		},
	}}
	body, _ := json.Marshal(memberTemplate(o, false)) // maps of strings and slices always marshal
	callAs := "SELF"
	if o.DelegatedAdmin {
		callAs = "DELEGATED_ADMIN"
	}
	res[cfnMember] = obj{"Type": "AWS::CloudFormation::StackSet", "DependsOn": []string{cfnRole, "OrganizationEventBusPolicy"}, "Properties": obj{
		"StackSetName":         o.FunctionName + "-member",
		"Description":          "trailguard member role and CloudTrail call forwarding, in every account of the targets (never the management account), in this region and the regions of --regions",
		"PermissionModel":      "SERVICE_MANAGED",
		"CallAs":               callAs,
		"AutoDeployment":       obj{"Enabled": true, "RetainStacksOnAccountRemoval": false},
		"ManagedExecution":     obj{"Active": true},
		"Capabilities":         []string{"CAPABILITY_NAMED_IAM"},
		"OperationPreferences": obj{"FailureTolerancePercentage": 10, "MaxConcurrentPercentage": 25, "RegionConcurrencyType": "PARALLEL"},
		"Parameters": []any{
			obj{"ParameterKey": "FunctionRoleArn", "ParameterValue": getAtt(cfnRole, "Arn")},
			obj{"ParameterKey": "CentralEventBusArn", "ParameterValue": sub("arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default", nil)},
			obj{"ParameterKey": "CentralAccountId", "ParameterValue": ref("AWS::AccountId")},
			obj{"ParameterKey": "CentralRegion", "ParameterValue": ref("AWS::Region")},
		},
		"StackInstancesGroup": []any{obj{
			"DeploymentTargets": obj{"OrganizationalUnitIds": slices.Clone(o.OrgTargets)},
			// The function's region holds the member role; every region
			// forwards its CloudTrail calls.
			"Regions": append([]any{ref("AWS::Region")}, toAny(o.Regions)...),
		}},
		"TemplateBody": string(body),
	}}
}

// memberTemplate is what every member account holds: the role the function
// assumes (trusting only the function's role), in the function's region
// only (IAM is global), and in every region an EventBridge rule that
// forwards the account's CloudTrail calls to the central bus through a
// role allowed only events:PutEvents on that bus. forManagement says it is
// the plain stack for the management account.
func memberTemplate(o *Options, forManagement bool) obj {
	desc := "trailguard member account (deployed by the StackSet in every member, in the function's region and the regions of --regions): the role the trailguard function assumes to read the trails and report to AWS Config (in the function's region only), and the forwarding of CloudTrail API calls to the central event bus."
	if forManagement {
		desc = "trailguard for the management account, which service-managed StackSets never reach: the role the trailguard function assumes there and the forwarding of its CloudTrail API calls to the central event bus. Deploy in the management account, in the function's region, with the central stack's FunctionRole output and its event bus ARN; not needed when the function runs in the management account."
		if len(o.Regions) > 0 {
			desc += " Deploy it also in each of " + o.regionsText() + ", with CentralRegion the function's region: there it holds the forwarding only."
		}
	}
	res := forwarderResources(o, ref("CentralEventBusArn"), "ForwardsEvents")
	res["MemberRole"] = obj{"Type": "AWS::IAM::Role", "Condition": "IsCentralRegion", "Properties": obj{
		"RoleName":    o.MemberRoleName,
		"Description": "Assumed by the trailguard function only: reads trails, reports to AWS Config",
		"AssumeRolePolicyDocument": obj{"Version": "2012-10-17", "Statement": []any{obj{
			"Effect": "Allow", "Principal": obj{"AWS": ref("FunctionRoleArn")}, "Action": "sts:AssumeRole"}}},
		"Policies": []any{obj{"PolicyName": "trailguard", "PolicyDocument": obj{"Version": "2012-10-17", "Statement": []any{
			statement("TrailguardReadTrailsAndReport", MemberActions(o.AutoRemediate != ""), "*")}}}},
	}}
	return obj{
		"AWSTemplateFormatVersion": "2010-09-09",
		"Description":              desc,
		"Parameters": obj{
			"FunctionRoleArn":    obj{"Type": "String", "Description": "ARN of the trailguard function's role (the central stack's FunctionRole output)", "AllowedPattern": `^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$`},
			"CentralEventBusArn": obj{"Type": "String", "Description": "ARN of the default event bus of the account that runs the function", "AllowedPattern": `^arn:aws[a-z-]*:events:[a-z0-9-]+:[0-9]{12}:event-bus/default$`},
			"CentralAccountId": obj{"Type": "String", "Default": "", "AllowedPattern": `^([0-9]{12})?$`,
				"Description": "The account that runs the function: it gets no forwarding rule in the function's region, its own rule already targets the function (empty: forward)"},
			"CentralRegion": obj{"Type": "String", "Default": "", "AllowedPattern": `^([a-z]{2}(-[a-z]+)+-[0-9])?$`,
				"Description": "The function's region: the member role is created there only, the forwarding in every region (empty: this is the function's region)"},
		},
		"Conditions": obj{
			"IsCentralRegion": obj{"Fn::Or": []any{
				obj{"Fn::Equals": []any{ref("CentralRegion"), ""}},
				obj{"Fn::Equals": []any{ref("CentralRegion"), ref("AWS::Region")}},
			}},
			// The StackSet reaches the function's own account too when it
			// is in a target OU: in the function's region a rule
			// forwarding its bus to itself would loop; in another region
			// the account's calls are forwarded like a member's.
			"ForwardsEvents": obj{"Fn::Not": []any{obj{"Fn::And": []any{
				obj{"Fn::Equals": []any{ref("AWS::AccountId"), ref("CentralAccountId")}},
				obj{"Condition": "IsCentralRegion"},
			}}}},
		},
		"Resources": res,
	}
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// Describe says in one line what the options write, for the CLI's stderr.
func Describe(o Options) string {
	o.Defaults()
	var what string
	switch {
	case o.SCPOnly:
		return "the service control policy alone"
	case o.Forwarder:
		return "the forwarding of CloudTrail API calls to the function's region, to deploy in each of " + o.regionsText()
	case o.ManagementAccount:
		what = "the member role and event forwarding for the management account"
	case o.Org:
		what = "the function, an organization Config rule and the member StackSet"
	default:
		what = "the function and its Config rule for one account"
	}
	if len(o.Regions) > 0 {
		what += ", forwarding CloudTrail API calls from " + o.regionsText()
	}
	if o.SCP {
		what += ", with the service control policy"
	}
	return what
}
