package deploy_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailguard/trailguard/control"
	"github.com/trailguard/trailguard/deploy"
)

// ruleParameters returns the emitted rule's InputParameters as the JSON
// string AWS Config hands the function, and the function role's statements.
func ruleParameters(t *testing.T, o deploy.Options) (string, []map[string]any) {
	t.Helper()
	var tmpl struct{ Resources map[string]map[string]any }
	if err := json.Unmarshal(emit(t, o), &tmpl); err != nil {
		t.Fatal(err)
	}
	var params string
	if r, ok := tmpl.Resources["ConfigRule"]; ok {
		b, _ := json.Marshal(r["Properties"].(map[string]any)["InputParameters"])
		params = string(b)
	} else {
		params = tmpl.Resources["OrganizationConfigRule"]["Properties"].(map[string]any)["OrganizationCustomRuleMetadata"].(map[string]any)["InputParameters"].(string)
	}
	var st []map[string]any
	for _, p := range tmpl.Resources["FunctionRole"]["Properties"].(map[string]any)["Policies"].([]any) {
		for _, s := range p.(map[string]any)["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			st = append(st, s.(map[string]any))
		}
	}
	return params, st
}

// --mutelist reaches the rule's parameters as the function reads them
// (control.ParseRuleParameters): an S3 URI with s3:GetObject on exactly
// that object and nothing else, or the file's document inline with no S3
// permission at all.
func TestMutelist_reaches_the_rule_as_the_function_reads_it(t *testing.T) {
	doc, err := os.ReadFile("testdata/mutelist.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name       string
		o          deploy.Options
		wantBucket string
		wantKey    string
		wantInline string
	}{
		{"one_account_s3", with(cfnBase(), func(o *deploy.Options) { o.Mutelist = "s3://trailguard-config/mutelists/cis-3-1.yaml" }), "trailguard-config", "mutelists/cis-3-1.yaml", ""},
		{"organization_s3", with(orgBase(), func(o *deploy.Options) { o.Mutelist = "s3://my.bucket-1/a/b(c)!'.yml" }), "my.bucket-1", "a/b(c)!'.yml", ""},
		{"one_account_inline_file", with(cfnBase(), func(o *deploy.Options) { o.Mutelist = "testdata/mutelist.yaml" }), "", "", string(doc)},
		{"organization_inline_file", with(orgBase(), func(o *deploy.Options) { o.Mutelist = "testdata/mutelist.yaml" }), "", "", string(doc)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			params, statements := ruleParameters(t, tc.o)
			p, err := control.ParseRuleParameters(params)
			if err != nil {
				t.Fatalf("the function refuses the rule's parameters %s: %v", params, err)
			}
			if p.Mutelist.Bucket != tc.wantBucket || p.Mutelist.Key != tc.wantKey || p.Mutelist.Inline != tc.wantInline {
				t.Errorf("the function reads mutelist %+v, want bucket %q key %q inline %q", p.Mutelist, tc.wantBucket, tc.wantKey, tc.wantInline)
			}
			var s3Statements []map[string]any
			for _, s := range statements {
				for _, a := range s["Action"].([]any) {
					if strings.HasPrefix(a.(string), "s3:") {
						s3Statements = append(s3Statements, s)
					}
				}
			}
			if tc.wantBucket == "" {
				if len(s3Statements) != 0 {
					t.Fatalf("an inline mutelist grants S3: %v", s3Statements)
				}
				return
			}
			if len(s3Statements) != 1 {
				t.Fatalf("S3 statements %v, want one", s3Statements)
			}
			s := s3Statements[0]
			sub := s["Resource"].(map[string]any)["Fn::Sub"].([]any)
			arn := strings.ReplaceAll(sub[0].(string), "${AWS::Partition}", "aws")
			arn = strings.ReplaceAll(arn, "${Object}", sub[1].(map[string]any)["Object"].(string))
			if want := "arn:aws:s3:::" + tc.wantBucket + "/" + tc.wantKey; arn != want {
				t.Errorf("s3:GetObject on %q, want exactly %q", arn, want)
			}
			if a := s["Action"].([]any); len(a) != 1 || a[0] != "s3:GetObject" {
				t.Errorf("the mutelist statement allows %v, want s3:GetObject alone", a)
			}
		})
	}
}

func with(o deploy.Options, f func(*deploy.Options)) deploy.Options { f(&o); return o }

// A --mutelist that the function could not use, or that would grant more
// than one object, is refused before anything is written, naming what to
// change.
func TestMutelist_refused(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	entry := "  - accounts: [\"123456789012\"]\n    reason: sandbox account kept open for the migration\n    owner: platform-team@example.com\n    expires: 2099-12-31\n"
	big := write("big.yaml", "mutes:\n"+strings.Repeat(entry, 8)) // about 1.2 KB inline
	huge := write("huge.yaml", "mutes:\n"+strings.Repeat(entry, 16))
	broken := write("broken.yaml", "mutes:\n  - accounts: [\"123456789012\"]\n    reason: no owner\n    expires: 2099-12-31\n")
	cases := []struct {
		name  string
		o     deploy.Options
		wants []string
	}{
		{"inline_over_a_rule_limit", with(cfnBase(), func(o *deploy.Options) { o.Mutelist = big }), []string{big, "1024", "s3://bucket/key"}},
		{"inline_over_an_organization_rule_limit", with(orgBase(), func(o *deploy.Options) { o.Mutelist = huge }), []string{huge, "2048", "s3://bucket/key"}},
		{"file_missing", with(cfnBase(), func(o *deploy.Options) { o.Mutelist = filepath.Join(dir, "missing.yaml") }), []string{"missing.yaml", "s3://bucket/key"}},
		{"file_not_a_mutelist", with(cfnBase(), func(o *deploy.Options) { o.Mutelist = broken }), []string{broken + ":2", "owner"}},
		{"directory", with(cfnBase(), func(o *deploy.Options) { o.Mutelist = dir }), []string{dir, "not a regular file"}},
		{"empty_file", with(cfnBase(), func(o *deploy.Options) { o.Mutelist = write("empty.yaml", "\n") }), []string{"empty"}},
		{"key_with_wildcard", with(cfnBase(), func(o *deploy.Options) { o.Mutelist = "s3://trailguard-config/mutelists/*" }), []string{"wildcard"}},
		{"key_with_policy_variable", with(cfnBase(), func(o *deploy.Options) { o.Mutelist = "s3://trailguard-config/${aws:username}.yaml" }), []string{"rename the object"}},
		{"no_key", with(cfnBase(), func(o *deploy.Options) { o.Mutelist = "s3://trailguard-config" }), []string{"object key"}},
		{"bucket_upper_case", with(cfnBase(), func(o *deploy.Options) { o.Mutelist = "s3://Trailguard/m.yaml" }), []string{"bucket name"}},
		{"bucket_double_dot", with(cfnBase(), func(o *deploy.Options) { o.Mutelist = "s3://a..b/m.yaml" }), []string{"bucket name"}},
		{"with_scp_only", deploy.Options{SCPOnly: true, Mutelist: "s3://trailguard-config/m.yaml"}, []string{"--scp-only"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := deploy.Emit(tc.o)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
	// The organization rule's larger limit takes what the account rule's
	// refuses.
	if _, err := deploy.Emit(with(orgBase(), func(o *deploy.Options) { o.Mutelist = big })); err != nil {
		t.Errorf("an organization rule refused %s under its 2048-character limit: %v", big, err)
	}
}
