package deploy

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// tfRef is a reference to another object of the configuration
// ("aws_iam_role.function.arn"): written as a traversal, not as a string.
type tfRef string

// tfCall is a Terraform function call, such as jsonencode({...}).
type tfCall struct {
	name string
	args []any
}

func jsonencode(v any) tfCall { return tfCall{"jsonencode", []any{v}} }
func format(f string, args ...any) tfCall {
	return tfCall{"format", append([]any{f}, args...)}
}

// tfAttr is one argument of a block, in the order written.
type tfAttr struct {
	name  string
	value any
}

// tfBlock is a block: a resource, data source or nested block.
type tfBlock struct {
	typ    string
	labels []string
	attrs  []tfAttr
	blocks []tfBlock
}

// tokens turns a value into HCL tokens. hclwrite writes a cty value with
// its escaping (TokensForValue) but has no value type for a reference or a
// function call inside an object, so this small walk composes hclwrite's
// own builders (TokensForTuple, TokensForObject, TokensForTraversal,
// TokensForFunctionCall) over plain Go values: strings, numbers and booleans
// through hclwrite's own escaping (so "${" in a value stays literal),
// lists as tuples, maps as objects with quoted keys, references as
// traversals, calls as calls.
func tokens(v any) hclwrite.Tokens {
	switch v := v.(type) {
	case string:
		return hclwrite.TokensForValue(cty.StringVal(v))
	case bool:
		return hclwrite.TokensForValue(cty.BoolVal(v))
	case int:
		return hclwrite.TokensForValue(cty.NumberIntVal(int64(v)))
	case []string:
		items := make([]hclwrite.Tokens, len(v))
		for i, s := range v {
			items[i] = tokens(s)
		}
		return hclwrite.TokensForTuple(items)
	case []any:
		items := make([]hclwrite.Tokens, len(v))
		for i, s := range v {
			items[i] = tokens(s)
		}
		return hclwrite.TokensForTuple(items)
	case map[string]string:
		m := make(map[string]any, len(v))
		for k, s := range v {
			m[k] = s
		}
		return tokens(m)
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		attrs := make([]hclwrite.ObjectAttrTokens, len(keys))
		for i, k := range keys {
			attrs[i] = hclwrite.ObjectAttrTokens{Name: tokens(k), Value: tokens(v[k])}
		}
		return hclwrite.TokensForObject(attrs)
	case tfRef:
		parts := strings.Split(string(v), ".")
		tr := hcl.Traversal{hcl.TraverseRoot{Name: parts[0]}}
		for _, p := range parts[1:] {
			tr = append(tr, hcl.TraverseAttr{Name: p})
		}
		return hclwrite.TokensForTraversal(tr)
	case tfCall:
		args := make([]hclwrite.Tokens, len(v.args))
		for i, a := range v.args {
			args[i] = tokens(a)
		}
		return hclwrite.TokensForFunctionCall(v.name, args...)
	}
	panic(fmt.Sprintf("deploy: no HCL form for %T", v)) // a programming error, caught by the tests
}

func (b tfBlock) write(body *hclwrite.Body) {
	blk := body.AppendNewBlock(b.typ, b.labels)
	for _, a := range b.attrs {
		blk.Body().SetAttributeRaw(a.name, tokens(a.value))
	}
	for _, nb := range b.blocks {
		nb.write(blk.Body())
	}
}

func resource(typ, name string, attrs []tfAttr, blocks ...tfBlock) tfBlock {
	return tfBlock{typ: "resource", labels: []string{typ, name}, attrs: attrs, blocks: blocks}
}

func block(typ string, attrs []tfAttr, blocks ...tfBlock) tfBlock {
	return tfBlock{typ: typ, attrs: attrs, blocks: blocks}
}

func policy(statements ...any) tfCall {
	return jsonencode(map[string]any{"Version": "2012-10-17", "Statement": statements})
}

func tfStatement(sid string, actions []string, resource any) map[string]any {
	return map[string]any{"Sid": sid, "Effect": "Allow", "Action": slices.Clone(actions), "Resource": resource}
}

const (
	tfAccount   = tfRef("data.aws_caller_identity.current.account_id")
	tfPartition = tfRef("data.aws_partition.current.partition")
	tfBus       = tfRef("data.aws_cloudwatch_event_bus.default.arn")
	tfFunction  = tfRef("aws_lambda_function.trailguard.arn")
	tfTopic     = tfRef("aws_sns_topic.alerts.arn")
	tfRole      = tfRef("aws_iam_role.function.arn")
	// tfRegion is the provider's region (AWS provider 6: region, formerly name).
	tfRegion = tfRef("data.aws_region.current.region")
)

// terraformFile is the Terraform configuration the options ask for: the
// same resources as the CloudFormation template, one for one.
func terraformFile(o *Options) ([]byte, error) {
	var blocks []tfBlock
	version := ">= 5.0"
	if len(o.Regions) > 0 {
		// Resources in other regions take a region argument from AWS
		// provider 6 on, with no provider alias per region.
		version = ">= 6.0"
	}
	blocks = append(blocks, block("terraform", nil, block("required_providers", []tfAttr{
		{"aws", map[string]any{"source": "hashicorp/aws", "version": version}}})))
	switch {
	case o.SCPOnly:
	case o.ManagementAccount:
		blocks = append(blocks, managementStack(o)...)
	default:
		blocks = append(blocks, tfFunctionBlocks(o)...)
	}
	if o.SCP || o.SCPOnly {
		blocks = append(blocks, resource("aws_organizations_policy", "protect_cloudtrail", []tfAttr{
			{"name", o.FunctionName + "-protect-cloudtrail"},
			{"description", "trailguard: deny StopLogging, DeleteTrail, UpdateTrail and PutEventSelectors except to break-glass roles (CIS AWS Foundations 3.1). It does not bind the management account."},
			{"type", "SERVICE_CONTROL_POLICY"},
			{"content", jsonencode(SCPDocument(o.BreakGlass))},
		}))
		for i, t := range o.SCPTargets {
			blocks = append(blocks, resource("aws_organizations_policy_attachment", fmt.Sprintf("protect_cloudtrail_%d", i), []tfAttr{
				{"policy_id", tfRef("aws_organizations_policy.protect_cloudtrail.id")},
				{"target_id", t},
			}))
		}
	}
	f := hclwrite.NewEmptyFile()
	body := f.Body()
	for i, b := range blocks {
		if i > 0 {
			body.AppendNewline()
		}
		b.write(body)
	}
	return hclwrite.Format(f.Bytes()), nil
}

func dataSources(names ...string) []tfBlock {
	var out []tfBlock
	for _, n := range names {
		d := tfBlock{typ: "data", labels: []string{n, "current"}}
		if n == "aws_cloudwatch_event_bus" {
			d.labels[1] = "default"
			d.attrs = []tfAttr{{"name", "default"}}
		}
		out = append(out, d)
	}
	return out
}

func tfFunctionBlocks(o *Options) []tfBlock {
	blocks := dataSources("aws_caller_identity", "aws_partition")
	if o.Org && len(o.Regions) > 0 {
		blocks = append(blocks, dataSources("aws_region")...)
	}
	if o.Org || len(o.Regions) > 0 {
		blocks = append(blocks, dataSources("aws_cloudwatch_event_bus")...)
	}
	logGroup := "/aws/lambda/" + o.FunctionName
	blocks = append(blocks, resource("aws_cloudwatch_log_group", "function", []tfAttr{
		{"name", logGroup}, {"retention_in_days", logRetentionDays}}))

	st := []any{
		tfStatement("TrailguardReadTrails", FunctionScanActions, "*"),
		tfStatement("TrailguardReportToConfig", reportActions(o), "*"),
		tfStatement("TrailguardAlert", FunctionAlertActions, tfTopic),
		tfStatement("TrailguardWriteOwnLog", LogActions, format("%s:*", tfRef("aws_cloudwatch_log_group.function.arn"))),
	}
	if _, _, isS3 := o.MutelistS3(); isS3 {
		st = append(st, tfStatement("TrailguardReadMutelist", FunctionMutelistActions, format("arn:%s:s3:::%s", tfPartition, o.mutelistObject())))
	}
	if o.AutoRemediate != "" {
		st = append(st, tfStatement("TrailguardStartLogging", FunctionRemediateActions, format("arn:%s:cloudtrail:*:%s:trail/*", tfPartition, tfAccount)))
	}
	if o.Org {
		st = append(st, tfStatement("TrailguardAssumeMemberRole", FunctionAssumeActions, format("arn:%s:iam::*:role/%s", tfPartition, o.MemberRoleName)))
	}
	blocks = append(blocks,
		resource("aws_iam_role", "function", []tfAttr{
			{"name", o.FunctionName + "-function"},
			{"description", "trailguard function: exactly the calls it makes (trailguard deploy)"},
			{"assume_role_policy", policy(map[string]any{"Effect": "Allow", "Principal": map[string]any{"Service": "lambda.amazonaws.com"},
				"Action": "sts:AssumeRole"})},
		}),
		resource("aws_iam_role_policy", "function", []tfAttr{
			{"name", "trailguard"}, {"role", tfRef("aws_iam_role.function.id")}, {"policy", policy(st...)}}),
		resource("aws_sns_topic", "alerts", []tfAttr{
			{"name", o.FunctionName + "-alerts"}, {"display_name", "trailguard"}, {"kms_master_key_id", alertKey}}),
	)
	if o.AlertEmail != "" {
		blocks = append(blocks, resource("aws_sns_topic_subscription", "email", []tfAttr{
			{"topic_arn", tfTopic}, {"protocol", "email"}, {"endpoint", o.AlertEmail}}))
	}
	vars := map[string]any{"TRAILGUARD_ALERT_TOPIC_ARN": tfTopic}
	for k, v := range o.environment() {
		vars[k] = v
	}
	blocks = append(blocks,
		resource("aws_lambda_function", "trailguard", []tfAttr{
			{"function_name", o.FunctionName},
			{"description", "trailguard: CIS AWS Foundations 3.1 as an AWS Config rule and the target of CloudTrail API calls"},
			{"runtime", runtime}, {"architectures", []string{architecture}}, {"handler", handlerName},
			{"memory_size", memoryMB}, {"timeout", timeoutSeconds},
			{"role", tfRole},
			{"filename", o.CodeZip},
			{"source_code_hash", tfCall{"filebase64sha256", []any{o.CodeZip}}},
			{"depends_on", []any{tfRef("aws_cloudwatch_log_group.function"), tfRef("aws_iam_role_policy.function")}},
		}, block("environment", []tfAttr{{"variables", vars}})),
		resource("aws_cloudwatch_event_rule", "changes", []tfAttr{
			{"name", o.FunctionName + "-cloudtrail-changes"},
			{"description", "trailguard: CloudTrail API calls that can switch logging off, to the function (with --org, members forward theirs to this account's default bus)"},
			{"event_pattern", jsonencode(EventPattern())},
		}),
		resource("aws_cloudwatch_event_target", "function", []tfAttr{
			{"rule", tfRef("aws_cloudwatch_event_rule.changes.name")}, {"target_id", "trailguard"}, {"arn", tfFunction}}),
		resource("aws_lambda_permission", "events", []tfAttr{
			{"statement_id", "trailguard-events"}, {"action", "lambda:InvokeFunction"}, {"function_name", tfRef("aws_lambda_function.trailguard.function_name")},
			{"principal", "events.amazonaws.com"}, {"source_arn", tfRef("aws_cloudwatch_event_rule.changes.arn")}}),
	)
	perm := []tfAttr{{"statement_id", "trailguard-config"}, {"action", "lambda:InvokeFunction"},
		{"function_name", tfRef("aws_lambda_function.trailguard.function_name")}, {"principal", "config.amazonaws.com"}}
	if !o.Org {
		perm = append(perm, tfAttr{"source_account", tfAccount})
	}
	blocks = append(blocks, resource("aws_lambda_permission", "config", perm))

	triggers := []string{"ScheduledNotification", "ConfigurationItemChangeNotification", "OversizedConfigurationItemChangeNotification"}
	if !o.Org {
		var details []tfBlock
		for _, m := range triggers {
			a := []tfAttr{{"event_source", "aws.config"}, {"message_type", m}}
			if m == "ScheduledNotification" {
				a = append(a, tfAttr{"maximum_execution_frequency", o.Period})
			}
			details = append(details, block("source_detail", a))
		}
		attrs := []tfAttr{
			{"name", o.RuleName},
			{"description", "CIS AWS Foundations 3.1: CloudTrail records every management API call in every region (trailguard)"},
		}
		if p := o.ruleParameters(); len(p) > 0 {
			attrs = append(attrs, tfAttr{"input_parameters", jsonencode(p)})
		}
		attrs = append(attrs, tfAttr{"depends_on", []any{tfRef("aws_lambda_permission.config")}})
		blocks = append(blocks, resource("aws_config_config_rule", "trailguard", attrs, block("source", []tfAttr{{"owner", "CUSTOM_LAMBDA"}, {"source_identifier", tfFunction}}, details...),
			block("scope", []tfAttr{{"compliance_resource_types", []string{"AWS::CloudTrail::Trail"}}})))
		if len(o.Regions) > 0 {
			blocks = append(blocks, tfForwarders(o)...)
		}
		return blocks
	}

	callAs := "SELF"
	if o.DelegatedAdmin {
		callAs = "DELEGATED_ADMIN"
	}
	body, _ := marshal(memberTemplate(o, false))
	params := map[string]any{"FunctionRoleArn": tfRole, "CentralEventBusArn": tfBus, "CentralAccountId": tfAccount}
	if len(o.Regions) > 0 {
		params["CentralRegion"] = tfRegion
	}
	blocks = append(blocks,
		resource("aws_cloudwatch_event_bus_policy", "organization", []tfAttr{
			{"event_bus_name", "default"},
			{"policy", policy(map[string]any{"Sid": o.FunctionName + "-organization-forwards", "Effect": "Allow", "Principal": "*",
				"Action": "events:PutEvents", "Resource": tfBus,
				"Condition": map[string]any{"StringEquals": map[string]any{"aws:PrincipalOrgID": o.OrgID}}})},
		}),
		resource("aws_cloudformation_stack_set", "member", []tfAttr{
			{"name", o.FunctionName + "-member"},
			{"description", "trailguard member role and CloudTrail call forwarding, in every account of the targets (never the management account), in this region and the regions of --regions"},
			{"permission_model", "SERVICE_MANAGED"},
			{"call_as", callAs},
			{"capabilities", []string{"CAPABILITY_NAMED_IAM"}},
			{"parameters", params},
			{"template_body", string(body)},
			{"depends_on", []any{tfRef("aws_cloudwatch_event_bus_policy.organization")}},
		}, block("auto_deployment", []tfAttr{{"enabled", true}, {"retain_stacks_on_account_removal", false}}),
			block("managed_execution", []tfAttr{{"active", true}})),
		resource("aws_cloudformation_stack_set_instance", "member", []tfAttr{
			{"stack_set_name", tfRef("aws_cloudformation_stack_set.member.name")},
			{"call_as", callAs},
		}, block("deployment_targets", []tfAttr{{"organizational_unit_ids", slices.Clone(o.OrgTargets)}}),
			block("operation_preferences", []tfAttr{{"failure_tolerance_percentage", 10}, {"max_concurrent_percentage", 25}})),
	)
	// One instance per other region: there the member stack holds the
	// forwarding only (CentralRegion).
	for _, r := range o.Regions {
		blocks = append(blocks, resource("aws_cloudformation_stack_set_instance", "member_"+tfLabel(r), []tfAttr{
			{"stack_set_name", tfRef("aws_cloudformation_stack_set.member.name")},
			{"call_as", callAs},
			{"region", r},
		}, block("deployment_targets", []tfAttr{{"organizational_unit_ids", slices.Clone(o.OrgTargets)}}),
			block("operation_preferences", []tfAttr{{"failure_tolerance_percentage", 10}, {"max_concurrent_percentage", 25}})))
	}
	blocks = append(blocks,
		resource("aws_config_organization_custom_rule", "trailguard", []tfAttr{
			{"name", o.RuleName},
			{"description", "CIS AWS Foundations 3.1: CloudTrail records every management API call in every region (trailguard)"},
			{"lambda_function_arn", tfFunction},
			{"trigger_types", triggers},
			{"maximum_execution_frequency", o.Period},
			{"resource_types_scope", []string{"AWS::CloudTrail::Trail"}},
			{"input_parameters", o.ruleParametersJSON()},
			{"depends_on", []any{tfRef("aws_lambda_permission.config"), tfRef("aws_cloudformation_stack_set_instance.member")}},
		}),
	)
	return blocks
}

// managementStack is the member pieces for the management account as one
// plain CloudFormation stack (the same template the StackSet deploys),
// applied with the management account's credentials.
func managementStack(o *Options) []tfBlock {
	body, _ := marshal(memberTemplate(o, true))
	blocks := []tfBlock{
		{typ: "variable", labels: []string{"function_role_arn"}, attrs: []tfAttr{{"type", tfRef("string")},
			{"description", "ARN of the trailguard function's role, in the account that runs the function"}}},
		{typ: "variable", labels: []string{"central_event_bus_arn"}, attrs: []tfAttr{{"type", tfRef("string")},
			{"description", "ARN of the default event bus of the account that runs the function"}}},
		resource("aws_cloudformation_stack", "trailguard_management", []tfAttr{
			{"name", o.FunctionName + "-management"},
			{"capabilities", []string{"CAPABILITY_NAMED_IAM"}},
			{"parameters", map[string]any{"FunctionRoleArn": tfRef("var.function_role_arn"), "CentralEventBusArn": tfRef("var.central_event_bus_arn")}},
			{"template_body", string(body)},
		}),
	}
	if len(o.Regions) > 0 {
		blocks = append(blocks, dataSources("aws_region")...)
	}
	// The same template in each other region, holding the forwarding only.
	for _, r := range o.Regions {
		blocks = append(blocks, resource("aws_cloudformation_stack", "trailguard_management_"+tfLabel(r), []tfAttr{
			{"region", r},
			{"name", o.FunctionName + "-management"},
			{"capabilities", []string{"CAPABILITY_NAMED_IAM"}},
			{"parameters", map[string]any{"FunctionRoleArn": tfRef("var.function_role_arn"), "CentralEventBusArn": tfRef("var.central_event_bus_arn"),
				"CentralRegion": tfRegion}},
			{"template_body", string(body)},
		}))
	}
	return blocks
}
