package fix

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzMergePolicy: whatever policy a bucket has, merging never panics,
// yields JSON, keeps the statements it found and is idempotent.
func FuzzMergePolicy(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(string(b))
		}
	}
	f.Fuzz(func(t *testing.T, existing string) {
		arn := "arn:aws:cloudtrail:us-east-1:123456789012:trail/t"
		merged, changed, err := mergePolicy(existing, "b", "123456789012", arn, "")
		if err != nil {
			if changed || merged != existing {
				t.Fatalf("a policy that could not be merged was changed: %q", merged)
			}
			return
		}
		if changed && !json.Valid([]byte(merged)) {
			t.Fatalf("merged policy is not JSON: %s", merged)
		}
		again, changedAgain, _ := mergePolicy(merged, "b", "123456789012", arn, "")
		if changedAgain && strings.Contains(merged, sidACL) && strings.Contains(merged, sidWrite) {
			t.Fatalf("second merge changed %s into %s", merged, again)
		}
	})
}
