package deploy_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/trailguard/trailguard/control"
	"github.com/trailguard/trailguard/deploy"
)

// FuzzEmit feeds arbitrary user values (the flags are outside input) to
// deploy: each is either refused with an error naming its flag, or the
// output is valid JSON / HCL in which the value survives as written.
func FuzzEmit(f *testing.F) {
	f.Add("trailguard", "ops@example.com", "build/trailguard.zip", "arn:aws:iam::*:role/BreakGlass*", "r-abcd", false)
	f.Add("trail\"guard", "a${b}@example.com", "x/${y}\".zip", `arn:aws:iam::*:role/"}]}`, "ou-abcd-12345678", true)
	f.Add("", "", "", "", "", true)
	f.Fuzz(func(t *testing.T, name, email, zip, breakGlass, target string, tf bool) {
		o := deploy.Options{FunctionName: name, AlertEmail: email, CodeS3Bucket: "my-artifacts", CodeS3Key: "k.zip",
			SCP: true, BreakGlass: []string{breakGlass}, SCPTargets: []string{target}}
		if tf {
			o.Format, o.CodeS3Bucket, o.CodeS3Key, o.CodeZip = deploy.Terraform, "", "", zip
		}
		out, err := deploy.Emit(o)
		if err != nil {
			if !strings.Contains(err.Error(), "--") {
				t.Fatalf("error names no flag: %v", err)
			}
			return
		}
		if tf {
			if _, diags := hclparse.NewParser().ParseHCL(out, "main.tf"); diags.HasErrors() {
				t.Fatalf("output does not parse: %v\n%s", diags, out)
			}
			return
		}
		var tmpl map[string]any
		if err := json.Unmarshal(out, &tmpl); err != nil {
			t.Fatalf("output is not JSON: %v", err)
		}
		if email != "" && !strings.Contains(string(out), mustJSON(email)) {
			t.Errorf("e-mail %q not in the template as JSON", email)
		}
	})
}

func mustJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// FuzzMutelistAndRegions feeds arbitrary --mutelist URIs and --regions
// names: each is refused with an error naming its flag, or the template
// parses, the function reads from its rule parameters exactly the object
// named, and the role's s3:GetObject names that object and nothing wider
// (no IAM wildcard or policy variable).
func FuzzMutelistAndRegions(f *testing.F) {
	f.Add("s3://trailguard-config/mutelists/cis-3-1.yaml", "us-west-2", false, false)
	f.Add("s3://a..b/*", "us-east-1;id", true, true)
	f.Add("s3://bucket/${aws:username}?.yaml", "eu-west-1", true, false)
	f.Fuzz(func(t *testing.T, uri, region string, org, tf bool) {
		if !strings.HasPrefix(uri, "s3://") {
			uri = "s3://" + uri // a file path would be read from this machine
		}
		o := deploy.Options{CodeS3Bucket: "my-artifacts", CodeS3Key: "k.zip", Mutelist: uri, Regions: []string{region}}
		if org {
			o.Org, o.OrgID, o.OrgTargets = true, "o-abcdefghij", []string{"r-abcd"}
		}
		if tf {
			o.Format, o.CodeS3Bucket, o.CodeS3Key, o.CodeZip = deploy.Terraform, "", "", "t.zip"
		}
		out, err := deploy.Emit(o)
		if err != nil {
			if !strings.Contains(err.Error(), "--mutelist") && !strings.Contains(err.Error(), "--regions") {
				t.Fatalf("error names neither --mutelist nor --regions: %v", err)
			}
			return
		}
		bucket, key, _ := o.MutelistS3()
		if strings.ContainsAny(key, "*?$") {
			t.Fatalf("key %q with an IAM wildcard or variable accepted", key)
		}
		if tf {
			if _, diags := hclparse.NewParser().ParseHCL(out, "main.tf"); diags.HasErrors() {
				t.Fatalf("output does not parse: %v\n%s", diags, out)
			}
			return
		}
		params, statements := ruleParameters(t, o)
		p, err := control.ParseRuleParameters(params)
		if err != nil {
			t.Fatalf("the function refuses the parameters %s: %v", params, err)
		}
		if p.Mutelist.Bucket != bucket || p.Mutelist.Key != key {
			t.Fatalf("the function reads s3://%s/%s, the role is written for s3://%s/%s", p.Mutelist.Bucket, p.Mutelist.Key, bucket, key)
		}
		found := false
		for _, s := range statements {
			if r, ok := s["Resource"].(map[string]any); ok && s["Sid"] == "TrailguardReadMutelist" {
				found = r["Fn::Sub"].([]any)[1].(map[string]any)["Object"] == bucket+"/"+key
			}
		}
		if !found {
			t.Fatalf("no s3:GetObject on exactly %s/%s in %v", bucket, key, statements)
		}
	})
}
