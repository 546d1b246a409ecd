package terraform

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailguard/trailguard"
)

func seed(f *testing.F, name string) []byte {
	if name == "" {
		return nil
	}
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// FuzzReadModule: no main.tf, main_override.tf and override.tf.json
// content makes the reader panic or overflow its stack, and every trail
// it returns, and every part it did not read, carries file and line.
func FuzzReadModule(f *testing.F) {
	for _, s := range [][3]string{
		{"basic/main.tf", "", ""},
		{"tfvars/main.tf", "", ""},
		{"modules/main.tf", "", ""},
		{"seeds/values.tf", "seeds/main_override.tf", "seeds/override.tf.json"},
		{"seeds/values.tf", "", "seeds/override.tf.json"},
		{"seeds/ignore.tf", "", "seeds/ignore_override.tf.json"},
	} {
		f.Add(seed(f, s[0]), seed(f, s[1]), seed(f, s[2]))
	}
	f.Add([]byte("x = "+strings.Repeat("[", 300)), []byte(nil), []byte(nil))
	f.Add([]byte("x = <<EOT\n${[\nEOT\n"), []byte(`locals { x = "${"${1}"}" }`), []byte(`{"locals": {"x": "${[[1]]}"}}`))
	f.Fuzz(func(t *testing.T, tf, override, overrideJSON []byte) {
		dir := t.TempDir()
		for name, b := range map[string][]byte{"main.tf": tf, "main_override.tf": override, "override.tf.json": overrideJSON} {
			if len(b) == 0 {
				continue
			}
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		m := Read(dir, Options{Vars: map[string]string{"create": "1"}})
		for _, tr := range m.Trails {
			if tr.File == "" || tr.Line < 1 {
				t.Errorf("trail %s without a place", tr.Resource)
			}
			p := tr.Positions
			for _, at := range []trailguard.Position{p.Resource, p.MultiRegion, p.Logging, p.GlobalEvents, p.Selectors, p.Exists} {
				if !at.IsZero() && (at.File == "" || at.Line < 1 || at.Column < 1) {
					t.Errorf("trail %s: position %+v without file, line or column", tr.Resource, at)
				}
			}
			trailguard.EvaluateIaC(tr, trailguard.Options{})
		}
		for _, u := range m.Unread {
			if u.Status != trailguard.StatusUnknown || u.File == "" {
				t.Errorf("unread %+v", u)
			}
		}
	})
}

// FuzzReadPlan: no plan JSON makes the reader panic.
func FuzzReadPlan(f *testing.F) {
	for _, s := range []string{"planjson/plan.json", "planjson/changes.json"} {
		f.Add(seed(f, s))
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
