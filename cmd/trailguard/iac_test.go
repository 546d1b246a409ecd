package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/owenrumney/go-sarif/v2/sarif"
)

// iacTree copies the readers' test data into one tree, with things a walk
// must skip or report.
func iacTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	copyFile := func(from, to string) {
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Dir(to), 0o755)
		if err := os.WriteFile(to, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	copyFile("../../terraform/testdata/modules/main.tf", filepath.Join(dir, "tf/main.tf"))
	copyFile("../../terraform/testdata/modules/modules/trail/main.tf", filepath.Join(dir, "tf/modules/trail/main.tf"))
	copyFile("../../terraform/testdata/planjson/plan.json", filepath.Join(dir, "plan.json"))
	copyFile("../../cloudformation/testdata/intrinsics.yaml", filepath.Join(dir, "cfn/stack.yaml"))
	// A vendored provider module with a failing trail: skipped.
	os.MkdirAll(filepath.Join(dir, "tf/.terraform/modules/x"), 0o755)
	os.WriteFile(filepath.Join(dir, "tf/.terraform/modules/x/main.tf"), []byte("resource \"aws_cloudtrail\" \"v\" {\n  name = \"v\"\n}\n"), 0o644)
	// Not IaC: skipped quietly.
	os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"name": "app"}`), 0o644)
	os.WriteFile(filepath.Join(dir, "ci.yml"), []byte("on: push\n"), 0o644)
	return dir
}

func TestIaC_walks_every_format(t *testing.T) {
	dir := iacTree(t)
	code, out, errOut := cli(t, "iac", dir, "--format", "json")
	var rep struct {
		Results []struct {
			File, Resource, Status string
			Line                   int
			Reasons                []string
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	got := map[string]string{}
	for _, r := range rep.Results {
		if r.File == "" || r.Line == 0 {
			t.Errorf("%s without file and line", r.Resource)
		}
		got[r.Resource] = r.Status
	}
	want := map[string]string{
		"module.prod.aws_cloudtrail.this": "PASS", "module.dev.aws_cloudtrail.this": "FAIL",
		"aws_cloudtrail.main": "PASS", "module.x.aws_cloudtrail.ro": "FAIL", "aws_cloudtrail.computed": "UNKNOWN",
		"Main": "PASS", "Dev": "MUTED", "Mapped": "FAIL", "Region": "UNKNOWN", "NoLogging": "FAIL",
		"Skipped": "FAIL", // its Condition is false: not created
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %q, want %s", k, got[k], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d results, want %d (vendored modules and the module called by its parent are not read again): %v", len(got), len(want), got)
	}
	if code != 1 || errOut != "" {
		t.Errorf("exit %d stderr %q", code, errOut)
	}
}

func TestIaC_broken_file_is_an_error_and_the_rest_is_checked(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "bad.tf"), []byte("resource \"aws_cloudtrail\" \"x\" {\n  name = \n}\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "broken.yaml"), []byte("Resources:\n  T:\n    Type: AWS::CloudTrail::Trail\n    Properties: [\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "good.tf"), []byte("resource \"aws_cloudtrail\" \"ok\" {\n  name = \"ok\"\n  is_multi_region_trail = true\n}\n"), 0o644)
	code, out, _ := cli(t, "iac", dir, "--format", "text", "--color", "never", "--verbose")
	for _, want := range []string{"bad.tf:2", "broken.yaml", "aws_cloudtrail.ok", "ERROR"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if code != 2 {
		t.Errorf("exit %d, want 2 (errors, no FAIL)", code)
	}
}

func TestIaC_sarif_for_code_scanning(t *testing.T) {
	dir := iacTree(t)
	out := filepath.Join(t.TempDir(), "r.sarif")
	cli(t, "iac", dir, "--format", "sarif", "--output", out)
	doc, err := sarif.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range doc.Runs[0].Results {
		pl := r.Locations[0].PhysicalLocation
		if pl == nil || pl.ArtifactLocation == nil || pl.Region == nil || *pl.Region.StartLine < 1 {
			t.Errorf("IaC result without a physical location: %+v", r)
		}
		n++
	}
	if n != 8 { // every result but the 3 PASS
		t.Errorf("%d SARIF results, want 8", n)
	}
}

func TestIaC_usage(t *testing.T) {
	if code, _, errOut := cli(t, "iac"); code != 2 || !strings.Contains(errOut, "arg") {
		t.Errorf("no path: exit %d %q", code, errOut)
	}
	if code, _, errOut := cli(t, "iac", "/no/such/path"); code != 2 || !strings.Contains(errOut, "/no/such/path") {
		t.Errorf("missing path: exit %d %q", code, errOut)
	}
	if code, _, errOut := cli(t, "iac", ".", "--var", "novalue"); code != 2 || !strings.Contains(errOut, "NAME=VALUE") {
		t.Errorf("bad --var: exit %d %q", code, errOut)
	}
}
