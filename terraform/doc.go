// Package terraform reads CloudTrail trails (aws_cloudtrail resources)
// from Terraform: HCL configurations (.tf and .tf.json, with override
// files merged as Terraform merges them), evaluated statically as far as
// they can be (variables, tfvars, locals, functions, conditionals, count,
// for_each, local modules, dynamic blocks), and plan JSON
// (terraform show -json). Each trail becomes a trailguard.IaCTrail,
// judged by the one evaluator.
//
// Whatever cannot be known statically is unknown, never a default: a
// variable without a value, terraform.workspace without --workspace, an
// attribute of another resource, a function this reader does not have,
// a value Terraform would refuse to convert ("yes" for a bool). That
// includes whether the trail exists at all: a count or for_each that
// cannot be known sets IaCTrail.UnknownExists (the worst case is no
// trail), one that creates nothing (count = 0, an empty for_each, a
// module called with count = 0, a plan that deletes the trail) sets
// IaCTrail.Absent, and a module that is not read (registry, git, a
// missing directory) is an UNKNOWN result that names it. Values are
// converted as Terraform converts them, with go-cty's convert package:
// "0", "1", "false" and "true" are booleans to Terraform.
package terraform
