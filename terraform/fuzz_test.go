package terraform

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/trailguard/trailguard"
)

// FuzzReadModule: no .tf content makes the reader panic.
func FuzzReadModule(f *testing.F) {
	for _, s := range []string{"basic/main.tf", "tfvars/main.tf", "modules/main.tf"} {
		if b, err := os.ReadFile(filepath.Join("testdata", s)); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "main.tf"), b, 0o644); err != nil {
			t.Fatal(err)
		}
		ts, _ := ReadModule(dir, Options{})
		for _, tr := range ts {
			trailguard.EvaluateIaC(tr, trailguard.Options{})
		}
	})
}

// FuzzReadPlan: no plan JSON makes the reader panic.
func FuzzReadPlan(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("testdata", "planjson", "plan.json")); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !IsPlan(b) {
			return
		}
		ts, _ := ReadPlan("fuzz.json", b)
		for _, tr := range ts {
			trailguard.EvaluateIaC(tr, trailguard.Options{})
		}
	})
}
