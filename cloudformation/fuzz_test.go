package cloudformation

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/trailguard/trailguard"
)

// FuzzRead: no template makes the reader panic or loop (the seeds in
// testdata/ include an alias bomb, duplicate keys, deep nesting and a
// hash merge), whatever it reads can be judged and names its place, and
// a part it does not read is UNKNOWN.
func FuzzRead(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*"))
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("Conditions:\n  A: !Condition A\nResources:\n  T:\n    Type: AWS::CloudTrail::Trail\n    Condition: A\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		IsTemplate(b)
		tp, err := Read(context.Background(), "fuzz.yaml", b, Options{})
		if err != nil {
			var pe *trailguard.PositionError
			if !errors.As(err, &pe) || pe.Pos.File != "fuzz.yaml" {
				t.Errorf("error %q is not placed in fuzz.yaml", err)
			}
			return
		}
		for _, tr := range tp.Trails {
			if tr.File != "fuzz.yaml" || tr.Line < 1 {
				t.Errorf("trail %s at %s:%d: every trail names its file and line", tr.Resource, tr.File, tr.Line)
			}
			p := tr.Positions
			for _, at := range []trailguard.Position{p.Resource, p.MultiRegion, p.Logging, p.GlobalEvents, p.Selectors, p.Exists} {
				if !at.IsZero() && (at.File != "fuzz.yaml" || at.Line < 1 || at.Column < 1) {
					t.Errorf("trail %s: position %+v outside fuzz.yaml", tr.Resource, at)
				}
			}
			trailguard.EvaluateIaC(tr, trailguard.Options{})
		}
		for _, u := range tp.Unread {
			if u.Status != trailguard.StatusUnknown || len(u.Reasons) == 0 {
				t.Errorf("part not read %s: %s %q, want UNKNOWN with a reason", u.Resource, u.Status, u.Reasons)
			}
		}
	})
}
