package mutelist

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/trailguard/trailguard"
)

// FuzzParse: no input makes the parser panic, and whatever it accepts can
// be applied.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := Parse("fuzz.yaml", b)
		if err != nil {
			return
		}
		rs := results()
		l.Apply(rs, today)
		for _, r := range rs {
			if r.Status == trailguard.StatusMuted && r.Underlying == "" {
				t.Fatalf("muted without underlying status: %+v", r)
			}
		}
	})
}
