package deploy

import (
	"fmt"
	"slices"
	"strings"

	tgaws "github.com/trailguard/trailguard/aws"
)

// maxRegions bounds --regions: more than AWS has regions is a mistake.
const maxRegions = 50

// validateRegions checks --regions and --forwarder.
func (o *Options) validateRegions(bad func(string, ...any)) {
	if len(o.Regions) > maxRegions {
		bad("--regions names %d regions: at most %d", len(o.Regions), maxRegions)
		return
	}
	seen := map[string]bool{}
	for _, r := range o.Regions {
		if warning, err := tgaws.CheckRegion(r); err != nil || warning != "" {
			msg := warning
			if err != nil {
				msg = err.Error()
			}
			bad("--regions: %s: a template names only regions this build knows", msg)
			continue
		}
		if seen[r] {
			bad("--regions names %s twice", r)
		}
		seen[r] = true
	}
	if len(o.Regions) > 0 && o.SCPOnly {
		bad("--regions forwards CloudTrail calls to the function: drop it with --scp-only")
	}
	if o.Forwarder {
		switch {
		case o.Org || o.ManagementAccount:
			bad("--forwarder is for one account: with --org the member StackSet forwards from every region of --regions")
		case o.Format != CloudFormation:
			bad("--forwarder writes a CloudFormation template; Terraform forwards from every region of --regions in the same configuration")
		case len(o.Regions) == 0:
			bad("--forwarder needs --regions: the regions the template is deployed in")
		}
	}
}

// regionsText lists the regions for descriptions, or counts them when the
// list would not fit: a template's Description holds 1024 bytes.
func (o *Options) regionsText() string {
	if s := strings.Join(o.Regions, ", "); len(s) <= 200 {
		return s
	}
	return fmt.Sprintf("the %d regions of trailguard deploy --regions", len(o.Regions))
}

// Forwarding from another region of the same account, or from a member,
// to the function's region: an EventBridge rule with the function's event
// pattern whose target is the central default bus (a cross-Region event
// bus target, which needs a role allowed events:PutEvents on that bus,
// and, for another account, the bus policy the organization template
// writes). The role's name is left to CloudFormation: IAM is global, and
// one stack of the template is deployed in every region.
func forwarderResources(o *Options, busArn any, condition string) obj {
	role := obj{"Type": "AWS::IAM::Role", "Properties": obj{
		"Description": "EventBridge forwards this region's CloudTrail API calls to the trailguard function's event bus",
		"AssumeRolePolicyDocument": obj{"Version": "2012-10-17", "Statement": []any{obj{
			"Effect": "Allow", "Principal": obj{"Service": "events.amazonaws.com"}, "Action": "sts:AssumeRole"}}},
		"Policies": []any{obj{"PolicyName": "trailguard-forward", "PolicyDocument": obj{"Version": "2012-10-17", "Statement": []any{
			statement("TrailguardForward", []string{"events:PutEvents"}, busArn)}}}},
	}}
	rule := obj{"Type": "AWS::Events::Rule", "Properties": obj{
		"Name":         o.FunctionName + "-forward-cloudtrail-changes",
		"Description":  "trailguard: CloudTrail API calls that can switch logging off, forwarded to the function's event bus",
		"EventPattern": EventPattern(),
		"State":        "ENABLED",
		"Targets":      []any{obj{"Id": "central", "Arn": busArn, "RoleArn": getAtt("ForwarderRole", "Arn")}},
	}}
	if condition != "" {
		role["Condition"], rule["Condition"] = condition, condition
	}
	return obj{"ForwarderRole": role, "ForwardRule": rule}
}

// forwarderTemplate is the one-account template for each region of
// --regions. A rule of the template refuses any other region: in the
// function's own region the forwarding rule would send the bus's events
// back to itself.
func forwarderTemplate(o *Options) obj {
	return obj{
		"AWSTemplateFormatVersion": "2010-09-09",
		"Description":              fmt.Sprintf("trailguard: forwards this region's CloudTrail API calls that can switch logging off to the trailguard function's region, where a multi-region trail homed here is changed. Deploy one stack of it in each of %s, with CentralEventBusArn the function's stack output of that name.", o.regionsText()),
		"Parameters": obj{
			"CentralEventBusArn": obj{"Type": "String", "Description": "ARN of the default event bus in the function's region (the function's stack output CentralEventBusArn)",
				"AllowedPattern": `^arn:aws[a-z-]*:events:[a-z0-9-]+:[0-9]{12}:event-bus/default$`},
		},
		"Rules": obj{"OnlyInTheListedRegions": obj{"Assertions": []any{obj{
			"Assert":            obj{"Fn::Contains": []any{slices.Clone(o.Regions), ref("AWS::Region")}},
			"AssertDescription": "Deploy this template in one of " + o.regionsText() + " (trailguard deploy --regions), never in the function's region",
		}}}},
		"Resources": forwarderResources(o, ref("CentralEventBusArn"), ""),
	}
}

// tfLabel is a region as a Terraform name ("us-west-2" → "us_west_2").
func tfLabel(region string) string { return strings.ReplaceAll(region, "-", "_") }

// tfForwarders are the one-account forwarding of Terraform: one role
// (IAM is global) and in each region of --regions a rule and its target,
// placed there by the resources' region argument (AWS provider 6).
func tfForwarders(o *Options) []tfBlock {
	blocks := []tfBlock{
		resource("aws_iam_role", "forward_events", []tfAttr{
			{"name", o.FunctionName + "-forward-events"},
			{"description", "EventBridge forwards the CloudTrail API calls of other regions to the trailguard function's event bus"},
			{"assume_role_policy", policy(map[string]any{"Effect": "Allow", "Principal": map[string]any{"Service": "events.amazonaws.com"},
				"Action": "sts:AssumeRole"})},
		}),
		resource("aws_iam_role_policy", "forward_events", []tfAttr{
			{"name", "trailguard-forward"}, {"role", tfRef("aws_iam_role.forward_events.id")},
			{"policy", policy(tfStatement("TrailguardForward", []string{"events:PutEvents"}, tfBus))}}),
	}
	for _, r := range o.Regions {
		l := "forward_" + tfLabel(r)
		blocks = append(blocks,
			resource("aws_cloudwatch_event_rule", l, []tfAttr{
				{"region", r},
				{"name", o.FunctionName + "-forward-cloudtrail-changes"},
				{"description", "trailguard: CloudTrail API calls that can switch logging off, forwarded to the function's event bus"},
				{"event_pattern", jsonencode(EventPattern())},
			}),
			resource("aws_cloudwatch_event_target", l, []tfAttr{
				{"region", r},
				{"rule", tfRef("aws_cloudwatch_event_rule." + l + ".name")}, {"target_id", "central"},
				{"arn", tfBus}, {"role_arn", tfRef("aws_iam_role.forward_events.arn")},
			}),
		)
	}
	return blocks
}
