package evidence

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard"
)

// evaluate reads dir and evaluates every account as `scan --evidence` does.
func evaluate(t *testing.T, dir string) map[string]trailguard.Result {
	t.Helper()
	accounts, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]trailguard.Result{}
	for _, r := range trailguard.EvaluateAll(accounts, trailguard.Options{}) {
		out[r.Account] = r
	}
	return out
}

// trailJSON is one describe-trails entry as the CLI prints it.
func trailJSON(name, arn, region string, multi, org bool) string {
	b := func(v bool) string {
		if v {
			return "true"
		}
		return "false"
	}
	arnMember := ""
	if arn != "" {
		arnMember = `"TrailARN":"` + arn + `",`
	}
	return `{"Name":"` + name + `",` + arnMember + `"HomeRegion":"` + region + `","IsMultiRegionTrail":` + b(multi) +
		`,"IncludeGlobalServiceEvents":true,"IsOrganizationTrail":` + b(org) + `}`
}

func trailList(entries ...string) string {
	return `{"trailList":[` + strings.Join(entries, ",") + `]}`
}

func selectorsAll(arn string) string {
	return `{"TrailARN":"` + arn + `","EventSelectors":[{"ReadWriteType":"All","IncludeManagementEvents":true,"DataResources":[],"ExcludeManagementEventSources":[]}]}`
}

const (
	statusOn  = `{"IsLogging": true}`
	statusOff = `{"IsLogging": false}`
)

// Facts belong to exactly one trail, in evidence as in a live scan.
func TestRead_facts_belong_to_one_trail(t *testing.T) {
	const (
		mgmt    = "222222222222"
		member  = "111111111111"
		orgARN  = "arn:aws:cloudtrail:us-east-1:" + mgmt + ":trail/org"
		ownARN1 = "arn:aws:cloudtrail:us-east-1:" + member + ":trail/main"
	)
	localARN := "arn:aws:cloudtrail:us-east-1:123456789012:trail/local"
	tests := []struct {
		name      string
		files     map[string]string
		account   string
		want      trailguard.Status
		reasonHas []string
	}{
		{
			name: "multi_region_trail_without_arn_borrows_nothing_from_local",
			files: account(map[string]string{
				"describe-trails.json":                            trailList(trailJSON("local", localARN, "us-east-1", false, false), trailJSON("multi", "", "us-east-1", true, false)),
				"trails/us-east-1/local/get-trail-status.json":    statusOn,
				"trails/us-east-1/local/get-event-selectors.json": selectorsAll(localARN),
			}),
			account: "123456789012", want: trailguard.StatusUnknown, reasonHas: []string{`lists trail "multi" without a valid TrailARN`},
		},
		{
			name: "both_without_arn_share_nothing",
			files: account(map[string]string{
				"describe-trails.json":                            trailList(trailJSON("local", "", "us-east-1", false, false), trailJSON("multi", "", "us-east-1", true, false)),
				"trails/us-east-1/local/get-trail-status.json":    statusOn,
				"trails/us-east-1/local/get-event-selectors.json": selectorsAll(""),
			}),
			account: "123456789012", want: trailguard.StatusUnknown,
		},
		{
			name: "ordinary_trail_of_another_account_does_not_count",
			files: map[string]string{
				mgmt + "/describe-trails.json":                           trailList(trailJSON("main", ownARN1, "us-east-1", true, false)),
				mgmt + "/trails/us-east-1/main/get-trail-status.json":    statusOn,
				mgmt + "/trails/us-east-1/main/get-event-selectors.json": selectorsAll(ownARN1),
			},
			account: mgmt, want: trailguard.StatusFail, reasonHas: []string{"trail of account " + member + " and not an organization trail"},
		},
		{
			name: "management_says_not_logging_member_says_logging",
			files: map[string]string{
				mgmt + "/describe-trails.json":                            trailList(trailJSON("org", orgARN, "us-east-1", true, true)),
				mgmt + "/trails/us-east-1/org/get-trail-status.json":      statusOff,
				mgmt + "/trails/us-east-1/org/get-event-selectors.json":   selectorsAll(orgARN),
				member + "/describe-trails.json":                          trailList(trailJSON("org", orgARN, "us-east-1", true, true)),
				member + "/trails/us-east-1/org/get-trail-status.json":    statusOn,
				member + "/trails/us-east-1/org/get-event-selectors.json": selectorsAll(orgARN),
			},
			account: member, want: trailguard.StatusUnknown,
			reasonHas: []string{"sources disagree about trail " + orgARN, filepath.Join(mgmt, "trails", "us-east-1", "org", "get-trail-status.json") + " (account " + mgmt + ") says it is not logging",
				filepath.Join(member, "trails", "us-east-1", "org", "get-trail-status.json") + " (account " + member + ") says it is logging"},
		},
		{
			name: "member_status_file_missing_without_refusal_borrows_nothing",
			files: map[string]string{
				mgmt + "/describe-trails.json":                            trailList(trailJSON("org", orgARN, "us-east-1", true, true)),
				mgmt + "/trails/us-east-1/org/get-trail-status.json":      statusOn,
				mgmt + "/trails/us-east-1/org/get-event-selectors.json":   selectorsAll(orgARN),
				member + "/describe-trails.json":                          trailList(trailJSON("org", orgARN, "us-east-1", true, true)),
				member + "/trails/us-east-1/org/get-event-selectors.json": selectorsAll(orgARN),
			},
			account: member, want: trailguard.StatusUnknown, reasonHas: []string{"get-trail-status.json not found"},
		},
		{
			name: "member_status_refused_borrows_the_managements",
			files: map[string]string{
				mgmt + "/describe-trails.json":                           trailList(trailJSON("org", orgARN, "us-east-1", true, true)),
				mgmt + "/trails/us-east-1/org/get-trail-status.json":     statusOn,
				mgmt + "/trails/us-east-1/org/get-event-selectors.json":  selectorsAll(orgARN),
				member + "/describe-trails.json":                         trailList(trailJSON("org", orgARN, "us-east-1", true, true)),
				member + "/trails/us-east-1/org/get-trail-status.err":    "An error occurred (AccessDeniedException)",
				member + "/trails/us-east-1/org/get-event-selectors.err": "An error occurred (AccessDeniedException)",
			},
			account: member, want: trailguard.StatusPass,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := evaluate(t, writeTree(t, tc.files))[tc.account]
			if res.Status != tc.want {
				t.Fatalf("status %s, want %s; reasons %q", res.Status, tc.want, res.Reasons)
			}
			all := strings.Join(res.Reasons, "\n")
			for _, s := range tc.reasonHas {
				if !strings.Contains(all, s) {
					t.Errorf("reasons %q lack %q", res.Reasons, s)
				}
			}
		})
	}
}

// Keys are matched exactly as the CLI prints them, never twice, and the
// members that decide the verdict must be there.
func TestRead_keys_exactly_as_the_cli_prints_them(t *testing.T) {
	tests := []struct {
		name      string
		file      string // under trails/us-east-1/main/, or the account dir
		content   string
		errHas    []string
		trailFact string // "status", "selectors", or "" for the account
	}{
		{name: "lower_case_key_beside_the_real_one", file: "trails/us-east-1/main/get-trail-status.json", content: "{\"IsLogging\": false,\n \"isLogging\": true}",
			errHas: []string{"get-trail-status.json: line 2", "isLogging is not IsLogging"}, trailFact: "status"},
		{name: "lower_case_key_alone", file: "trails/us-east-1/main/get-trail-status.json", content: `{"islogging": true}`,
			errHas: []string{"islogging is not IsLogging"}, trailFact: "status"},
		{name: "repeated_key", file: "trails/us-east-1/main/get-trail-status.json", content: "{\"IsLogging\": false,\n\"IsLogging\": true}",
			errHas: []string{"get-trail-status.json: line 2", "IsLogging appears twice"}, trailFact: "status"},
		{name: "null_is_logging", file: "trails/us-east-1/main/get-trail-status.json", content: `{"IsLogging": null}`,
			errHas: []string{"IsLogging missing or null"}, trailFact: "status"},
		{name: "selector_member_in_other_case", file: "trails/us-east-1/main/get-event-selectors.json",
			content: `{"TrailARN":"` + ownARN + `","EventSelectors":[{"readWriteType":"All","IncludeManagementEvents":true}]}`,
			errHas:  []string{"EventSelectors[0].readWriteType is not EventSelectors[0].ReadWriteType"}, trailFact: "selectors"},
		{name: "empty_basic_selector", file: "trails/us-east-1/main/get-event-selectors.json", content: `{"TrailARN":"` + ownARN + `","EventSelectors":[{}]}`,
			errHas: []string{"get-event-selectors.json", "IncludeManagementEvents", "ReadWriteType missing or null"}, trailFact: "selectors"},
		{name: "empty_basic_selector_as_in_the_issue", file: "trails/us-east-1/main/get-event-selectors.json", content: `{"EventSelectors":[{}]}`,
			errHas: []string{"get-event-selectors.json: line 1", "EventSelectors[0].IncludeManagementEvents, EventSelectors[0].ReadWriteType missing or null"}, trailFact: "selectors"},
		{name: "advanced_field_selector_without_field", file: "trails/us-east-1/main/get-event-selectors.json",
			content: `{"TrailARN":"` + ownARN + `","AdvancedEventSelectors":[{"FieldSelectors":[{"Equals":["Management"]}]}]}`,
			errHas:  []string{"AdvancedEventSelectors[0].FieldSelectors[0].Field missing or null"}, trailFact: "selectors"},
		{name: "repeated_selector_list", file: "trails/us-east-1/main/get-event-selectors.json",
			content: `{"TrailARN":"` + ownARN + `","EventSelectors":[],"EventSelectors":[{"ReadWriteType":"All","IncludeManagementEvents":true}]}`,
			errHas:  []string{"EventSelectors appears twice"}, trailFact: "selectors"},
		{name: "trail_list_in_other_case", file: "describe-trails.json", content: `{"TrailList":[]}`,
			errHas: []string{"TrailList is not trailList"}},
		{name: "repeated_multi_region_flag", file: "describe-trails.json",
			content: `{"trailList":[{"Name":"main","TrailARN":"` + ownARN + `","IsMultiRegionTrail":false,"IsMultiRegionTrail":true,"IncludeGlobalServiceEvents":true,"IsOrganizationTrail":false}]}`,
			errHas:  []string{"trailList[0].IsMultiRegionTrail appears twice"}},
		{name: "nested_too_deep", file: "trails/us-east-1/main/get-trail-status.json",
			content: `{"IsLogging": true, "X": ` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`,
			errHas:  []string{"nested more than 32 levels deep"}, trailFact: "status"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{"describe-trails.json": oneTrail, "trails/us-east-1/main/get-trail-status.json": logging, "trails/us-east-1/main/get-event-selectors.json": allMgmt}
			files[tc.file] = tc.content
			accounts, err := Read(writeTree(t, account(files)))
			if err != nil {
				t.Fatal(err)
			}
			a := accounts[0]
			var got string
			switch tc.trailFact {
			case "status":
				if a.Trails[0].Status != nil {
					t.Errorf("status read: %+v", a.Trails[0].Status)
				}
				got = a.Trails[0].StatusError
			case "selectors":
				if a.Trails[0].Selectors != nil {
					t.Errorf("selectors read: %+v", a.Trails[0].Selectors)
				}
				got = a.Trails[0].SelectorsError
			default:
				if a.Trails != nil {
					t.Errorf("trails read: %+v", a.Trails)
				}
				got = a.Error
			}
			for _, s := range tc.errHas {
				if !strings.Contains(got, s) {
					t.Errorf("error %q lacks %q", got, s)
				}
			}
			if res := trailguard.Evaluate(a, trailguard.Options{}); res.Status == trailguard.StatusPass {
				t.Errorf("PASS from a file that is not the CLI's output")
			}
		})
	}
}

// A trail member the listing leaves out takes the value that cannot make
// the trail count: a trail without IsMultiRegionTrail is no candidate, one
// without IsOrganizationTrail does not count for another account, and an
// absent IncludeGlobalServiceEvents invents no rejection.
func TestRead_absent_trail_members_never_make_a_trail_count(t *testing.T) {
	const other = "arn:aws:cloudtrail:us-east-1:999999999999:trail/main"
	tests := []struct {
		name    string
		listing string
		arn     string
		want    trailguard.Status
	}{
		{name: "no_multi_region_flag", listing: `{"trailList":[{"Name":"main","TrailARN":"` + ownARN + `","HomeRegion":"us-east-1"}]}`, arn: ownARN, want: trailguard.StatusFail},
		{name: "null_multi_region_flag", listing: `{"trailList":[{"Name":"main","TrailARN":"` + ownARN + `","HomeRegion":"us-east-1","IsMultiRegionTrail":null}]}`, arn: ownARN, want: trailguard.StatusFail},
		{name: "no_organization_flag_on_another_accounts_trail", listing: `{"trailList":[{"Name":"main","TrailARN":"` + other + `","HomeRegion":"us-east-1","IsMultiRegionTrail":true}]}`, arn: other, want: trailguard.StatusFail},
		{name: "no_global_service_events_flag", listing: `{"trailList":[{"Name":"main","TrailARN":"` + ownARN + `","HomeRegion":"us-east-1","IsMultiRegionTrail":true}]}`, arn: ownARN, want: trailguard.StatusPass},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := evaluate(t, writeTree(t, account(map[string]string{"describe-trails.json": tc.listing,
				"trails/us-east-1/main/get-trail-status.json": logging, "trails/us-east-1/main/get-event-selectors.json": selectorsAll(tc.arn)})))["123456789012"]
			if res.Status != tc.want {
				t.Errorf("status %s, want %s; reasons %q", res.Status, tc.want, res.Reasons)
			}
		})
	}
}

// Every reader has limits: a file too large, a FIFO or a link to a device
// is an error naming the file, and the other accounts are still read.
func TestRead_limits_name_the_file_and_the_rest_is_read(t *testing.T) {
	good := func() map[string]string {
		return map[string]string{
			"999999999999/describe-trails.json":                           trailList(trailJSON("main", "arn:aws:cloudtrail:us-east-1:999999999999:trail/main", "us-east-1", true, false)),
			"999999999999/trails/us-east-1/main/get-trail-status.json":    statusOn,
			"999999999999/trails/us-east-1/main/get-event-selectors.json": selectorsAll("arn:aws:cloudtrail:us-east-1:999999999999:trail/main"),
		}
	}
	tests := []struct {
		name   string
		setup  func(t *testing.T, dir string) // breaks account 123456789012's describe-trails.json
		errHas string
	}{
		{name: "file_larger_than_the_cap", setup: func(t *testing.T, dir string) {
			old := maxFileSize
			maxFileSize = 1024
			t.Cleanup(func() { maxFileSize = old })
			os.WriteFile(filepath.Join(dir, "123456789012", "describe-trails.json"), []byte(`{"trailList":[`+strings.Repeat(" ", 2000)+`]}`), 0o644)
		}, errHas: "larger than 1024 bytes"},
		{name: "fifo", setup: func(t *testing.T, dir string) {
			if err := mkfifo(filepath.Join(dir, "123456789012", "describe-trails.json")); err != nil {
				t.Skipf("no FIFO here: %v", err)
			}
		}, errHas: "not a regular file"},
		{name: "link_to_dev_zero", setup: func(t *testing.T, dir string) {
			if err := os.Symlink("/dev/zero", filepath.Join(dir, "123456789012", "describe-trails.json")); err != nil {
				t.Skipf("no symlink here: %v", err)
			}
		}, errHas: "not a regular file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeTree(t, good())
			os.MkdirAll(filepath.Join(dir, "123456789012"), 0o755)
			tc.setup(t, dir)
			done := make(chan map[string]trailguard.Result, 1)
			go func() { done <- evaluate(t, dir) }()
			var res map[string]trailguard.Result
			select {
			case res = <-done:
			case <-time.After(20 * time.Second):
				t.Fatal("Read did not return: it blocked on the file")
			}
			bad := res["123456789012"]
			if bad.Status != trailguard.StatusError || !strings.Contains(strings.Join(bad.Reasons, " "), tc.errHas) ||
				!strings.Contains(strings.Join(bad.Reasons, " "), "describe-trails.json") {
				t.Errorf("broken account: %s %q, want ERROR naming the file and %q", bad.Status, bad.Reasons, tc.errHas)
			}
			if res["999999999999"].Status != trailguard.StatusPass {
				t.Errorf("the other account was not read: %s %q", res["999999999999"].Status, res["999999999999"].Reasons)
			}
		})
	}
}

// A file left from an earlier collection is not trusted: by run marker when
// there is one, by time when the evidence was collected by hand.
func TestRead_files_from_an_earlier_collection_are_not_trusted(t *testing.T) {
	marker := func(id string) string { return `{"RunId": "` + id + `", "StartTime": "2026-12-01T00:00:00Z"}` }
	base := func() map[string]string {
		return map[string]string{"describe-trails.json": oneTrail, "trails/us-east-1/main/get-trail-status.json": logging, "trails/us-east-1/main/get-event-selectors.json": allMgmt}
	}
	tests := []struct {
		name    string
		files   map[string]string
		age     time.Duration // how much older than describe-trails.json the status file is
		trusted bool
		errHas  string
	}{
		{name: "same_run", files: map[string]string{"collect-run.json": marker("r2"), "trails/us-east-1/main/collect-run.json": marker("r2")}, trusted: true},
		{name: "trail_from_another_run", files: map[string]string{"collect-run.json": marker("r2"), "trails/us-east-1/main/collect-run.json": marker("r1")},
			errHas: `names run "r1", the account's describe-trails.json is from run "r2"`},
		{name: "trail_without_marker_in_a_marked_account", files: map[string]string{"collect-run.json": marker("r2")},
			errHas: `has no collect-run.json of run "r2"`},
		{name: "marked_trail_in_an_unmarked_account", files: map[string]string{"trails/us-east-1/main/collect-run.json": marker("r1")},
			errHas: "the account directory has no collect-run.json"},
		{name: "damaged_account_marker", files: map[string]string{"collect-run.json": `{"runid": "r2"}`, "trails/us-east-1/main/collect-run.json": marker("r2")},
			errHas: "the account's run marker cannot be read"},
		{name: "by_hand_status_an_hour_older_than_the_trail_list", age: time.Hour, errHas: "before describe-trails.json"},
		{name: "by_hand_copied_without_times_seconds_apart", age: 5 * time.Second, trusted: true},
		{name: "marked_but_an_hour_older", files: map[string]string{"collect-run.json": marker("r2"), "trails/us-east-1/main/collect-run.json": marker("r2")}, age: time.Hour,
			errHas: "before describe-trails.json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files := base()
			for k, v := range tc.files {
				files[k] = v
			}
			dir := writeTree(t, account(files))
			now := time.Now()
			adir := filepath.Join(dir, "123456789012")
			os.Chtimes(filepath.Join(adir, "describe-trails.json"), now, now)
			os.Chtimes(filepath.Join(adir, "trails/us-east-1/main/get-event-selectors.json"), now, now)
			os.Chtimes(filepath.Join(adir, "trails/us-east-1/main/get-trail-status.json"), now.Add(-tc.age), now.Add(-tc.age))
			accounts, err := Read(dir)
			if err != nil {
				t.Fatal(err)
			}
			tr := accounts[0].Trails[0]
			if tc.trusted {
				if tr.Status == nil {
					t.Fatalf("status not read: %s", tr.StatusError)
				}
				return
			}
			if tr.Status != nil || !strings.Contains(tr.StatusError, tc.errHas) {
				t.Errorf("status %v error %q, want not read with %q", tr.Status, tr.StatusError, tc.errHas)
			}
			if res := trailguard.Evaluate(accounts[0], trailguard.Options{}); res.Status == trailguard.StatusPass {
				t.Errorf("PASS from a stale file")
			}
		})
	}
}

// The reproduction of issue 10: collect (PASS), stop logging, collect again
// with the listing of trails failing. The old status file must not make the
// second collection pass.
func TestCollectScript_rerun_with_a_failing_listing_does_not_keep_old_files(t *testing.T) {
	bash := needBash(t)
	work := t.TempDir()
	bin := filepath.Join(work, "bin")
	data := filepath.Join(work, "data")
	os.MkdirAll(bin, 0o755)
	shim, err := os.ReadFile("testdata/fakeaws/aws")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(bin, "aws"), shim, 0o755)
	if out, err := exec.Command("cp", "-R", "testdata/fakeaws/member", data).CombinedOutput(); err != nil {
		t.Fatalf("copy fake data: %v %s", err, out)
	}
	audit := "arn_aws_cloudtrail_us-west-2_111111111111_trail_audit.json"
	os.WriteFile(filepath.Join(data, "get-event-selectors", audit), []byte(selectorsAll(auditTrailARN)), 0o644)
	script := scriptFile(t)
	run := func() string {
		cmd := exec.Command(bash, script, "out")
		cmd.Dir = work
		cmd.Env = []string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"), "HOME=" + work,
			"FAKE_AWS_DATA=" + data, "FAKE_AWS_LOG=" + filepath.Join(work, "calls.log")}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("collect: %v\n%s", err, out)
		}
		return string(out)
	}
	run()
	if res := evaluate(t, filepath.Join(work, "out"))["111111111111"]; res.Status != trailguard.StatusPass {
		t.Fatalf("first collection: %s %q, want PASS", res.Status, res.Reasons)
	}
	// Logging stops; the second listing of trails fails.
	os.WriteFile(filepath.Join(data, "get-trail-status", audit), []byte(statusOff), 0o644)
	os.WriteFile(filepath.Join(data, "trail-list.fail"), []byte("An error occurred (ThrottlingException) when calling the DescribeTrails operation: Rate exceeded"), 0o644)
	stderr := run()
	if !strings.Contains(stderr, "trail-list.err") {
		t.Errorf("the script does not say where the listing failure is: %s", stderr)
	}
	res := evaluate(t, filepath.Join(work, "out"))["111111111111"]
	if res.Status == trailguard.StatusPass {
		t.Fatalf("second collection passes on the first one's files: %q", res.Reasons)
	}
	if all := strings.Join(res.Reasons, " "); !strings.Contains(all, "could not list the trails") || !strings.Contains(all, "ThrottlingException") {
		t.Errorf("reasons %q do not say the listing failed", res.Reasons)
	}

	// An old script (or a hand copy) that leaves the first run's trail
	// files in place beside a new run's marker is caught by the marker.
	adir := filepath.Join(work, "out", "111111111111")
	tdir := filepath.Join(adir, "trails", "us-west-2", "audit")
	os.MkdirAll(tdir, 0o755)
	os.WriteFile(filepath.Join(tdir, "get-trail-status.json"), []byte(statusOn), 0o644)
	os.WriteFile(filepath.Join(tdir, "get-event-selectors.json"), []byte(selectorsAll(auditTrailARN)), 0o644)
	os.WriteFile(filepath.Join(tdir, "collect-run.json"), []byte(`{"RunId": "an-earlier-run"}`), 0o644)
	os.Remove(filepath.Join(adir, "trail-list.err"))
	if res := evaluate(t, filepath.Join(work, "out"))["111111111111"]; res.Status == trailguard.StatusPass ||
		!strings.Contains(strings.Join(res.Reasons, " "), "left from another collection") {
		t.Errorf("old trail files beside a new marker: %s %q", res.Status, res.Reasons)
	}
}

// Unicode folding is folding too: "IſLogging" (long s) is what Go's
// encoding/json would take for IsLogging.
func TestParseTrailStatus_unicode_fold_of_a_member_is_refused(t *testing.T) {
	_, err := parseTrailStatus("get-trail-status.json", []byte("{\"IsLogging\": false, \"I\u017fLogging\": true}"))
	if err == nil || !strings.Contains(err.Error(), "is not IsLogging") {
		t.Errorf("err = %v, want the folded key refused", err)
	}
}
