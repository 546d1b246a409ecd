package terraform

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailguard/trailguard"
)

func verdicts(t *testing.T, ts []trailguard.IaCTrail) map[string]trailguard.Result {
	t.Helper()
	out := map[string]trailguard.Result{}
	for _, tr := range ts {
		out[tr.Resource] = trailguard.EvaluateIaC(tr, trailguard.Options{})
	}
	return out
}

func TestReadModule(t *testing.T) {
	ts, errs := ReadModule(filepath.Join("testdata", "basic"), Options{})
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	got := verdicts(t, ts)
	for addr, want := range map[string]string{
		"aws_cloudtrail.literal_pass":        "PASS",
		"aws_cloudtrail.absent_multi_region": "FAIL", // absent means false
		"aws_cloudtrail.logging_off":         "FAIL",
		"aws_cloudtrail.string_true":         "PASS", // "true" as a string
		"aws_cloudtrail.no_default":          "UNKNOWN",
		"aws_cloudtrail.fails_whatever":      "FAIL", // logging off decides, whatever var.multi_region is
		"aws_cloudtrail.read_only":           "FAIL",
		"aws_cloudtrail.data_only":           "FAIL",
		"aws_cloudtrail.advanced_readonly":   "FAIL",
		"aws_cloudtrail.advanced_all":        "PASS",
		"aws_cloudtrail.counted[0]":          "PASS",
		"aws_cloudtrail.counted[1]":          "FAIL",
		`aws_cloudtrail.each["prod"]`:        "PASS",
		`aws_cloudtrail.each["dev"]`:         "FAIL",
		"aws_cloudtrail.dynamic_selectors":   "FAIL", // write-only, from a dynamic block
		"aws_cloudtrail.ignored":             "MUTED",
		"aws_cloudtrail.none":                "FAIL", // count = 0: not created
	} {
		r, ok := got[addr]
		if !ok {
			t.Errorf("%s: not found (have %d resources)", addr, len(got))
			continue
		}
		if string(r.Status) != want {
			t.Errorf("%s: %s, want %s; reasons %q", addr, r.Status, want, r.Reasons)
		}
	}
	if _, ok := got["aws_cloudtrail.none[0]"]; ok || len(got) != 17 {
		t.Errorf("%d resources; count = 0 must give one absent trail", len(got))
	}
	nd := got["aws_cloudtrail.no_default"]
	if !strings.Contains(strings.Join(nd.Reasons, " "), "var.multi_region has no default") || nd.File == "" || nd.Line != 37 {
		t.Errorf("unknown result %s:%d %q should name the variable", nd.File, nd.Line, nd.Reasons)
	}
	if !strings.Contains(got["aws_cloudtrail.ignored"].MuteReason, "regional test trail") {
		t.Errorf("mute reason %q", got["aws_cloudtrail.ignored"].MuteReason)
	}
}

func TestReadModule_variable_values(t *testing.T) {
	dir := filepath.Join("testdata", "tfvars")
	// terraform.tfvars turns the default false into true.
	ts, _ := ReadModule(dir, Options{})
	if r := verdicts(t, ts)["aws_cloudtrail.t"]; r.Status != "PASS" {
		t.Errorf("with terraform.tfvars: %s %q", r.Status, r.Reasons)
	}
	// --var wins over the tfvars file.
	ts, _ = ReadModule(dir, Options{Vars: map[string]string{"multi": "false"}})
	if r := verdicts(t, ts)["aws_cloudtrail.t"]; r.Status != "FAIL" {
		t.Errorf("with --var multi=false: %s", r.Status)
	}
	// --var-file too.
	vf := filepath.Join(t.TempDir(), "off.tfvars")
	os.WriteFile(vf, []byte("multi = false\n"), 0o644)
	ts, _ = ReadModule(dir, Options{VarFiles: []string{vf}})
	if r := verdicts(t, ts)["aws_cloudtrail.t"]; r.Status != "FAIL" {
		t.Errorf("with --var-file: %s", r.Status)
	}
}

func TestReadModule_local_module_instantiated_twice(t *testing.T) {
	dir := filepath.Join("testdata", "modules")
	ts, errs := ReadModule(dir, Options{})
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	got := verdicts(t, ts)
	if got["module.prod.aws_cloudtrail.this"].Status != "PASS" || got["module.dev.aws_cloudtrail.this"].Status != "FAIL" || len(got) != 2 {
		t.Errorf("got %v", got)
	}
	calls := ModuleCalls(dir)
	if len(calls) != 2 || calls[0] != filepath.Join(dir, "modules", "trail") {
		t.Errorf("module calls %v", calls)
	}
}

func TestReadModule_broken_file_names_file_and_line(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "bad.tf"), []byte("resource \"aws_cloudtrail\" \"x\" {\n  name = \n}\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "good.tf"), []byte("resource \"aws_cloudtrail\" \"y\" {\n  name = \"y\"\n  is_multi_region_trail = true\n}\n"), 0o644)
	ts, errs := ReadModule(dir, Options{})
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "bad.tf:2") {
		t.Errorf("errors %v", errs)
	}
	if len(ts) != 1 || ts[0].Resource != "aws_cloudtrail.y" {
		t.Errorf("the good file must still be read: %+v", ts)
	}
}

func TestReadPlan(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "planjson", "plan.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !IsPlan(b) {
		t.Fatal("not recognised as a plan")
	}
	ts, err := ReadPlan("plan.json", b)
	if err != nil {
		t.Fatal(err)
	}
	got := verdicts(t, ts)
	want := map[string]string{"aws_cloudtrail.main": "PASS", "module.x.aws_cloudtrail.ro": "FAIL", "aws_cloudtrail.computed": "UNKNOWN"}
	if len(got) != len(want) {
		t.Errorf("%d trails: %v", len(got), got)
	}
	for a, w := range want {
		if string(got[a].Status) != w {
			t.Errorf("%s: %s, want %s %q", a, got[a].Status, w, got[a].Reasons)
		}
	}
	if got["aws_cloudtrail.main"].Line < 5 {
		t.Errorf("line %d", got["aws_cloudtrail.main"].Line)
	}
	if _, err := ReadPlan("broken.json", []byte("{\n\"format_version\": \"1.2\",\n}")); err == nil || !strings.Contains(err.Error(), "broken.json") {
		t.Errorf("broken plan: %v", err)
	}
}
