package cloudformation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/trailguard/trailguard"
)

// judge reads a template and judges what it declares: trails by their
// logical id, parts not read by the name the reader gives them.
func judge(t *testing.T, src string, o Options) (map[string]trailguard.Result, error) {
	t.Helper()
	tp, err := Read(context.Background(), "t.yaml", []byte(src), o)
	if err != nil {
		return nil, err
	}
	out := map[string]trailguard.Result{}
	for _, tr := range tp.Trails {
		out[tr.Resource] = trailguard.EvaluateIaC(tr, trailguard.Options{})
	}
	for _, u := range tp.Unread {
		if u.File != "t.yaml" || u.Line < 1 {
			t.Errorf("unread part %s without file and line: %s:%d", u.Resource, u.File, u.Line)
		}
		out[u.Resource] = u
	}
	return out, nil
}

// passing is the body of a trail that passes on its own.
const passing = `    Type: AWS::CloudTrail::Trail
    Properties:
      S3BucketName: logs
      IsLogging: true
      IsMultiRegionTrail: true
`

// conditioned is a template whose trail T is created under condition C.
func conditioned(params, cond string) string {
	return "Parameters:\n  Env: {Type: String, Default: prod}\n" + params +
		"Conditions:\n  C: " + cond + "\nResources:\n  T:\n    Condition: C\n" + passing
}

// ifMulti is a template whose trail T is multi-region when condition C holds.
func ifMulti(params, cond string) string {
	return "Parameters:\n  Env: {Type: String, Default: prod}\n" + params +
		"Conditions:\n  C: " + cond + "\nResources:\n  T:\n    Type: AWS::CloudTrail::Trail\n    Properties:\n" +
		"      S3BucketName: logs\n      IsLogging: true\n      IsMultiRegionTrail: !If [C, true, false]\n"
}

// multiIs is a template whose trail T has IsMultiRegionTrail set to expr.
func multiIs(expr string) string {
	return "Resources:\n  Other:\n    Type: AWS::S3::Bucket\n  T:\n    Type: AWS::CloudTrail::Trail\n    Properties:\n" +
		"      S3BucketName: logs\n      IsLogging: true\n      IsMultiRegionTrail: " + expr + "\n"
}

// selectorsAre is a template whose passing trail T has EventSelectors
// set to expr.
func selectorsAre(expr string) string {
	return "Resources:\n  T:\n" + passing + "      EventSelectors: " + expr + "\n"
}

// TestRead_what_cannot_be_known covers principle 4 on the CloudFormation
// side: whatever is decided only at deploy time, including whether the
// trail is created at all, is UNKNOWN naming it; a condition that is false
// or a configuration CloudFormation rejects creates nothing and is FAIL.
func TestRead_what_cannot_be_known(t *testing.T) {
	type want struct {
		status  string
		reasons []string // each must appear in the reasons
	}
	for _, tc := range []struct {
		name string
		src  string
		opts Options
		want map[string]want
	}{
		{"condition_on_account_id_is_unknown_existence", conditioned("", "!Equals [!Ref 'AWS::AccountId', '111111111111']"), Options{},
			map[string]want{"T": {"UNKNOWN", []string{"Condition C of T", "AWS::AccountId"}}}},
		{"condition_on_stack_name", conditioned("", `{"Fn::Equals": [{"Ref": "AWS::StackName"}, "audit"]}`), Options{},
			map[string]want{"T": {"UNKNOWN", []string{"Condition C", "AWS::StackName"}}}},
		{"condition_on_stack_id", conditioned("", "!Not [!Equals [!Ref 'AWS::StackId', x]]"), Options{},
			map[string]want{"T": {"UNKNOWN", []string{"AWS::StackId"}}}},
		{"condition_on_notification_arns", conditioned("", "!Equals [!Join [',', !Ref 'AWS::NotificationARNs'], '']"), Options{},
			map[string]want{"T": {"UNKNOWN", []string{"AWS::NotificationARNs"}}}},
		{"condition_on_region_not_given", conditioned("", "!Equals [!Ref 'AWS::Region', us-east-1]"), Options{},
			map[string]want{"T": {"UNKNOWN", []string{"AWS::Region", "--cfn-param AWS::Region="}}}},
		{"condition_on_region_given", conditioned("", "!Equals [!Ref 'AWS::Region', us-east-1]"), Options{Params: map[string]string{"AWS::Region": "us-east-1"}},
			map[string]want{"T": {"PASS", nil}}},
		{"condition_on_partition_from_given_region", conditioned("", "!Equals [!Ref 'AWS::Partition', aws-cn]"), Options{Params: map[string]string{"AWS::Region": "cn-north-1"}},
			map[string]want{"T": {"PASS", nil}}},
		{"condition_on_partition_without_region", conditioned("", "!Equals [!Ref 'AWS::Partition', aws]"), Options{},
			map[string]want{"T": {"UNKNOWN", []string{"AWS::Partition"}}}},
		{"condition_on_account_id_given", conditioned("", "!Equals [!Ref 'AWS::AccountId', '111111111111']"), Options{Params: map[string]string{"AWS::AccountId": "222222222222"}},
			map[string]want{"T": {"FAIL", []string{"not created", "Condition C of T is false"}}}},
		{"condition_false_is_not_created", conditioned("", "!Equals [!Ref Env, dev]"), Options{},
			map[string]want{"T": {"FAIL", []string{"the trail is not created", "Condition C of T is false"}}}},
		{"condition_and_with_a_known_false_is_decided", conditioned("", "!And [!Equals [!Ref Env, dev], !Equals [!Ref 'AWS::AccountId', x]]"), Options{},
			map[string]want{"T": {"FAIL", []string{"is false"}}}},
		{"condition_or_with_a_known_true_is_decided", conditioned("", "!Or [!Equals [!Ref Env, prod], !Equals [!Ref 'AWS::AccountId', x]]"), Options{},
			map[string]want{"T": {"PASS", nil}}},
		{"condition_not_defined_is_rejected", "Resources:\n  T:\n    Condition: Nope\n" + passing, Options{},
			map[string]want{"T": {"FAIL", []string{"AWS rejects this configuration", "Nope"}}}},
		{"condition_refers_to_itself_is_rejected", "Conditions:\n  C: !Condition C\nResources:\n  T:\n    Condition: C\n" + passing, Options{},
			map[string]want{"T": {"FAIL", []string{"AWS rejects this configuration", "refers to itself"}}}},
		{"ssm_value_parameter_default_decides_if", ifMulti("  Flag: {Type: 'AWS::SSM::Parameter::Value<String>', Default: /org/multi}\n", "!Equals [!Ref Flag, /org/multi]"), Options{},
			map[string]want{"T": {"UNKNOWN", []string{"Flag", "/org/multi", "Systems Manager", "condition C"}}}},
		{"ssm_value_parameter_given_is_still_a_path", ifMulti("  Flag: {Type: 'AWS::SSM::Parameter::Value<String>', Default: /org/multi}\n", "!Equals [!Ref Flag, 'true']"), Options{Params: map[string]string{"Flag": "true"}},
			map[string]want{"T": {"UNKNOWN", []string{"Flag", "Systems Manager"}}}},
		{"ssm_value_list_parameter", ifMulti("  Flag: {Type: 'AWS::SSM::Parameter::Value<List<String>>', Default: /org/l}\n", "!Equals [!Select [0, !Ref Flag], 'true']"), Options{},
			map[string]want{"T": {"UNKNOWN", []string{"Flag"}}}},
		{"ssm_name_parameter_default", ifMulti("  Flag: {Type: 'AWS::SSM::Parameter::Name', Default: /org/multi}\n", "!Equals [!Ref Flag, /org/multi]"), Options{},
			map[string]want{"T": {"UNKNOWN", []string{"Flag", "AWS::SSM::Parameter::Name"}}}},
		{"ssm_name_parameter_given", ifMulti("  Flag: {Type: 'AWS::SSM::Parameter::Name', Default: /org/multi}\n", "!Equals [!Ref Flag, /org/multi]"), Options{Params: map[string]string{"Flag": "/org/multi"}},
			map[string]want{"T": {"PASS", nil}}},
		{"ssm_parameter_in_condition_of_the_trail", conditioned("  Flag: {Type: 'AWS::SSM::Parameter::Value<String>', Default: 'true'}\n", "!Equals [!Ref Flag, 'true']"), Options{},
			map[string]want{"T": {"UNKNOWN", []string{"Condition C of T", "Systems Manager"}}}},
		{"dynamic_reference_ssm", multiIs("'{{resolve:ssm:/org/multi}}'"), Options{},
			map[string]want{"T": {"UNKNOWN", []string{"{{resolve:ssm:/org/multi}}"}}}},
		{"dynamic_reference_secretsmanager_in_sub", ifMulti("", "!Equals [!Sub '{{resolve:secretsmanager:flags:SecretString:multi}}', 'true']"), Options{},
			map[string]want{"T": {"UNKNOWN", []string{"{{resolve:secretsmanager:flags:SecretString:multi}}"}}}},
		{"dynamic_reference_in_parameter_default", ifMulti("  Flag: {Type: String, Default: '{{resolve:ssm:/x}}'}\n", "!Equals [!Ref Flag, 'true']"), Options{},
			map[string]want{"T": {"UNKNOWN", []string{"{{resolve:ssm:/x}}"}}}},
		{"getatt_decides", multiIs("!GetAtt Other.Arn"), Options{},
			map[string]want{"T": {"UNKNOWN", []string{"Fn::GetAtt Other.Arn"}}}},
		{"getatt_long_form_decides", multiIs(`{"Fn::GetAtt": ["Other", "Multi"]}`), Options{},
			map[string]want{"T": {"UNKNOWN", []string{"Fn::GetAtt Other.Multi"}}}},
		{"import_value_decides", multiIs("!ImportValue shared-multi"), Options{},
			map[string]want{"T": {"UNKNOWN", []string{"Fn::ImportValue shared-multi"}}}},
		{"ref_to_a_resource_decides", multiIs("!Ref Other"), Options{},
			map[string]want{"T": {"UNKNOWN", []string{"Ref Other names a resource"}}}},
		{"sub_with_an_attribute_decides", multiIs("!Sub '${Other.Multi}'"), Options{},
			map[string]want{"T": {"UNKNOWN", []string{"${Other.Multi}"}}}},
		{"snippet_transform_decides", multiIs("{'Fn::Transform': {Name: MyMacro}}"), Options{},
			map[string]want{"T": {"UNKNOWN", []string{"Fn::Transform MyMacro"}}}},
		{"get_azs_decides", multiIs("!Select [0, !GetAZs '']"), Options{},
			map[string]want{"T": {"UNKNOWN", []string{"Fn::GetAZs"}}}},
		{"ref_to_nothing_is_rejected", multiIs("!Ref Missing"), Options{},
			map[string]want{"T": {"FAIL", []string{"AWS rejects this configuration", "Missing"}}}},
		{"non_boolean_is_rejected", multiIs("maybe"), Options{},
			map[string]want{"T": {"FAIL", []string{"AWS rejects this configuration", `IsMultiRegionTrail of T is "maybe"`}}}},
		{"find_in_map_missing_key_is_rejected", multiIs("!FindInMap [M, a, b]"), Options{},
			map[string]want{"T": {"FAIL", []string{"AWS rejects this configuration", "Mappings has no M.a.b"}}}},
		{"properties_chosen_by_a_known_condition", "Conditions:\n  C: !Equals [a, a]\nResources:\n  T:\n    Type: AWS::CloudTrail::Trail\n    Properties: !If [C, {IsLogging: true, IsMultiRegionTrail: true}, {IsLogging: false}]\n", Options{},
			map[string]want{"T": {"PASS", nil}}},
		{"properties_chosen_by_an_unknown_condition", "Conditions:\n  C: !Equals [!Ref 'AWS::Region', a]\nResources:\n  T:\n    Type: AWS::CloudTrail::Trail\n    Properties: !If [C, {IsLogging: true, IsMultiRegionTrail: true}, {IsLogging: false}]\n", Options{},
			map[string]want{"T": {"UNKNOWN", []string{"AWS::Region"}}}},
		{"global_events_unknown_on_a_multi_region_trail", multiIs("true\n      IncludeGlobalServiceEvents: !Ref 'AWS::AccountId'"), Options{},
			map[string]want{"T": {"UNKNOWN", []string{"IncludeGlobalServiceEvents", "AWS::AccountId"}}}},
		{"yaml_1_1_boolean_yes", multiIs("yes"), Options{},
			map[string]want{"T": {"PASS", nil}}},
		{"yaml_1_1_boolean_off", multiIs("off"), Options{},
			map[string]want{"T": {"FAIL", []string{"single-region"}}}},
		{"quoted_yes_is_a_string_and_rejected", multiIs("'yes'"), Options{},
			map[string]want{"T": {"FAIL", []string{"AWS rejects this configuration"}}}},
		{"find_in_map_default_value", multiIs("!FindInMap [M, a, b, {DefaultValue: true}]"), Options{},
			map[string]want{"T": {"PASS", nil}}},
		{"given_value_not_in_allowed_values_is_rejected", ifMulti("  Flag: {Type: String, AllowedValues: ['true', 'false'], Default: 'true'}\n", "!Equals [!Ref Flag, 'true']"), Options{Params: map[string]string{"Flag": "maybe"}},
			map[string]want{"T": {"FAIL", []string{"AWS rejects this configuration", "AllowedValues"}}}},
		{"default_in_allowed_values", ifMulti("  Flag: {Type: String, AllowedValues: ['true', 'false'], Default: 'true'}\n", "!Equals [!Ref Flag, 'true']"), Options{},
			map[string]want{"T": {"PASS", nil}}},
		{"event_selectors_not_a_list_is_rejected", selectorsAre("{ReadWriteType: ReadOnly}"), Options{},
			map[string]want{"T": {"FAIL", []string{"AWS rejects this configuration", "EventSelectors is not a list"}}}},
		{"event_selector_not_an_object_is_rejected", selectorsAre("[All]"), Options{},
			map[string]want{"T": {"FAIL", []string{"AWS rejects this configuration", "not an object"}}}},
		{"read_write_type_not_an_enum_value_is_rejected", selectorsAre("[{ReadWriteType: Everything}]"), Options{},
			map[string]want{"T": {"FAIL", []string{"AWS rejects this configuration", "Everything"}}}},
		{"event_selectors_null_is_unknown", selectorsAre("~"), Options{},
			map[string]want{"T": {"UNKNOWN", []string{"EventSelectors is null"}}}},
		{"event_selectors_from_an_unknown_condition", "Conditions:\n  C: !Equals [!Ref 'AWS::AccountId', a]\nResources:\n  T:\n" + passing +
			"      EventSelectors: !If [C, [{ReadWriteType: All}], [{ReadWriteType: WriteOnly}]]\n", Options{},
			map[string]want{"T": {"UNKNOWN", []string{"EventSelectors of T", "AWS::AccountId"}}}},
		{"property_in_the_wrong_case_is_rejected", "Resources:\n  T:\n" + passing + "      eventSelectors: [{ReadWriteType: ReadOnly}]\n", Options{},
			map[string]want{"T": {"FAIL", []string{"AWS rejects this configuration", "eventSelectors", "EventSelectors"}}}},
		{"property_unknown_to_the_reader", "Resources:\n  T:\n" + passing + "      RecordEverything: false\n", Options{},
			map[string]want{"T": {"UNKNOWN", []string{"RecordEverything"}}}},
		{"selector_key_in_the_wrong_case_is_rejected", selectorsAre("[{readWriteType: WriteOnly}]"), Options{},
			map[string]want{"T": {"FAIL", []string{"AWS rejects this configuration", "readWriteType"}}}},
		{"field_selector_key_unknown", "Resources:\n  T:\n" + passing + "      AdvancedEventSelectors: [{FieldSelectors: [{Field: eventCategory, Equals: [Management], Except: [x]}]}]\n", Options{},
			map[string]want{"T": {"UNKNOWN", []string{"Except"}}}},
		{"both_kinds_of_selectors_are_rejected", "Resources:\n  T:\n" + passing + "      EventSelectors: [{ReadWriteType: All}]\n      AdvancedEventSelectors: [{FieldSelectors: [{Field: eventCategory, Equals: [Management]}]}]\n", Options{},
			map[string]want{"T": {"FAIL", []string{"AWS rejects this configuration", "both"}}}},
		{"unknown_property_and_unknown_condition_both_named", "Conditions:\n  C: !Equals [!Ref 'AWS::AccountId', a]\nResources:\n  T:\n    Condition: C\n" + passing + "      RecordEverything: false\n", Options{},
			map[string]want{"T": {"UNKNOWN", []string{"RecordEverything", "Condition C of T"}}}},
		{"rule_assertion_fails_with_the_defaults", "Parameters:\n  Env: {Type: String, Default: dev}\nRules:\n  ProdOnly:\n    Assertions:\n      - Assert: !Equals [!Ref Env, prod]\n        AssertDescription: only prod\nResources:\n  T:\n" + passing, Options{},
			map[string]want{"T": {"FAIL", []string{"AWS rejects this configuration", "rule ProdOnly", "only prod"}}}},
		{"rule_assertion_holds", "Parameters:\n  Env: {Type: String, Default: prod}\nRules:\n  ProdOnly:\n    Assertions:\n      - Assert: !Contains [[prod, stage], !Ref Env]\nResources:\n  T:\n" + passing, Options{},
			map[string]want{"T": {"PASS", nil}}},
		{"rule_condition_false_does_not_apply", "Parameters:\n  Env: {Type: String, Default: dev}\nRules:\n  ProdOnly:\n    RuleCondition: !Equals [!Ref Env, prod]\n    Assertions:\n      - Assert: !Equals [a, b]\nResources:\n  T:\n" + passing, Options{},
			map[string]want{"T": {"PASS", nil}}},
		{"rule_on_the_account_is_unknown_existence", "Rules:\n  AuditAccount:\n    Assertions:\n      - Assert: !Equals [!Ref 'AWS::AccountId', '111111111111']\nResources:\n  T:\n" + passing, Options{},
			map[string]want{"T": {"UNKNOWN", []string{"whether the stack is created", "rule AuditAccount", "AWS::AccountId"}}}},
		{"rule_reading_the_account_is_unknown_existence", "Parameters:\n  Vpc: {Type: 'AWS::EC2::VPC::Id', Default: vpc-1}\nRules:\n  Tagged:\n    Assertions:\n      - Assert: !EachMemberEquals [!ValueOfAll ['AWS::EC2::VPC::Id', Tags.Env], prod]\nResources:\n  T:\n" + passing, Options{},
			map[string]want{"T": {"UNKNOWN", []string{"Fn::ValueOfAll"}}}},
		{"selector_value_not_a_string_is_rejected", "Resources:\n  T:\n" + passing + "      AdvancedEventSelectors: [{FieldSelectors: [{Field: eventCategory, Equals: [[Management]]}]}]\n", Options{},
			map[string]want{"T": {"FAIL", []string{"AWS rejects this configuration", "a list where a string is expected"}}}},
		{"join_of_a_list_of_lists_is_rejected", multiIs("!Join ['', [[a]]]"), Options{},
			map[string]want{"T": {"FAIL", []string{"AWS rejects this configuration", "Fn::Join takes a list of strings"}}}},
		{"list_parameter_is_a_list", ifMulti("  L: {Type: CommaDelimitedList, Default: 'a, true'}\n", "!Equals [!Select [1, !Ref L], 'true']"), Options{},
			map[string]want{"T": {"PASS", nil}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := judge(t, tc.src, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Errorf("%d results %v, want %d", len(got), got, len(tc.want))
			}
			for id, w := range tc.want {
				r, ok := got[id]
				if !ok {
					t.Errorf("%s: no result", id)
					continue
				}
				reasons := strings.Join(r.Reasons, " | ")
				if string(r.Status) != w.status {
					t.Errorf("%s: %s, want %s (%s)", id, r.Status, w.status, reasons)
				}
				for _, s := range w.reasons {
					if !strings.Contains(reasons, s) {
						t.Errorf("%s: reasons %q lack %q", id, reasons, s)
					}
				}
			}
		})
	}
}

// TestRead_parts_not_read: a nested stack, a module, a macro or a loop
// that may hold a trail is an UNKNOWN result naming it, at its line.
func TestRead_parts_not_read(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  string
		want map[string]string // resource -> text the reason must hold
	}{
		{"nested_stack", "Resources:\n  Audit:\n    Type: AWS::CloudFormation::Stack\n    Properties: {TemplateURL: https://x/audit.yaml}\n",
			map[string]string{"Audit": "nested stack Audit"}},
		{"sam_application", "Transform: AWS::Serverless-2016-10-31\nResources:\n  Audit:\n    Type: AWS::Serverless::Application\n    Properties: {Location: ./audit.yaml}\n",
			map[string]string{"Audit": "nested SAM application Audit"}},
		{"stack_set", "Resources:\n  Everywhere:\n    Type: AWS::CloudFormation::StackSet\n",
			map[string]string{"Everywhere": "stack set Everywhere"}},
		{"registry_module", "Resources:\n  Baseline:\n    Type: Org::Security::Baseline::MODULE\n",
			map[string]string{"Baseline": "module Baseline"}},
		{"nested_stack_with_unknown_condition", "Conditions:\n  C: !Equals [!Ref 'AWS::Region', a]\nResources:\n  Audit:\n    Type: AWS::CloudFormation::Stack\n    Condition: C\n",
			map[string]string{"Audit": "Condition C"}},
		{"nested_stack_with_false_condition_is_not_created", "Conditions:\n  C: !Equals [a, b]\nResources:\n  Audit:\n    Type: AWS::CloudFormation::Stack\n    Condition: C\n",
			map[string]string{}},
		{"include_transform", "Transform: {Name: 'AWS::Include', Parameters: {Location: 's3://b/trail.yaml'}}\nResources:\n  B:\n    Type: AWS::S3::Bucket\n",
			map[string]string{"Transform AWS::Include": "AWS::Include"}},
		{"custom_macro_among_known_ones", "Transform: [AWS::Serverless-2016-10-31, OrgTrailMacro]\nResources:\n  B:\n    Type: AWS::S3::Bucket\n",
			map[string]string{"Transform OrgTrailMacro": "OrgTrailMacro"}},
		{"known_transforms_add_no_trail", "Transform: [AWS::Serverless-2016-10-31, AWS::LanguageExtensions, AWS::SecretsManager-2020-07-23]\nResources:\n  B:\n    Type: AWS::S3::Bucket\n",
			map[string]string{}},
		{"snippet_transform_in_resources", "Resources:\n  Fn::Transform: {Name: 'AWS::Include', Parameters: {Location: 's3://b/r.yaml'}}\n",
			map[string]string{"Fn::Transform": "Fn::Transform in Resources"}},
		{"snippet_transform_as_a_resource", "Resources:\n  T:\n    Fn::Transform: {Name: Trailer}\n",
			map[string]string{"T": "Fn::Transform in resource T"}},
		{"foreach_of_trails", "Transform: AWS::LanguageExtensions\nResources:\n  Fn::ForEach::Trails:\n    - N\n    - [a, b]\n    - Trail${N}:\n        Type: AWS::CloudTrail::Trail\n        Properties: {IsLogging: true}\n",
			map[string]string{"Fn::ForEach::Trails": "Fn::ForEach::Trails"}},
		{"foreach_of_buckets_is_no_trail", "Transform: AWS::LanguageExtensions\nResources:\n  Fn::ForEach::Buckets:\n    - N\n    - [a, b]\n    - B${N}:\n        Type: AWS::S3::Bucket\n",
			map[string]string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := judge(t, tc.src, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Errorf("%d results %v, want %d", len(got), got, len(tc.want))
			}
			for id, w := range tc.want {
				r := got[id]
				if r.Status != trailguard.StatusUnknown || !strings.Contains(strings.Join(r.Reasons, " "), w) {
					t.Errorf("%s: %s %q, want UNKNOWN naming %q", id, r.Status, r.Reasons, w)
				}
			}
		})
	}
}

// aliasBomb nests YAML aliases levels deep, each level repeating the one
// below nine times: a few hundred bytes that expand to 9^levels nodes.
func aliasBomb(levels int) string {
	var b strings.Builder
	b.WriteString("Parameters:\n  a0: &a0 [x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i <= levels; i++ {
		p := fmt.Sprintf("*a%d", i-1)
		fmt.Fprintf(&b, "  a%d: &a%d [%s, %s, %s, %s, %s, %s, %s, %s, %s]\n", i, i, p, p, p, p, p, p, p, p, p)
	}
	fmt.Fprintf(&b, "Resources:\n  T:\n    Type: AWS::CloudTrail::Trail\n    Properties:\n      IsLogging: true\n      IsMultiRegionTrail: true\n      EventSelectors: *a%d\n", levels)
	return b.String()
}

// stringBomb joins a long string with itself through nested aliases:
// few nodes to visit, but each level nine times the bytes of the one
// below.
func stringBomb(levels int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Parameters:\n  s0: &s0 !Join ['', [%s]]\n", strings.Repeat("x", 1<<20))
	for i := 1; i <= levels; i++ {
		p := fmt.Sprintf("*s%d", i-1)
		fmt.Fprintf(&b, "  s%d: &s%d !Join ['', [%s, %s, %s, %s, %s, %s, %s, %s, %s]]\n", i, i, p, p, p, p, p, p, p, p, p)
	}
	fmt.Fprintf(&b, "Resources:\n  T:\n    Type: AWS::CloudTrail::Trail\n    Properties:\n      IsLogging: true\n      TrailName: *s%d\n", levels)
	return b.String()
}

// TestRead_hostile_templates covers principle 5 for templates: limits on
// size, depth and alias expansion, duplicate keys, each an error naming
// the file and the line.
func TestRead_hostile_templates(t *testing.T) {
	deep := "Resources:\n  T:\n    Type: AWS::CloudTrail::Trail\n    Properties:\n      IsMultiRegionTrail: " +
		strings.Repeat("[", MaxDepth+5) + strings.Repeat("]", MaxDepth+5) + "\n"
	deepIf := "Conditions:\n  C: !Equals [a, a]\nResources:\n  T:\n    Type: AWS::CloudTrail::Trail\n    Properties:\n      IsLogging: true\n      IsMultiRegionTrail: " +
		strings.Repeat(`{"Fn::If": ["C", `, 60) + "true" + strings.Repeat(`, false]}`, 60) + "\n"
	for _, tc := range []struct {
		name, src string
		want      []string
	}{
		{"alias_bomb", aliasBomb(8), []string{"t.yaml:", "expands more than"}},
		{"alias_bomb_one_level_more", aliasBomb(9), []string{"t.yaml:", "expands more than"}},
		{"alias_bomb_in_a_condition", strings.Replace(aliasBomb(8), "Resources:", "Conditions:\n  C: !Equals [*a8, x]\nResources:", 1) + "    Condition: C\n", []string{"expands more than"}},
		{"string_bomb", stringBomb(4), []string{"t.yaml:", "builds more than"}},
		{"string_bomb_in_a_condition", strings.Replace(stringBomb(3), "Resources:", "Conditions:\n  C: !Equals [*s3, x]\nResources:", 1) + "    Condition: C\n", []string{"builds more than"}},
		{"deep_nesting", deep, []string{"t.yaml:5:", "nested more than"}},
		{"deep_intrinsics", deepIf, []string{"t.yaml:", "nested more than"}},
		{"duplicate_logical_id", "Resources:\n  T:\n" + passing + "  T:\n    Type: AWS::S3::Bucket\n", []string{"t.yaml:8:", `duplicate key "T"`, "first at line 2"}},
		{"duplicate_logical_id_json", `{"Resources": {"T": {"Type": "AWS::CloudTrail::Trail", "Properties": {"IsLogging": true}},` + "\n" + `"T": {"Type": "AWS::S3::Bucket"}}}`, []string{"t.yaml:2:", `duplicate key "T"`}},
		{"duplicate_property", "Resources:\n  T:\n" + passing + "      IsMultiRegionTrail: false\n", []string{"t.yaml:8:", `duplicate key "IsMultiRegionTrail"`}},
		{"duplicate_section", "Resources: {}\nResources:\n  T:\n" + passing, []string{"t.yaml:2:", `duplicate key "Resources"`}},
		{"merge_key", "Parameters:\n  Base: &base {IsLogging: true}\nResources:\n  T:\n    Type: AWS::CloudTrail::Trail\n    Properties:\n      <<: *base\n      IsMultiRegionTrail: true\n", []string{"t.yaml:7:", "merge key"}},
		{"second_document", "Resources: {}\n---\nResources:\n  T:\n" + passing, []string{"t.yaml:", "second YAML document"}},
		{"too_large", "Resources: {}\n#" + strings.Repeat("x", MaxTemplateBytes), []string{"t.yaml:", "limit"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read(context.Background(), "t.yaml", []byte(tc.src), Options{})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// TestRead_trailing_document_marker: a template ending with --- (an
// empty document) is one template.
func TestRead_trailing_document_marker(t *testing.T) {
	for _, src := range []string{"Resources:\n  T:\n" + passing + "---\n", "Resources:\n  T:\n" + passing + "---\n# nothing\n"} {
		got, err := judge(t, src, Options{})
		if err != nil || got["T"].Status != trailguard.StatusPass {
			t.Errorf("%q: %v %v", src, err, got)
		}
	}
}

// TestRead_stops_when_cancelled: a cancelled context stops the reader
// with an error that says so.
func TestRead_stops_when_cancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, src := range []string{"Resources:\n  T:\n" + passing, aliasBomb(5)} {
		_, err := Read(ctx, "t.yaml", []byte(src), Options{})
		if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "t.yaml") {
			t.Errorf("err = %v, want context.Canceled naming the file", err)
		}
	}
}

// TestIsTemplate: a template is recognised even when Read will refuse it
// (a duplicate key) or when it holds only what Read reports as not read
// (a module, a macro), so that the walk never skips it in silence.
func TestIsTemplate(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      bool
	}{
		{"duplicate_logical_id", "Resources:\n  T:\n" + passing + "  T:\n    Type: AWS::S3::Bucket\n", true},
		{"duplicate_version", "AWSTemplateFormatVersion: '2010-09-09'\nAWSTemplateFormatVersion: '2010-09-09'\n", true},
		{"only_a_registry_module", "Resources:\n  B:\n    Type: Org::Security::Baseline::MODULE\n", true},
		{"only_a_snippet_macro", "Resources:\n  Fn::Transform: {Name: AWS::Include}\n", true},
		{"only_a_custom_resource", "Resources:\n  C:\n    Type: Custom::Trail\n", true},
		{"app_config", "name: my-app\nversion: 2\n", false},
		{"resources_of_another_tool", "Resources:\n  cpu: 2\n  memory: 4Gi\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsTemplate([]byte(tc.src)); got != tc.want {
				t.Errorf("IsTemplate = %v, want %v", got, tc.want)
			}
		})
	}
}
