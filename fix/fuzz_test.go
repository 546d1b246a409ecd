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
		if changed && changedAgain {
			t.Fatalf("second merge changed %s into %s", merged, again)
		}
	})
}

// FuzzMergeKeyPolicy: whatever policy a key has, merging never panics,
// keeps a policy it cannot read as it is, yields JSON and is idempotent.
func FuzzMergeKeyPolicy(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(string(b))
		}
	}
	f.Fuzz(func(t *testing.T, existing string) {
		arn := "arn:aws:cloudtrail:us-east-1:123456789012:trail/t"
		merged, changed, err := mergeKeyPolicy(existing, "123456789012", arn)
		if err != nil {
			if changed || merged != existing {
				t.Fatalf("a policy that could not be merged was changed: %q", merged)
			}
			return
		}
		if changed && !json.Valid([]byte(merged)) {
			t.Fatalf("merged policy is not JSON: %s", merged)
		}
		if again, changedAgain, _ := mergeKeyPolicy(merged, "123456789012", arn); changed && changedAgain {
			t.Fatalf("second merge changed %s into %s", merged, again)
		}
	})
}

// FuzzSh: a quoted value never carries a control character to the
// terminal and is always one quoted word.
func FuzzSh(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "shell", "*.txt"))
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(string(b))
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		q := sh(s)
		for _, r := range q {
			if r < 0x20 || r == 0x7f {
				t.Fatalf("sh(%q) = %q holds a control character", s, q)
			}
		}
		if !strings.HasSuffix(q, "'") || !(strings.HasPrefix(q, "'") || strings.HasPrefix(q, "$'")) {
			t.Fatalf("sh(%q) = %q is not one quoted word", s, q)
		}
		if strings.HasPrefix(q, "'") && strings.Count(strings.ReplaceAll(q, `'\''`, ""), "'") != 2 {
			t.Fatalf("sh(%q) = %q: a quote ends the word early", s, q)
		}
	})
}
