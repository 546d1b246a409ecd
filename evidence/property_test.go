package evidence

import (
	"fmt"
	"io/fs"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard"
)

// randomTree builds an evidence directory of a management account and two
// members: the organization trail listed by all (each copy read, refused,
// or logging differently), and an own trail per account. Some trees carry
// run markers, as the collect script writes them.
func randomTree(rng *rand.Rand) map[string]string {
	const mgmt = "222222222222"
	orgARN := "arn:aws:cloudtrail:us-east-1:" + mgmt + ":trail/org"
	files := map[string]string{}
	marked := rng.Intn(2) == 0
	for _, id := range []string{mgmt, "111111111111", "333333333333"} {
		if marked {
			files[id+"/collect-run.json"] = `{"RunId": "run-1"}`
		}
		ownARN := "arn:aws:cloudtrail:us-east-1:" + id + ":trail/own"
		var entries []string
		type tr struct{ name, arn string }
		var trails []tr
		if rng.Intn(4) > 0 {
			entries = append(entries, trailJSON("org", orgARN, "us-east-1", true, true))
			trails = append(trails, tr{"org", orgARN})
		}
		if rng.Intn(2) == 0 {
			entries = append(entries, trailJSON("own", ownARN, "us-east-1", rng.Intn(2) == 0, false))
			trails = append(trails, tr{"own", ownARN})
		}
		if rng.Intn(4) == 0 {
			// Listed without an ARN, with files in its directory.
			entries = append(entries, trailJSON("noarn", "", "us-east-1", true, false))
			trails = append(trails, tr{"noarn", ""})
		}
		if rng.Intn(4) == 0 {
			// Another account's ordinary trail, with files.
			other := "arn:aws:cloudtrail:us-east-1:444444444444:trail/foreign"
			entries = append(entries, trailJSON("foreign", other, "us-east-1", true, false))
			trails = append(trails, tr{"foreign", other})
		}
		files[id+"/describe-trails.json"] = trailList(entries...)
		for _, t := range trails {
			dir := id + "/trails/us-east-1/" + t.name + "/"
			if marked {
				files[dir+"collect-run.json"] = `{"RunId": "run-1"}`
			}
			switch rng.Intn(3) {
			case 0:
				files[dir+"get-trail-status.err"] = "An error occurred (AccessDeniedException)"
			case 1:
				files[dir+"get-trail-status.json"] = statusOn
			default:
				files[dir+"get-trail-status.json"] = statusOff
			}
			switch rng.Intn(3) {
			case 0:
				files[dir+"get-event-selectors.err"] = "An error occurred (AccessDeniedException)"
			case 1:
				files[dir+"get-event-selectors.json"] = selectorsAll(t.arn)
			default:
				files[dir+"get-event-selectors.json"] = `{"TrailARN":"` + t.arn + `","EventSelectors":[{"ReadWriteType":"WriteOnly","IncludeManagementEvents":true}]}`
			}
		}
	}
	return files
}

// corruptions damage one file in ways evidence gets damaged or tampered
// with; none of them may turn a verdict into PASS.
var corruptions = []struct {
	name string
	do   func(path string, data []byte) error
}{
	{"removed", func(p string, _ []byte) error { return os.Remove(p) }},
	{"emptied", func(p string, _ []byte) error { return os.WriteFile(p, nil, 0o644) }},
	{"empty_object", func(p string, _ []byte) error { return os.WriteFile(p, []byte("{}"), 0o644) }},
	{"null", func(p string, _ []byte) error { return os.WriteFile(p, []byte("null"), 0o644) }},
	{"cut_in_half", func(p string, d []byte) error { return os.WriteFile(p, d[:len(d)/2], 0o644) }},
	{"keys_lower_cased", func(p string, d []byte) error { return os.WriteFile(p, []byte(strings.ToLower(string(d))), 0o644) }},
	{"logging_key_added", func(p string, d []byte) error {
		return os.WriteFile(p, []byte(strings.Replace(string(d), "{", `{"IsLogging": true, "isLogging": true, `, 1)), 0o644)
	}},
	{"made_an_hour_older", func(p string, _ []byte) error {
		old := time.Now().Add(-time.Hour)
		return os.Chtimes(p, old, old)
	}},
	{"replaced_by_a_directory", func(p string, _ []byte) error {
		if err := os.Remove(p); err != nil {
			return err
		}
		return os.Mkdir(p, 0o755)
	}},
}

// Property: for any evidence tree, removing or corrupting any one file
// never turns an account that does not pass into one that passes (so never
// a FAIL into a PASS either).
func TestRead_property_losing_or_corrupting_one_file_never_makes_a_pass(t *testing.T) {
	rng := rand.New(rand.NewSource(10))
	trees := 20
	if testing.Short() {
		trees = 8
	}
	for n := 0; n < trees; n++ {
		files := randomTree(rng)
		dir := writeTree(t, files)
		base := statuses(t, dir)
		var paths []string
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				paths = append(paths, p)
			}
			return nil
		})
		sort.Strings(paths)
		for _, p := range paths {
			data, _ := os.ReadFile(p)
			for _, c := range corruptions {
				if err := c.do(p, data); err != nil {
					t.Fatal(err)
				}
				after := statuses(t, dir)
				for acct, was := range base {
					if was != trailguard.StatusPass && after[acct] == trailguard.StatusPass {
						rel, _ := filepath.Rel(dir, p)
						t.Errorf("tree %d: %s %s turns account %s from %s into PASS\ntree: %s", n, rel, c.name, acct, was, describeTree(files))
					}
				}
				// Restore.
				if info, err := os.Stat(p); err == nil && info.IsDir() {
					os.Remove(p)
				}
				if err := os.WriteFile(p, data, 0o644); err != nil {
					t.Fatal(err)
				}
				now := time.Now()
				os.Chtimes(p, now, now)
			}
		}
	}
}

func statuses(t *testing.T, dir string) map[string]trailguard.Status {
	t.Helper()
	out := map[string]trailguard.Status{}
	accounts, err := Read(dir)
	if err != nil {
		return out // nothing read: nothing passes
	}
	for _, r := range trailguard.EvaluateAll(accounts, trailguard.Options{}) {
		out[r.Account] = r.Status
	}
	return out
}

func describeTree(files map[string]string) string {
	var keys []string
	for k := range files {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "\n  %s: %s", k, files[k])
	}
	return b.String()
}
