package deploy_test

import (
	"encoding/json"
	"testing"

	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/trailguard/trailguard/deploy"
)

// Values a user gives reach the templates through the formats' own
// escaping: a value that looks like a Terraform interpolation or template
// directive, or holds quotes, stays the literal it was.
func TestUserValues_stay_literal(t *testing.T) {
	const email = `ops${var.x}%{if true}&"q"@example.com`
	const zip = `build/${path.module}"/%{x}/trail guard.zip`
	cases := []struct {
		name     string
		resource string
		attr     string
		want     string
	}{
		{"email_in_terraform", "aws_sns_topic_subscription", "endpoint", email},
		{"zip_path_in_terraform", "aws_lambda_function", "filename", zip},
	}
	o := deploy.Options{Format: deploy.Terraform, CodeZip: zip, AlertEmail: email}
	if err := func() error { o2 := o; o2.Defaults(); return o2.Validate() }(); err == nil {
		t.Fatalf("an address with quotes was accepted: %q", email)
	}
	// Quotes are refused in an e-mail address; the rest of it is kept.
	o.AlertEmail = `ops${var.x}%{if_true}&q@example.com`
	cases[0].want = o.AlertEmail
	src := emit(t, o)
	f, diags := hclparse.NewParser().ParseHCL(src, "main.tf")
	if diags.HasErrors() {
		t.Fatalf("output does not parse: %v\n%s", diags, src)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, b := range f.Body.(*hclsyntax.Body).Blocks {
				if b.Type != "resource" || b.Labels[0] != tc.resource {
					continue
				}
				v, d := b.Body.Attributes[tc.attr].Expr.Value(nil)
				if d.HasErrors() {
					t.Fatalf("%s.%s is not a literal: %v", tc.resource, tc.attr, d)
				}
				if v.AsString() != tc.want {
					t.Errorf("%s.%s = %q, want %q", tc.resource, tc.attr, v.AsString(), tc.want)
				}
				return
			}
			t.Fatalf("no %s in the output", tc.resource)
		})
	}
	t.Run("email_in_cloudformation", func(t *testing.T) {
		c := cfnBase()
		c.AlertEmail = o.AlertEmail
		var tmpl struct {
			Resources map[string]struct{ Properties map[string]any }
		}
		if err := json.Unmarshal(emit(t, c), &tmpl); err != nil {
			t.Fatal(err)
		}
		if got := tmpl.Resources["AlertEmailSubscription"].Properties["Endpoint"]; got != o.AlertEmail {
			t.Errorf("Endpoint = %v, want %q", got, o.AlertEmail)
		}
	})
}
