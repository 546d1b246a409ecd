package deploy_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hclparse"

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
