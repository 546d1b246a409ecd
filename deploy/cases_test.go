package deploy_test

import (
	"testing"

	"github.com/trailguard/trailguard/deploy"
)

// deployCase is one combination of flags that changes what is written.
type deployCase struct {
	name string
	o    deploy.Options
}

func cfnBase() deploy.Options {
	return deploy.Options{CodeS3Bucket: "my-artifacts", CodeS3Key: "trailguard/bootstrap.zip"}
}

func orgBase() deploy.Options {
	o := cfnBase()
	o.Org, o.OrgID, o.OrgTargets, o.DelegatedAdmin = true, "o-abcdefghij", []string{"r-abcd"}, true
	return o
}

// cases are every flag combination that changes the template; the
// Terraform checks use the same ones with the code as a local zip.
func cases() []deployCase {
	with := func(o deploy.Options, f func(*deploy.Options)) deploy.Options { f(&o); return o }
	return []deployCase{
		{"one_account_defaults", cfnBase()},
		{"one_account_strict_email_remediation_period", with(cfnBase(), func(o *deploy.Options) {
			o.Strict, o.AlertEmail, o.AutoRemediate, o.Period = true, "security@example.com", "start-logging", "TwentyFour_Hours"
		})},
		{"one_account_with_scp", with(cfnBase(), func(o *deploy.Options) {
			o.SCP, o.BreakGlass, o.SCPTargets = true, []string{"arn:aws:iam::*:role/BreakGlass", "arn:aws:iam::123456789012:role/Pipeline*"}, []string{"r-abcd"}
		})},
		{"organization", orgBase()},
		{"organization_from_management_account_strict_remediation_scp", with(orgBase(), func(o *deploy.Options) {
			o.DelegatedAdmin, o.Strict, o.AutoRemediate, o.SCP, o.AlertEmail = false, true, "start-logging", true, "sec@example.com"
			o.OrgTargets = []string{"ou-abcd-12345678", "ou-abcd-87654321"}
		})},
		{"one_account_mutelist_in_s3", with(cfnBase(), func(o *deploy.Options) { o.Mutelist = "s3://trailguard-config/mutelists/cis-3-1.yaml" })},
		{"organization_mutelist_inline", with(orgBase(), func(o *deploy.Options) { o.Mutelist = "testdata/mutelist.yaml" })},
		{"one_account_regions", with(cfnBase(), func(o *deploy.Options) { o.Regions = []string{"us-west-2", "eu-west-1"} })},
		{"one_account_forwarder", deploy.Options{Forwarder: true, Regions: []string{"us-west-2", "eu-west-1"}}},
		{"organization_regions", with(orgBase(), func(o *deploy.Options) { o.Regions = []string{"us-west-2", "ap-southeast-2"} })},
		{"organization_management_account_stack_regions", deploy.Options{Org: true, ManagementAccount: true, Regions: []string{"us-west-2"}}},
		{"organization_management_account_stack", deploy.Options{Org: true, ManagementAccount: true}},
		{"scp_only", deploy.Options{SCPOnly: true, SCPTargets: []string{"ou-abcd-12345678", "123456789012"}}},
	}
}

// terraformOptions turns a CloudFormation case into its Terraform twin.
func terraformOptions(o deploy.Options) deploy.Options {
	o.Format = deploy.Terraform
	if o.Forwarder {
		// Terraform forwards from the other regions in the configuration
		// of the function itself.
		o.Forwarder, o.CodeZip = false, "build/trailguard.zip"
	}
	if o.CodeS3Bucket != "" {
		o.CodeS3Bucket, o.CodeS3Key, o.CodeZip = "", "", "build/trailguard.zip"
	}
	return o
}

func emit(t *testing.T, o deploy.Options) []byte {
	t.Helper()
	b, err := deploy.Emit(o)
	if err != nil {
		t.Fatalf("Emit: %v", err)
	}
	return b
}
