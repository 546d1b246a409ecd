package deploy_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/trailguard/trailguard/deploy"
)

// cfnCondition evaluates a CloudFormation condition as AWS does, for the
// functions the member template uses, with the given parameter values.
func cfnCondition(t *testing.T, conds map[string]any, v any, params map[string]string) bool {
	t.Helper()
	val := func(x any) string {
		if s, ok := x.(string); ok {
			return s
		}
		r, ok := x.(map[string]any)["Ref"].(string)
		if !ok {
			t.Fatalf("condition operand %v is neither a string nor a Ref", x)
		}
		p, ok := params[r]
		if !ok {
			t.Fatalf("Ref %s has no value in the test", r)
		}
		return p
	}
	m := v.(map[string]any)
	for fn, arg := range m {
		switch fn {
		case "Condition":
			return cfnCondition(t, conds, conds[arg.(string)], params)
		case "Fn::Equals":
			a := arg.([]any)
			return val(a[0]) == val(a[1])
		case "Fn::Not":
			return !cfnCondition(t, conds, arg.([]any)[0], params)
		case "Fn::And", "Fn::Or":
			a := arg.([]any)
			if len(a) < 2 || len(a) > 10 {
				t.Fatalf("%s takes 2 to 10 conditions, got %d", fn, len(a))
			}
			and := fn == "Fn::And"
			for _, c := range a {
				if cfnCondition(t, conds, c, params) != and {
					return !and
				}
			}
			return and
		}
		t.Fatalf("condition function %s not evaluated by the test", fn)
	}
	return false
}

// The member template of an organization with --regions, in every place
// the StackSet (or the management account's stack) puts it: the member
// role only in the function's region (IAM is global: a second region's
// stack would fail on the same role name), the forwarding rule in every
// region except the function's own account in the function's region,
// whose own rule targets the function.
func TestRegions_member_template_in_every_region(t *testing.T) {
	const central, member, centralRegion, other = "111111111111", "222222222222", "us-east-1", "us-west-2"
	o := orgBase()
	o.Regions = []string{other, "ap-southeast-2"}
	var tmpl map[string]any
	if err := json.Unmarshal(emit(t, o), &tmpl); err != nil {
		t.Fatal(err)
	}
	set := tmpl["Resources"].(map[string]any)["MemberRoleStackSet"].(map[string]any)["Properties"].(map[string]any)
	group := set["StackInstancesGroup"].([]any)[0].(map[string]any)
	wantRegions := []any{map[string]any{"Ref": "AWS::Region"}, other, "ap-southeast-2"}
	if !reflect.DeepEqual(group["Regions"], wantRegions) {
		t.Errorf("StackSet regions %v, want %v", group["Regions"], wantRegions)
	}
	setParams := map[string]any{}
	for _, p := range set["Parameters"].([]any) {
		setParams[p.(map[string]any)["ParameterKey"].(string)] = p.(map[string]any)["ParameterValue"]
	}
	if !reflect.DeepEqual(setParams["CentralRegion"], map[string]any{"Ref": "AWS::Region"}) {
		t.Errorf("StackSet parameter CentralRegion %v, want the function's region", setParams["CentralRegion"])
	}
	var nested map[string]any
	if err := json.Unmarshal([]byte(set["TemplateBody"].(string)), &nested); err != nil {
		t.Fatal(err)
	}
	mgmt := deploy.Options{Org: true, ManagementAccount: true, Regions: o.Regions}
	var mgmtTmpl map[string]any
	if err := json.Unmarshal(emit(t, mgmt), &mgmtTmpl); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name                  string
		tmpl                  map[string]any
		account, region       string
		centralAccount        string // the parameter as passed
		centralRegionParam    string
		wantRole, wantForward bool
	}{
		{"member_in_function_region", nested, member, centralRegion, central, centralRegion, true, true},
		{"member_in_other_region", nested, member, other, central, centralRegion, false, true},
		{"function_account_in_function_region", nested, central, centralRegion, central, centralRegion, true, false},
		{"function_account_in_other_region", nested, central, other, central, centralRegion, false, true},
		{"management_stack_in_function_region_without_central_region", mgmtTmpl, "333333333333", centralRegion, "", "", true, true},
		{"management_stack_in_other_region", mgmtTmpl, "333333333333", other, "", centralRegion, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conds := tc.tmpl["Conditions"].(map[string]any)
			params := map[string]string{"AWS::AccountId": tc.account, "AWS::Region": tc.region, "CentralAccountId": tc.centralAccount, "CentralRegion": tc.centralRegionParam}
			res := tc.tmpl["Resources"].(map[string]any)
			created := func(id string) bool {
				c, ok := res[id].(map[string]any)["Condition"].(string)
				return !ok || cfnCondition(t, conds, conds[c], params)
			}
			if got := created("MemberRole"); got != tc.wantRole {
				t.Errorf("member role created %v, want %v", got, tc.wantRole)
			}
			for _, id := range []string{"ForwardRule", "ForwarderRole"} {
				if got := created(id); got != tc.wantForward {
					t.Errorf("%s created %v, want %v", id, got, tc.wantForward)
				}
			}
			if _, named := res["ForwarderRole"].(map[string]any)["Properties"].(map[string]any)["RoleName"]; named {
				t.Error("the forwarding role is named: its stacks in two regions would collide")
			}
		})
	}
}

// Every forwarding rule has the function's event pattern and forwards to
// the central default bus through a role allowed only events:PutEvents on
// that bus; the one-account CloudFormation template refuses the regions
// not listed.
func TestRegions_forward_with_the_function_pattern(t *testing.T) {
	regions := []string{"us-west-2", "eu-west-1"}
	var tmpl map[string]any
	if err := json.Unmarshal(emit(t, deploy.Options{Forwarder: true, Regions: regions}), &tmpl); err != nil {
		t.Fatal(err)
	}
	res := tmpl["Resources"].(map[string]any)
	if len(res) != 2 {
		t.Errorf("forwarder template holds %d resources, want the rule and its role", len(res))
	}
	rule := res["ForwardRule"].(map[string]any)["Properties"].(map[string]any)
	want, _ := json.Marshal(deploy.EventPattern())
	got, _ := json.Marshal(rule["EventPattern"])
	if string(got) != string(want) {
		t.Errorf("pattern %s, want the function's %s", got, want)
	}
	bus := map[string]any{"Ref": "CentralEventBusArn"}
	target := rule["Targets"].([]any)[0].(map[string]any)
	if len(rule["Targets"].([]any)) != 1 || !reflect.DeepEqual(target["Arn"], bus) || !reflect.DeepEqual(target["RoleArn"], map[string]any{"Fn::GetAtt": []any{"ForwarderRole", "Arn"}}) {
		t.Errorf("targets %v, want the central bus through the forwarding role", rule["Targets"])
	}
	st := res["ForwarderRole"].(map[string]any)["Properties"].(map[string]any)["Policies"].([]any)[0].(map[string]any)["PolicyDocument"].(map[string]any)["Statement"].([]any)
	if len(st) != 1 || !reflect.DeepEqual(st[0].(map[string]any)["Action"], []any{"events:PutEvents"}) || !reflect.DeepEqual(st[0].(map[string]any)["Resource"], bus) {
		t.Errorf("forwarding role allows %v, want events:PutEvents on the central bus only", st)
	}
	assert := tmpl["Rules"].(map[string]any)["OnlyInTheListedRegions"].(map[string]any)["Assertions"].([]any)[0].(map[string]any)["Assert"].(map[string]any)
	if !reflect.DeepEqual(assert, map[string]any{"Fn::Contains": []any{[]any{"us-west-2", "eu-west-1"}, map[string]any{"Ref": "AWS::Region"}}}) {
		t.Errorf("region rule %v, want AWS::Region in %v", assert, regions)
	}

	// The function's template names the bus the forwarder template takes.
	var main map[string]any
	if err := json.Unmarshal(emit(t, with(cfnBase(), func(o *deploy.Options) { o.Regions = regions })), &main); err != nil {
		t.Fatal(err)
	}
	if _, ok := main["Outputs"].(map[string]any)["CentralEventBusArn"]; !ok || !strings.Contains(main["Description"].(string), "--forwarder --regions") {
		t.Errorf("the function's template does not say how to forward from %v", regions)
	}
}

// Terraform places the forwarding in each region with the resources'
// region argument: one account a rule and target per region with the
// function's pattern, an organization a StackSet instance per region.
func TestRegions_terraform_resources_in_each_region(t *testing.T) {
	regions := []string{"us-west-2", "eu-west-1"}
	cases := []struct {
		name string
		o    deploy.Options
		want map[string][]string // resource type → regions it is placed in
	}{
		{"one_account", deploy.Options{Format: deploy.Terraform, CodeZip: "t.zip", Regions: regions},
			map[string][]string{"aws_cloudwatch_event_rule": regions, "aws_cloudwatch_event_target": regions}},
		{"organization", with(orgBase(), func(o *deploy.Options) {
			o.Format, o.CodeS3Bucket, o.CodeS3Key, o.CodeZip, o.Regions = deploy.Terraform, "", "", "t.zip", regions
		}), map[string][]string{"aws_cloudformation_stack_set_instance": regions}},
		{"management_account", deploy.Options{Format: deploy.Terraform, Org: true, ManagementAccount: true, Regions: regions},
			map[string][]string{"aws_cloudformation_stack": regions}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := emit(t, tc.o)
			f, diags := hclparse.NewParser().ParseHCL(src, "main.tf")
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			got := map[string][]string{}
			for _, b := range f.Body.(*hclsyntax.Body).Blocks {
				if b.Type != "resource" {
					continue
				}
				a, ok := b.Body.Attributes["region"]
				if !ok {
					continue
				}
				v, d := a.Expr.Value(nil)
				if d.HasErrors() {
					t.Fatalf("%s.%s: region is not a literal", b.Labels[0], b.Labels[1])
				}
				got[b.Labels[0]] = append(got[b.Labels[0]], v.AsString())
				if b.Labels[0] == "aws_cloudwatch_event_rule" {
					p := string(b.Body.Attributes["event_pattern"].Expr.Range().SliceBytes(src))
					for _, call := range deploy.WatchedCalls {
						if !strings.Contains(p, `"`+call+`"`) {
							t.Errorf("%s: pattern %s lacks %s", b.Labels[1], p, call)
						}
					}
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("resources placed in regions %v, want %v", got, tc.want)
			}
			if !strings.Contains(string(src), `">= 6.0"`) {
				t.Error("the region argument needs AWS provider 6: the version constraint does not say so")
			}
		})
	}
}

// --regions takes only region names this build knows, once each, and
// --forwarder only where it is the way to deploy them.
func TestRegions_refused(t *testing.T) {
	cases := []struct {
		name string
		o    deploy.Options
		want string
	}{
		{"typo_of_a_region", with(cfnBase(), func(o *deploy.Options) { o.Regions = []string{"us-west-9"} }), "us-west-9"},
		{"not_a_region", with(cfnBase(), func(o *deploy.Options) { o.Regions = []string{"mars-1"} }), "mars-1"},
		{"shell_text", with(cfnBase(), func(o *deploy.Options) { o.Regions = []string{"us-east-1;id"} }), "--regions"},
		{"twice", with(cfnBase(), func(o *deploy.Options) { o.Regions = []string{"us-west-2", "us-west-2"} }), "twice"},
		{"forwarder_without_regions", deploy.Options{Forwarder: true}, "--forwarder needs --regions"},
		{"forwarder_for_terraform", deploy.Options{Forwarder: true, Format: deploy.Terraform, CodeZip: "t.zip", Regions: []string{"us-west-2"}}, "Terraform"},
		{"forwarder_for_organization", with(orgBase(), func(o *deploy.Options) { o.Forwarder, o.Regions = true, []string{"us-west-2"} }), "StackSet"},
		{"with_scp_only", deploy.Options{SCPOnly: true, Regions: []string{"us-west-2"}}, "--scp-only"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := deploy.Emit(tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one naming %q", err, tc.want)
			}
		})
	}
}

// Every description fits CloudFormation's 1024 bytes, with every region
// there is.
func TestRegions_descriptions_fit(t *testing.T) {
	all := []string{"us-east-2", "us-west-1", "us-west-2", "af-south-1", "ap-east-1", "ap-south-1", "ap-south-2", "ap-southeast-1",
		"ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ca-central-1", "ca-west-1",
		"eu-central-1", "eu-central-2", "eu-west-1", "eu-west-2", "eu-west-3", "eu-south-1", "eu-south-2", "eu-north-1", "il-central-1",
		"me-south-1", "me-central-1", "sa-east-1"}
	for _, tc := range []deployCase{
		{"one_account", with(cfnBase(), func(o *deploy.Options) { o.Regions = all })},
		{"forwarder", deploy.Options{Forwarder: true, Regions: all}},
		{"organization", with(orgBase(), func(o *deploy.Options) { o.Regions = all })},
		{"management_account", deploy.Options{Org: true, ManagementAccount: true, Regions: all}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var tmpl map[string]any
			if err := json.Unmarshal(emit(t, tc.o), &tmpl); err != nil {
				t.Fatal(err)
			}
			if n := len(tmpl["Description"].(string)); n > 1024 {
				t.Errorf("description of %d bytes, over CloudFormation's 1024", n)
			}
			if set, ok := tmpl["Resources"].(map[string]any)["MemberRoleStackSet"]; ok {
				var nested map[string]any
				json.Unmarshal([]byte(set.(map[string]any)["Properties"].(map[string]any)["TemplateBody"].(string)), &nested)
				if n := len(nested["Description"].(string)); n > 1024 {
					t.Errorf("member template description of %d bytes, over CloudFormation's 1024", n)
				}
			}
		})
	}
}
