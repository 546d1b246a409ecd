package cloudformation

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/trailguard/trailguard"
)

// FuzzRead: no template makes the reader panic or loop, and whatever it
// reads can be judged.
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
			return
		}
		for _, tr := range tp.Trails {
			trailguard.EvaluateIaC(tr, trailguard.Options{})
		}
	})
}
