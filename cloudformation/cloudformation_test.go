package cloudformation

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailguard/trailguard"
)

func read(t *testing.T, name string, o Options) map[string]trailguard.Result {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if !IsTemplate(b) {
		t.Fatalf("%s not recognised as a template", name)
	}
	tp, err := Read(context.Background(), name, b, o)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]trailguard.Result{}
	for _, tr := range tp.Trails {
		out[tr.Resource] = trailguard.EvaluateIaC(tr, trailguard.Options{})
	}
	return out
}

func TestRead_intrinsics_and_conditions(t *testing.T) {
	got := read(t, "intrinsics.yaml", Options{})
	for id, want := range map[string]string{
		"Main":      "PASS",    // !If [IsProd, true, false] with Env defaulting to prod
		"Dev":       "MUTED",   // single-region, ignored by a comment
		"Mapped":    "FAIL",    // !FindInMap gives "true", but WriteOnly selectors
		"Region":    "UNKNOWN", // depends on AWS::Region
		"NoLogging": "FAIL",    // IsLogging is required; absent is not logging
	} {
		if string(got[id].Status) != want {
			t.Errorf("%s: %s, want %s %q", id, got[id].Status, want, got[id].Reasons)
		}
	}
	if got["Skipped"].Status != "FAIL" || !strings.Contains(strings.Join(got["Skipped"].Reasons, " "), "Condition NotProd of Skipped is false") {
		t.Errorf("a trail whose Condition is false is not created: %s %q", got["Skipped"].Status, got["Skipped"].Reasons)
	}
	if got["Main"].Line != 15 || got["Main"].File != "intrinsics.yaml" {
		t.Errorf("Main at %s:%d", got["Main"].File, got["Main"].Line)
	}
	if !strings.Contains(strings.Join(got["Region"].Reasons, " "), "AWS::Region") {
		t.Errorf("reasons %q should name AWS::Region", got["Region"].Reasons)
	}
	// A parameter given on the command line wins over the default.
	dev := read(t, "intrinsics.yaml", Options{Params: map[string]string{"Env": "dev"}})
	if dev["Main"].Status != "FAIL" {
		t.Errorf("with Env=dev: %s", dev["Main"].Status)
	}
	if dev["Skipped"].Status != "FAIL" || strings.Contains(strings.Join(dev["Skipped"].Reasons, " "), "not created") {
		t.Errorf("with Env=dev the NotProd trail exists (single-region): %s %q", dev["Skipped"].Status, dev["Skipped"].Reasons)
	}
}

func TestRead_json_long_forms_sam(t *testing.T) {
	got := read(t, "sam.json", Options{})
	if got["Trail"].Status != "UNKNOWN" || !strings.Contains(strings.Join(got["Trail"].Reasons, " "), "--cfn-param Multi") {
		t.Errorf("without Multi: %s %q", got["Trail"].Status, got["Trail"].Reasons)
	}
	got = read(t, "sam.json", Options{Params: map[string]string{"Multi": "true"}})
	if got["Trail"].Status != "PASS" {
		t.Errorf("with Multi=true: %s %q", got["Trail"].Status, got["Trail"].Reasons)
	}
}

func TestRead_errors_and_non_templates(t *testing.T) {
	// The error names file and line in its text and carries them as data.
	_, err := Read(context.Background(), "bad.yaml", []byte("Resources:\n  T:\n    Type: [unclosed\n"), Options{})
	var pe *trailguard.PositionError
	if err == nil || !strings.HasPrefix(err.Error(), "bad.yaml:2: ") || !errors.As(err, &pe) || pe.Pos.File != "bad.yaml" || pe.Pos.Line != 2 {
		t.Errorf("err = %v, want one at bad.yaml:2", err)
	}
	for _, b := range []string{"name: my-app\nversion: 2\n", "[1, 2]", `{"compilerOptions": {}}`} {
		if IsTemplate([]byte(b)) {
			t.Errorf("%q taken for a template", b)
		}
	}
}
