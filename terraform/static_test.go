package terraform

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/trailguard/trailguard"
)

// writeModule writes files (path → content, paths relative to a new
// temporary directory) and returns the directory.
func writeModule(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const passingTrail = `
resource "aws_cloudtrail" "t" {
  name                  = "t"
  s3_bucket_name        = "b"
  is_multi_region_trail = true
}
`

// want is the verdict of one resource, and a text its reasons must hold.
type want struct {
	status string
	reason string
}

// TestRead covers what Terraform would do with a configuration: which
// trails exist, with which values. Each case is a defect class: the
// verdict must be the one Terraform's own reading leads to, and what
// cannot be known is UNKNOWN, never a default.
func TestRead(t *testing.T) {
	cases := []struct {
		name   string
		files  map[string]string
		opts   Options
		env    map[string]string
		want   map[string]want
		unread []string // texts each unread result must hold, in order
		errs   []string // texts the errors must hold, in order
	}{
		// Override files.
		{
			name: "override_file_sets_count_zero",
			files: map[string]string{"main.tf": passingTrail,
				"main_override.tf": `resource "aws_cloudtrail" "t" { count = 0 }`},
			want: map[string]want{"aws_cloudtrail.t": {"FAIL", "main_override.tf:1) is 0"}},
		},
		{
			name: "override_tf_json_sets_count_zero",
			files: map[string]string{"main.tf": passingTrail,
				"override.tf.json": `{"resource": {"aws_cloudtrail": {"t": {"count": 0}}}}`},
			want: map[string]want{"aws_cloudtrail.t": {"FAIL", "is 0"}},
		},
		{
			name: "override_replaces_one_attribute_and_keeps_the_others",
			files: map[string]string{"main.tf": passingTrail,
				"x_override.tf": `resource "aws_cloudtrail" "t" { enable_logging = false }`},
			want: map[string]want{"aws_cloudtrail.t": {"FAIL", "not logging"}},
		},
		{
			name: "override_attribute_keeps_base_multi_region",
			files: map[string]string{"main.tf": `resource "aws_cloudtrail" "t" {
  is_multi_region_trail = true
  enable_logging        = false
}`,
				"override.tf": `resource "aws_cloudtrail" "t" { enable_logging = true }`},
			want: map[string]want{"aws_cloudtrail.t": {"PASS", ""}},
		},
		{
			name: "override_nested_block_replaces_every_block_of_its_type",
			files: map[string]string{"main.tf": `resource "aws_cloudtrail" "t" {
  is_multi_region_trail = true
  event_selector {
    read_write_type = "All"
  }
  event_selector {
    read_write_type = "All"
    include_management_events = true
  }
}`,
				"override.tf": `resource "aws_cloudtrail" "t" {
  event_selector {
    read_write_type = "WriteOnly"
  }
}`},
			want: map[string]want{"aws_cloudtrail.t": {"FAIL", "write-only"}},
		},
		{
			name: "override_static_block_replaces_dynamic_block",
			files: map[string]string{"main.tf": `resource "aws_cloudtrail" "t" {
  is_multi_region_trail = true
  dynamic "event_selector" {
    for_each = ["All"]
    content {
      read_write_type = event_selector.value
    }
  }
}`,
				"override.tf.json": `{"resource": {"aws_cloudtrail": {"t": {"event_selector": [{"read_write_type": "ReadOnly"}]}}}}`},
			want: map[string]want{"aws_cloudtrail.t": {"FAIL", "read-only"}},
		},
		{
			name: "variable_overridden_in_a_file_that_sorts_first",
			files: map[string]string{
				"a_override.tf": `variable "logging" { default = false }`,
				"main.tf": `variable "logging" { default = true }
resource "aws_cloudtrail" "t" {
  is_multi_region_trail = true
  enable_logging        = var.logging
}`},
			want: map[string]want{"aws_cloudtrail.t": {"FAIL", "not logging"}},
		},
		{
			name: "local_overridden_in_a_file_that_sorts_first",
			files: map[string]string{
				"a_override.tf": `locals { logging = false }`,
				"main.tf": `locals { logging = true }
resource "aws_cloudtrail" "t" {
  is_multi_region_trail = true
  enable_logging        = local.logging
}`},
			want: map[string]want{"aws_cloudtrail.t": {"FAIL", "not logging"}},
		},
		{
			name: "later_override_file_wins",
			files: map[string]string{"main.tf": passingTrail,
				"a_override.tf": `resource "aws_cloudtrail" "t" { enable_logging = true }`,
				"b_override.tf": `resource "aws_cloudtrail" "t" { enable_logging = false }`},
			want: map[string]want{"aws_cloudtrail.t": {"FAIL", "not logging"}},
		},
		{
			name: "override_of_a_variable_type_converts_the_base_default",
			files: map[string]string{
				"main.tf": `variable "logging" { default = "false" }
resource "aws_cloudtrail" "t" {
  is_multi_region_trail = true
  enable_logging        = var.logging == false ? false : true
}`,
				"override.tf": `variable "logging" { type = bool }`},
			want: map[string]want{"aws_cloudtrail.t": {"FAIL", "not logging"}},
		},
		{
			name: "override_of_nothing_is_an_error",
			files: map[string]string{"main.tf": passingTrail,
				"override.tf": `resource "aws_cloudtrail" "other" { enable_logging = false }`},
			want: map[string]want{"aws_cloudtrail.t": {"PASS", ""}},
			errs: []string{"override.tf:1: override of resource aws_cloudtrail.other, which no other file declares"},
		},
		{
			name:  "tf_json_file_is_read",
			files: map[string]string{"main.tf.json": `{"resource": {"aws_cloudtrail": {"t": {"is_multi_region_trail": true, "enable_logging": "${var.on}"}}}, "variable": {"on": {"default": false}}}`},
			want:  map[string]want{"aws_cloudtrail.t": {"FAIL", "not logging"}},
		},
		{
			name: "hidden_file_is_ignored_as_terraform_ignores_it",
			files: map[string]string{"main.tf": `resource "aws_cloudtrail" "t" { enable_logging = false }`,
				".backup.tf": passingTrail},
			want: map[string]want{"aws_cloudtrail.t": {"FAIL", ""}},
		},
		{
			name: "duplicate_resource_is_an_error",
			files: map[string]string{"a.tf": passingTrail,
				"b.tf": `resource "aws_cloudtrail" "t" { enable_logging = false }`},
			want: map[string]want{"aws_cloudtrail.t": {"PASS", ""}},
			errs: []string{"b.tf:1: resource aws_cloudtrail \"t\" is also declared at"},
		},

		// Values converted as Terraform converts them.
		{
			name: "enable_logging_string_zero_is_false",
			files: map[string]string{"main.tf": `resource "aws_cloudtrail" "t" {
  is_multi_region_trail = true
  enable_logging        = "0"
}`},
			want: map[string]want{"aws_cloudtrail.t": {"FAIL", "not logging"}},
		},
		{
			name: "multi_region_string_one_is_true",
			files: map[string]string{"main.tf": `resource "aws_cloudtrail" "t" {
  is_multi_region_trail = "1"
}`},
			want: map[string]want{"aws_cloudtrail.t": {"PASS", ""}},
		},
		{
			name: "include_management_events_string_zero_is_false",
			files: map[string]string{"main.tf": `resource "aws_cloudtrail" "t" {
  is_multi_region_trail = true
  event_selector {
    read_write_type           = "All"
    include_management_events = "0"
  }
}`},
			want: map[string]want{"aws_cloudtrail.t": {"FAIL", ""}},
		},
		{
			name: "string_that_is_not_a_bool_is_unknown_never_the_default",
			files: map[string]string{"main.tf": `resource "aws_cloudtrail" "t" {
  is_multi_region_trail = true
  enable_logging        = "yes"
}`},
			want: map[string]want{"aws_cloudtrail.t": {"UNKNOWN", `enable_logging = "yes"`}},
		},
		{
			name: "number_for_a_bool_is_unknown",
			files: map[string]string{"main.tf": `resource "aws_cloudtrail" "t" {
  is_multi_region_trail = true
  enable_logging        = 1
}`},
			want: map[string]want{"aws_cloudtrail.t": {"UNKNOWN", "Terraform rejects this value"}},
		},
		{
			name: "var_zero_on_the_command_line_without_type_is_the_string_zero",
			files: map[string]string{"main.tf": `variable "logging" { default = true }
resource "aws_cloudtrail" "t" {
  is_multi_region_trail = true
  enable_logging        = var.logging
}`},
			opts: Options{Vars: map[string]string{"logging": "0"}},
			want: map[string]want{"aws_cloudtrail.t": {"FAIL", "not logging"}},
		},
		{
			name: "var_zero_on_the_command_line_with_type_bool",
			files: map[string]string{"main.tf": `variable "logging" {
  type    = bool
  default = true
}
resource "aws_cloudtrail" "t" {
  is_multi_region_trail = true
  enable_logging        = var.logging
}`},
			opts: Options{Vars: map[string]string{"logging": "0"}},
			want: map[string]want{"aws_cloudtrail.t": {"FAIL", "not logging"}},
		},
		{
			name: "var_on_the_command_line_that_is_not_a_bool_is_unknown",
			files: map[string]string{"main.tf": `variable "logging" {
  type    = bool
  default = true
}
resource "aws_cloudtrail" "t" {
  is_multi_region_trail = true
  enable_logging        = var.logging
}`},
			opts: Options{Vars: map[string]string{"logging": "maybe"}},
			want: map[string]want{"aws_cloudtrail.t": {"UNKNOWN", "Terraform rejects it"}},
		},
		{
			name: "var_of_type_any_is_parsed_as_hcl",
			files: map[string]string{"main.tf": `variable "cfg" {
  type    = any
  default = { multi = true }
}
resource "aws_cloudtrail" "t" {
  is_multi_region_trail = var.cfg.multi
}`},
			opts: Options{Vars: map[string]string{"cfg": "{ multi = false }"}},
			want: map[string]want{"aws_cloudtrail.t": {"FAIL", ""}},
		},
		{
			name: "bool_variable_default_string_is_converted",
			files: map[string]string{"main.tf": `variable "logging" {
  type    = bool
  default = "0"
}
resource "aws_cloudtrail" "t" {
  is_multi_region_trail = true
  enable_logging        = var.logging ? true : false
}`},
			want: map[string]want{"aws_cloudtrail.t": {"FAIL", "not logging"}},
		},
		{
			name: "tfvars_value_that_does_not_convert_is_unknown",
			files: map[string]string{"main.tf": `variable "multi" {
  type    = bool
  default = true
}
resource "aws_cloudtrail" "t" {
  is_multi_region_trail = var.multi
}`, "terraform.tfvars": `multi = "sometimes"`},
			want: map[string]want{"aws_cloudtrail.t": {"UNKNOWN", "does not convert to bool"}},
		},
		{
			name: "object_type_optional_default_is_applied",
			files: map[string]string{"main.tf": `variable "cfg" {
  type    = object({ multi = optional(bool, false) })
  default = {}
}
resource "aws_cloudtrail" "t" {
  is_multi_region_trail = var.cfg.multi
}`},
			want: map[string]want{"aws_cloudtrail.t": {"FAIL", ""}},
		},
		{
			name: "non_nullable_variable_given_null_takes_its_default",
			files: map[string]string{"main.tf": `variable "logging" {
  default  = false
  nullable = false
}
resource "aws_cloudtrail" "t" {
  is_multi_region_trail = true
  enable_logging        = var.logging
}`, "terraform.tfvars": `logging = null`},
			want: map[string]want{"aws_cloudtrail.t": {"FAIL", "not logging"}},
		},
		{
			name: "auto_tfvars_json_and_hcl_in_lexical_order",
			files: map[string]string{"main.tf": `variable "logging" { default = true }
resource "aws_cloudtrail" "t" {
  is_multi_region_trail = true
  enable_logging        = var.logging
}`, "a.auto.tfvars.json": `{"logging": true}`, "b.auto.tfvars": `logging = false`},
			want: map[string]want{"aws_cloudtrail.t": {"FAIL", "not logging"}},
		},

		{
			name: "tfvars_win_over_the_environment",
			files: map[string]string{"main.tf": `variable "logging" { default = true }
variable "multi" { type = bool }
resource "aws_cloudtrail" "t" {
  is_multi_region_trail = var.multi
  enable_logging        = var.logging
}`, "terraform.tfvars": `logging = false`},
			env:  map[string]string{"TF_VAR_multi": "1", "TF_VAR_logging": "true"},
			want: map[string]want{"aws_cloudtrail.t": {"FAIL", "not logging"}},
		},
		{
			name: "environment_variable_parsed_as_a_var",
			files: map[string]string{"main.tf": `variable "logging" { default = true }
resource "aws_cloudtrail" "t" {
  is_multi_region_trail = true
  enable_logging        = var.logging
}`},
			env:  map[string]string{"TF_VAR_logging": "0"},
			want: map[string]want{"aws_cloudtrail.t": {"FAIL", "not logging"}},
		},

		{
			name: "try_over_a_data_source_is_unknown_not_its_fallback",
			files: map[string]string{"main.tf": `resource "aws_cloudtrail" "t" {
  is_multi_region_trail = true
  enable_logging        = try(data.aws_ssm_parameter.logging.value, true)
}`},
			want: map[string]want{"aws_cloudtrail.t": {"UNKNOWN", "data.aws_ssm_parameter, known only when applied"}},
		},
		{
			name: "can_over_a_resource_attribute_is_unknown",
			files: map[string]string{"main.tf": `resource "aws_cloudtrail" "t" {
  is_multi_region_trail = can(aws_s3_bucket.b.id) ? true : true
  enable_logging        = can(aws_s3_bucket.b.id)
}`},
			want: map[string]want{"aws_cloudtrail.t": {"UNKNOWN", "aws_s3_bucket.b, known only when applied"}},
		},
		{
			name: "try_over_an_undeclared_variable_is_rejected_not_its_fallback",
			files: map[string]string{"main.tf": `resource "aws_cloudtrail" "t" {
  is_multi_region_trail = try(var.nope, true)
}`},
			want: map[string]want{"aws_cloudtrail.t": {"UNKNOWN", "Terraform rejects a reference to var.nope"}},
		},
		{
			name: "try_over_a_known_missing_attribute_takes_the_fallback",
			files: map[string]string{"main.tf": `locals { cfg = {} }
resource "aws_cloudtrail" "t" {
  is_multi_region_trail = try(local.cfg.multi, true)
}`},
			want: map[string]want{"aws_cloudtrail.t": {"PASS", ""}},
		},

		// Existence.
		{
			name: "count_on_an_unknown_variable_is_unknown",
			files: map[string]string{"main.tf": `variable "create" { type = bool }
resource "aws_cloudtrail" "t" {
  count                 = var.create ? 1 : 0
  is_multi_region_trail = true
}`},
			want: map[string]want{"aws_cloudtrail.t[?]": {"UNKNOWN", "count = var.create ? 1 : 0"}},
		},
		{
			name: "count_false_variable_is_absent",
			files: map[string]string{"main.tf": `variable "create" { type = bool }
resource "aws_cloudtrail" "t" {
  count                 = var.create ? 1 : 0
  is_multi_region_trail = true
}`},
			opts: Options{Vars: map[string]string{"create": "false"}},
			want: map[string]want{"aws_cloudtrail.t": {"FAIL", "the trail is not created"}},
		},
		{
			name: "count_true_variable_creates_it",
			files: map[string]string{"main.tf": `variable "create" { type = bool }
resource "aws_cloudtrail" "t" {
  count                 = var.create ? 1 : 0
  is_multi_region_trail = true
}`},
			opts: Options{Vars: map[string]string{"create": "true"}},
			want: map[string]want{"aws_cloudtrail.t[0]": {"PASS", ""}},
		},
		{
			name: "count_as_a_string_is_converted",
			files: map[string]string{"main.tf": `resource "aws_cloudtrail" "t" {
  count                 = "0"
  is_multi_region_trail = true
}`},
			want: map[string]want{"aws_cloudtrail.t": {"FAIL", "is 0"}},
		},
		{
			name: "negative_count_is_unknown",
			files: map[string]string{"main.tf": `resource "aws_cloudtrail" "t" {
  count                 = -1
  is_multi_region_trail = true
}`},
			want: map[string]want{"aws_cloudtrail.t[?]": {"UNKNOWN", "Terraform rejects it"}},
		},
		{
			name: "empty_for_each_is_absent",
			files: map[string]string{"main.tf": `resource "aws_cloudtrail" "t" {
  for_each              = toset([])
  is_multi_region_trail = true
}`},
			want: map[string]want{"aws_cloudtrail.t": {"FAIL", "is empty"}},
		},
		{
			name: "for_each_on_an_unknown_variable_is_unknown",
			files: map[string]string{"main.tf": `variable "names" { type = set(string) }
resource "aws_cloudtrail" "t" {
  for_each              = var.names
  is_multi_region_trail = true
}`},
			want: map[string]want{"aws_cloudtrail.t[?]": {"UNKNOWN", "var.names has no default"}},
		},
		{
			name: "for_each_over_a_list_is_rejected_by_terraform",
			files: map[string]string{"main.tf": `resource "aws_cloudtrail" "t" {
  for_each              = ["a"]
  is_multi_region_trail = true
}`},
			want: map[string]want{"aws_cloudtrail.t[?]": {"UNKNOWN", "for_each takes a map or a set of strings"}},
		},
		{
			name: "for_each_map_with_unknown_values_has_known_keys",
			files: map[string]string{"main.tf": `variable "x" {}
resource "aws_cloudtrail" "t" {
  for_each              = { a = var.x }
  is_multi_region_trail = true
}`},
			want: map[string]want{`aws_cloudtrail.t["a"]`: {"PASS", ""}},
		},
		{
			name: "count_and_for_each_together",
			files: map[string]string{"main.tf": `resource "aws_cloudtrail" "t" {
  count                 = 1
  for_each              = { a = 1 }
  is_multi_region_trail = true
}`},
			want: map[string]want{"aws_cloudtrail.t[?]": {"UNKNOWN", "both count and for_each"}},
		},
		{
			name: "workspace_is_unknown_without_the_option",
			files: map[string]string{"main.tf": `resource "aws_cloudtrail" "t" {
  is_multi_region_trail = terraform.workspace == "prod"
}`},
			want: map[string]want{"aws_cloudtrail.t": {"UNKNOWN", "terraform.workspace"}},
		},
		{
			name: "workspace_given",
			files: map[string]string{"main.tf": `resource "aws_cloudtrail" "t" {
  count                 = terraform.workspace == "prod" ? 1 : 0
  is_multi_region_trail = true
}`},
			opts: Options{Workspace: "dev"},
			want: map[string]want{"aws_cloudtrail.t": {"FAIL", "not created"}},
		},
		{
			name: "false_precondition_stops_the_plan",
			files: map[string]string{"main.tf": `variable "env" { default = "dev" }
resource "aws_cloudtrail" "t" {
  is_multi_region_trail = true
  lifecycle {
    precondition {
      condition     = var.env == "prod"
      error_message = "prod only"
    }
  }
}`},
			want: map[string]want{"aws_cloudtrail.t": {"FAIL", "Terraform stops the plan"}},
		},
		{
			name: "unknown_precondition_leaves_existence_unknown",
			files: map[string]string{"main.tf": `resource "aws_cloudtrail" "t" {
  is_multi_region_trail = true
  lifecycle {
    precondition {
      condition     = data.aws_region.current.name == "us-east-1"
      error_message = "home region"
    }
  }
}`},
			want: map[string]want{"aws_cloudtrail.t": {"UNKNOWN", "precondition data.aws_region.current.name"}},
		},
		{
			name: "variable_that_fails_its_validation_stops_the_plan",
			files: map[string]string{"main.tf": `variable "logging" {
  default = true
  validation {
    condition     = var.logging == false
    error_message = "off only"
  }
}
resource "aws_cloudtrail" "t" {
  is_multi_region_trail = true
  enable_logging        = var.logging
}`},
			want: map[string]want{"aws_cloudtrail.t": {"FAIL", "fails its validation"}},
		},
		{
			name: "variable_that_passes_its_validation",
			files: map[string]string{"main.tf": `variable "logging" {
  default = true
  validation {
    condition     = can(tobool(var.logging))
    error_message = "a bool"
  }
}
resource "aws_cloudtrail" "t" {
  is_multi_region_trail = true
  enable_logging        = var.logging
}`},
			want: map[string]want{"aws_cloudtrail.t": {"PASS", ""}},
		},
		{
			name: "locals_in_a_cycle_are_unknown",
			files: map[string]string{"main.tf": `locals {
  a = local.b
  b = local.a
}
resource "aws_cloudtrail" "t" {
  is_multi_region_trail = local.a
}`},
			want: map[string]want{"aws_cloudtrail.t": {"UNKNOWN", "refers to itself"}},
		},
		{
			name: "locals_in_dependency_order",
			files: map[string]string{"main.tf": `locals {
  z = local.y
  y = local.x
  x = "false"
}
resource "aws_cloudtrail" "t" {
  is_multi_region_trail = true
  enable_logging        = local.z
}`},
			want: map[string]want{"aws_cloudtrail.t": {"FAIL", "not logging"}},
		},

		// Modules.
		{
			name: "registry_module_is_not_read_and_says_so",
			files: map[string]string{"main.tf": `module "audit" {
  source  = "cloudposse/cloudtrail/aws"
  version = "0.24.0"
}`},
			unread: []string{`module.audit (source "cloudposse/cloudtrail/aws", `},
		},
		{
			name: "git_module_is_not_read_and_says_so",
			files: map[string]string{"main.tf": passingTrail + `
module "audit" {
  source = "git::https://example.com/trail.git?ref=v1"
}`},
			want:   map[string]want{"aws_cloudtrail.t": {"PASS", ""}},
			unread: []string{`main.tf:8): a registry or remote module`},
		},
		{
			name: "registry_module_called_zero_times_creates_nothing",
			files: map[string]string{"main.tf": passingTrail + `
module "audit" {
  source = "cloudposse/cloudtrail/aws"
  count  = 0
}`},
			want: map[string]want{"aws_cloudtrail.t": {"PASS", ""}},
		},
		{
			name: "registry_module_with_unknown_count_is_not_read",
			files: map[string]string{"main.tf": `variable "on" {}
module "audit" {
  source   = "cloudposse/cloudtrail/aws"
  for_each = var.on
}`},
			unread: []string{`source "cloudposse/cloudtrail/aws"`},
		},
		{
			name:   "missing_local_module_directory",
			files:  map[string]string{"main.tf": `module "audit" { source = "./nowhere" }`},
			unread: []string{`module.audit (source "./nowhere"`, "missing"},
		},
		{
			name: "module_with_count_zero_makes_its_trails_absent",
			files: map[string]string{"main.tf": `module "audit" {
  source = "./m"
  count  = 0
}`, "m/main.tf": passingTrail},
			want: map[string]want{"module.audit.aws_cloudtrail.t": {"FAIL", "not created"}},
		},
		{
			name: "module_with_unknown_count_makes_its_trails_unknown",
			files: map[string]string{"main.tf": `variable "on" { type = bool }
module "audit" {
  source = "./m"
  count  = var.on ? 1 : 0
}`, "m/main.tf": passingTrail},
			want: map[string]want{"module.audit[?].aws_cloudtrail.t": {"UNKNOWN", "count = var.on ? 1 : 0"}},
		},
		{
			name: "module_input_string_zero_converted_by_the_child_variable_type",
			files: map[string]string{"main.tf": `module "audit" {
  source  = "./m"
  logging = "0"
}`, "m/main.tf": `variable "logging" { type = bool }
resource "aws_cloudtrail" "t" {
  is_multi_region_trail = true
  enable_logging        = var.logging
}`},
			want: map[string]want{"module.audit.aws_cloudtrail.t": {"FAIL", "not logging"}},
		},
		{
			name: "module_call_overridden_to_count_zero",
			files: map[string]string{"main.tf": `module "audit" { source = "./m" }`,
				"override.tf": `module "audit" { count = 0 }`, "m/main.tf": passingTrail},
			want: map[string]want{"module.audit.aws_cloudtrail.t": {"FAIL", "not created"}},
		},

		// Settings read exactly as declared.
		{
			name:  "global_service_events_default_true",
			files: map[string]string{"main.tf": passingTrail},
			want:  map[string]want{"aws_cloudtrail.t": {"PASS", ""}},
		},
		{
			name: "global_service_events_unknown_is_unknown",
			files: map[string]string{"main.tf": `variable "g" { type = bool }
resource "aws_cloudtrail" "t" {
  is_multi_region_trail         = true
  include_global_service_events = var.g
}`},
			want: map[string]want{"aws_cloudtrail.t": {"UNKNOWN", "include_global_service_events = var.g"}},
		},
		{
			name: "dynamic_selectors_with_unknown_for_each",
			files: map[string]string{"main.tf": `variable "sel" {}
resource "aws_cloudtrail" "t" {
  is_multi_region_trail = true
  dynamic "event_selector" {
    for_each = var.sel
    content {
      read_write_type = "All"
    }
  }
}`},
			want: map[string]want{"aws_cloudtrail.t": {"UNKNOWN", "for_each is not known statically"}},
		},
		{
			name: "selector_value_from_an_unknown_variable",
			files: map[string]string{"main.tf": `variable "rw" {}
resource "aws_cloudtrail" "t" {
  is_multi_region_trail = true
  event_selector {
    read_write_type = var.rw
  }
}`},
			want: map[string]want{"aws_cloudtrail.t": {"UNKNOWN", "var.rw has no default"}},
		},
		{
			name: "unknown_data_resource_decides_nothing",
			files: map[string]string{"main.tf": `variable "arns" {}
resource "aws_cloudtrail" "t" {
  is_multi_region_trail = true
  event_selector {
    read_write_type = "All"
    data_resource {
      type   = "AWS::S3::Object"
      values = var.arns
    }
  }
}`},
			want: map[string]want{"aws_cloudtrail.t": {"PASS", ""}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			dir := writeModule(t, tc.files)
			m := Read(dir, tc.opts)
			got := map[string]trailguard.Result{}
			for _, tr := range m.Trails {
				got[tr.Resource] = trailguard.EvaluateIaC(tr, trailguard.Options{})
			}
			for addr, w := range tc.want {
				r, ok := got[addr]
				if !ok {
					t.Errorf("%s: not found; have %v", addr, keys(got))
					continue
				}
				if string(r.Status) != w.status || !strings.Contains(strings.Join(r.Reasons, " | "), w.reason) {
					t.Errorf("%s: %s %q, want %s with %q", addr, r.Status, r.Reasons, w.status, w.reason)
				}
			}
			if len(got) != len(tc.want) {
				t.Errorf("trails %v, want %d", keys(got), len(tc.want))
			}
			if len(m.Unread) != min(len(tc.unread), 1) {
				t.Errorf("unread %+v, want %q", m.Unread, tc.unread)
			}
			for _, u := range m.Unread {
				if u.Status != trailguard.StatusUnknown || u.File == "" || u.Line < 1 {
					t.Errorf("unread result %+v: want UNKNOWN with file and line", u)
				}
				for _, s := range tc.unread {
					if !strings.Contains(strings.Join(u.Reasons, " "), s) {
						t.Errorf("unread %q: want %q", u.Reasons, s)
					}
				}
			}
			if len(m.Errs) != len(tc.errs) {
				t.Errorf("errors %v, want %q", m.Errs, tc.errs)
			}
			for i := range min(len(m.Errs), len(tc.errs)) {
				if !strings.Contains(m.Errs[i].Error(), tc.errs[i]) {
					t.Errorf("error %q, want %q", m.Errs[i], tc.errs[i])
				}
			}
		})
	}
}

func keys(m map[string]trailguard.Result) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestRead_settings_as_declared: the reader hands the evaluator the
// settings exactly as declared, so that it can judge what AWS accepts
// (a multi-region trail without global service events) and every
// advanced selector operator.
func TestRead_settings_as_declared(t *testing.T) {
	cases := []struct {
		name  string
		src   string
		check func(t *testing.T, tr trailguard.IaCTrail)
	}{
		{
			name: "multi_region_without_global_service_events",
			src: `resource "aws_cloudtrail" "t" {
  is_multi_region_trail         = true
  include_global_service_events = "false"
}`,
			check: func(t *testing.T, tr trailguard.IaCTrail) {
				if !tr.Trail.IsMultiRegion || tr.Trail.IncludeGlobalServiceEvents || tr.UnknownExists != "" {
					t.Errorf("multi-region %v, global events %v, unknown %q", tr.Trail.IsMultiRegion, tr.Trail.IncludeGlobalServiceEvents, tr.UnknownExists)
				}
			},
		},
		{
			name: "advanced_selector_operators",
			src: `resource "aws_cloudtrail" "t" {
  is_multi_region_trail = true
  advanced_event_selector {
    name = "mgmt"
    field_selector {
      field  = "eventCategory"
      equals = ["Management"]
    }
    field_selector {
      field         = "eventSource"
      not_equals    = ["kms.amazonaws.com"]
      not_ends_with = ["x"]
      ends_with     = ["y"]
      starts_with   = ["z"]
      not_starts_with = ["w"]
    }
  }
}`,
			check: func(t *testing.T, tr trailguard.IaCTrail) {
				want := []trailguard.AdvancedEventSelector{{Name: "mgmt", FieldSelectors: []trailguard.FieldSelector{
					{Field: "eventCategory", Equals: []string{"Management"}},
					{Field: "eventSource", NotEquals: []string{"kms.amazonaws.com"}, NotEndsWith: []string{"x"}, EndsWith: []string{"y"},
						StartsWith: []string{"z"}, NotStartsWith: []string{"w"}},
				}}}
				if tr.Trail.Selectors == nil || !reflect.DeepEqual(tr.Trail.Selectors.Advanced, want) || len(tr.Trail.Selectors.Basic) != 0 || tr.UnknownSelectors != "" {
					t.Errorf("selectors %+v unknown %q", tr.Trail.Selectors, tr.UnknownSelectors)
				}
				if !tr.Trail.HasCustomEventSelectors {
					t.Error("custom selectors not marked")
				}
			},
		},
		{
			name: "basic_selector_with_exclusions",
			src: `resource "aws_cloudtrail" "t" {
  is_multi_region_trail = true
  event_selector {
    read_write_type                  = "All"
    include_management_events        = true
    exclude_management_event_sources = ["kms.amazonaws.com"]
  }
}`,
			check: func(t *testing.T, tr trailguard.IaCTrail) {
				want := []trailguard.EventSelector{{ReadWriteType: "All", IncludeManagementEvents: true, ExcludeManagementEventSources: []string{"kms.amazonaws.com"}}}
				if !reflect.DeepEqual(tr.Trail.Selectors.Basic, want) {
					t.Errorf("selectors %+v", tr.Trail.Selectors.Basic)
				}
			},
		},
		{
			name: "no_selectors_is_the_aws_default",
			src:  passingTrail,
			check: func(t *testing.T, tr trailguard.IaCTrail) {
				if !reflect.DeepEqual(tr.Trail.Selectors, trailguard.DefaultSelectors()) || tr.Trail.HasCustomEventSelectors || !tr.Trail.IncludeGlobalServiceEvents {
					t.Errorf("trail %+v", tr.Trail)
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := Read(writeModule(t, map[string]string{"main.tf": tc.src}), Options{})
			if len(m.Trails) != 1 || len(m.Errs) != 0 {
				t.Fatalf("trails %+v errors %v", m.Trails, m.Errs)
			}
			tc.check(t, m.Trails[0])
		})
	}
}

// TestReadModule_reports_unread_parts_as_errors: callers of the older
// API get what was not read as an error naming it, never silence.
func TestReadModule_reports_unread_parts_as_errors(t *testing.T) {
	dir := writeModule(t, map[string]string{"main.tf": `module "m" { source = "hashicorp/x/aws" }`})
	_, errs := ReadModule(dir, Options{})
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "main.tf:1: module.m") {
		t.Errorf("errors %v", errs)
	}
}
