package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// deployArgs are the CLI's flag combinations that change what deploy
// writes, for both formats.
func deployArgs(format string) map[string][]string {
	code := []string{"--code-s3-bucket", "my-artifacts", "--code-s3-key", "trailguard.zip"}
	if format == "terraform" {
		code = []string{"--code-zip", "trailguard.zip"}
	}
	org := []string{"--org", "--org-id", "o-abcdefghij", "--org-target", "r-abcd"}
	with := func(parts ...[]string) []string {
		out := []string{"deploy", "--emit", format}
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	return map[string][]string{
		"one_account":            with(code),
		"one_account_everything": with(code, []string{"--strict", "--alert-email", "sec@example.com", "--auto-remediate", "start-logging", "--period", "Six_Hours", "--scp"}),
		"organization":           with(code, org, []string{"--scp", "--scp-target", "r-abcd", "--auto-remediate", "start-logging"}),
		"management_account":     with([]string{"--org", "--management-account"}),
		"scp_only":               with([]string{"--scp-only"}),
	}
}

// trailguard iac reads every template deploy writes without an error: they
// declare no trail, which iac reports as one MUTED result (FAIL
// underneath, "no CloudTrail trail found"), exit 0, and FAIL (exit 1)
// with --require-trail. The organization's CloudFormation template holds
// a StackSet whose template iac does not open: that is one UNKNOWN result
// naming it (exit 2), since what is not read is never passed; the same
// member template is read on its own as --management-account writes it.
func TestDeploy_templates_read_by_iac(t *testing.T) {
	for _, format := range []string{"cloudformation", "terraform"} {
		for name, args := range deployArgs(format) {
			t.Run(format+"/"+name, func(t *testing.T) {
				dir := t.TempDir()
				file := filepath.Join(dir, "trailguard.json")
				if format == "terraform" {
					file = filepath.Join(dir, "main.tf")
				}
				if code, _, errOut := cli(t, append(args, "--output", file)...); code != 0 {
					t.Fatalf("deploy: exit %d: %s", code, errOut)
				}
				stackSet := format == "cloudformation" && name == "organization"
				code, out, errOut := cli(t, "iac", "--format", "json", dir)
				rep := parseReport(t, out)
				got := map[string]string{}
				for _, r := range rep.Results {
					got[r.Status] += strings.Join(r.Reasons, " ")
				}
				wantCode, wantResults := 0, 1
				if stackSet {
					wantCode, wantResults = 2, 2
					if !strings.Contains(got["UNKNOWN"], "MemberRoleStackSet") {
						t.Errorf("iac results %+v, want an UNKNOWN naming the StackSet whose template it does not read", rep.Results)
					}
				}
				if code != wantCode || len(rep.Results) != wantResults || !strings.Contains(got["MUTED"], "no CloudTrail trail found") || got["ERROR"] != "" {
					t.Errorf("iac: exit %d (want %d), results %+v, want a MUTED 'no CloudTrail trail found' and no ERROR; stderr %s", code, wantCode, rep.Results, errOut)
				}
				if code, _, _ := cli(t, "iac", "--require-trail", "--format", "json", dir); code != 1 {
					t.Errorf("iac --require-trail: exit %d, want 1", code)
				}
			})
		}
	}
}

// Usage errors name the flag to change and exit 2; nothing is written.
func TestDeploy_usage_errors(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"cloudformation_without_code", []string{"deploy"}, "--code-s3-bucket"},
		{"terraform_with_s3_code", []string{"deploy", "--emit", "terraform", "--code-s3-bucket", "b", "--code-s3-key", "k"}, "--code-zip"},
		{"unknown_format", []string{"deploy", "--emit", "pulumi", "--code-s3-bucket", "bucket", "--code-s3-key", "k"}, "--emit"},
		{"period_not_one_of_config", []string{"deploy", "--code-s3-bucket", "bucket", "--code-s3-key", "k", "--period", "Two_Hours"}, "TwentyFour_Hours"},
		{"remediation_other_than_start_logging", []string{"deploy", "--code-s3-bucket", "bucket", "--code-s3-key", "k", "--auto-remediate", "create-trail"}, "--auto-remediate"},
		{"org_without_id_and_targets", []string{"deploy", "--code-s3-bucket", "bucket", "--code-s3-key", "k", "--org"}, "--org-target"},
		{"org_target_not_an_ou", []string{"deploy", "--code-s3-bucket", "bucket", "--code-s3-key", "k", "--org", "--org-id", "o-abcdefghij", "--org-target", "123456789012"}, "--org-target"},
		{"email_with_a_newline", []string{"deploy", "--code-s3-bucket", "bucket", "--code-s3-key", "k", "--alert-email", "a@example.com\nBcc: x@example.com"}, "--alert-email"},
		{"break_glass_not_an_arn", []string{"deploy", "--scp-only", "--break-glass-role-pattern", `*"}]}`}, "--break-glass-role-pattern"},
		{"management_account_without_org", []string{"deploy", "--management-account"}, "add --org"},
		{"json_without_scp_only", []string{"deploy", "--emit", "json"}, "--scp-only"},
		{"mutelist_s3_key_with_wildcard", []string{"deploy", "--code-s3-bucket", "bucket", "--code-s3-key", "k", "--mutelist", "s3://my-config/mutelists/*"}, "--mutelist"},
		{"mutelist_file_missing", []string{"deploy", "--code-s3-bucket", "bucket", "--code-s3-key", "k", "--mutelist", "/nonexistent/mutelist.yaml"}, "/nonexistent/mutelist.yaml"},
		{"regions_with_a_typo", []string{"deploy", "--code-s3-bucket", "bucket", "--code-s3-key", "k", "--regions", "us-west-2,eu-wset-1"}, "eu-wset-1"},
		{"forwarder_without_regions", []string{"deploy", "--forwarder"}, "--regions"},
		{"output_in_missing_directory", []string{"deploy", "--scp-only", "--output", "/nonexistent/dir/t.json"}, "--output"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := cli(t, tc.args...)
			if code != 2 || !strings.Contains(errOut, tc.want) || out != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 naming %s and nothing written", code, out, errOut, tc.want)
			}
		})
	}
}

// --scp-only --emit json prints the policy document alone: it denies the
// four calls that switch CloudTrail off, except to the break-glass
// patterns, with ArnNotLike on aws:PrincipalARN. A pattern is taken whole,
// commas included (IAM role names may hold them).
func TestDeploy_scp_document(t *testing.T) {
	code, out, errOut := cli(t, "deploy", "--scp-only", "--emit", "json", "--break-glass-role-pattern", "arn:aws:iam::*:role/BreakGlass", "--break-glass-role-pattern", "arn:aws:iam::123456789012:role/Pipeline,Deploy*")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var p struct {
		Version   string
		Statement []struct {
			Effect    string
			Action    []string
			Resource  string
			Condition map[string]map[string][]string
		}
	}
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Statement) != 1 {
		t.Fatalf("%d statements, want 1", len(p.Statement))
	}
	s := p.Statement[0]
	want := "cloudtrail:StopLogging cloudtrail:DeleteTrail cloudtrail:UpdateTrail cloudtrail:PutEventSelectors"
	if s.Effect != "Deny" || strings.Join(s.Action, " ") != want || s.Resource != "*" {
		t.Errorf("statement %+v, want Deny of %s on *", s, want)
	}
	if got := s.Condition["ArnNotLike"]["aws:PrincipalARN"]; strings.Join(got, " ") != "arn:aws:iam::*:role/BreakGlass arn:aws:iam::123456789012:role/Pipeline,Deploy*" {
		t.Errorf("exempted %q", got)
	}
}

// --output writes the file and says so on stderr; stdout stays empty.
func TestDeploy_output_file(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.json")
	code, out, errOut := cli(t, "deploy", "--code-s3-bucket", "bucket", "--code-s3-key", "k.zip", "-o", path)
	if code != 0 || out != "" || !strings.Contains(errOut, "wrote "+path) {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	b, err := os.ReadFile(path)
	if err != nil || !json.Valid(b) {
		t.Fatalf("file: %v, valid JSON %v", err, json.Valid(b))
	}
}

// The CLI carries deploy but not the function's clients: AWS Config, SNS
// and the Lambda runtime stay in the function's binary (package control).
func TestDeploy_binary_carries_no_function_clients(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	out, err := exec.Command(goTool, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := string(out)
	if !strings.Contains(deps, "github.com/trailguard/trailguard/deploy\n") {
		t.Fatal("go list -deps does not list the deploy package: the check would prove nothing")
	}
	for _, dep := range strings.Split(deps, "\n") {
		if strings.Contains(dep, "service/configservice") || strings.Contains(dep, "service/sns") || strings.Contains(dep, "aws-lambda-go") {
			t.Errorf("the trailguard CLI depends on %s", dep)
		}
	}
}
