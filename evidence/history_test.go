package evidence

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailguard/trailguard/history"
)

const histAccount = "111111111111"

// record is a CloudTrail record of histAccount as LookupEvents gives it.
func record(id, at, name, region string) string {
	r := map[string]any{
		"eventID": id, "eventTime": at, "eventName": name, "awsRegion": region, "recipientAccountId": histAccount,
		"eventSource": "cloudtrail.amazonaws.com", "requestParameters": map[string]any{"name": "main"},
		"userIdentity": map[string]any{"type": "IAMUser", "arn": "arn:aws:iam::" + histAccount + ":user/ops"},
	}
	b, _ := json.Marshal(r)
	return string(b)
}

// lookupOutput is lookup-events output holding the given records, as the
// AWS CLI prints it.
func lookupOutput(records ...string) string {
	var evs []map[string]any
	for _, r := range records {
		var m map[string]any
		json.Unmarshal([]byte(r), &m)
		evs = append(evs, map[string]any{"EventId": m["eventID"], "EventName": m["eventName"], "EventTime": m["eventTime"], "CloudTrailEvent": r})
	}
	if evs == nil {
		evs = []map[string]any{}
	}
	b, _ := json.MarshalIndent(map[string]any{"Events": evs}, "", "    ")
	return string(b) + "\n"
}

const regionsJSON = `{"Regions": [{"RegionName": "us-east-1", "OptInStatus": "opt-in-not-required"}, {"RegionName": "eu-west-1", "OptInStatus": "opt-in-not-required"}, {"RegionName": "af-south-1", "OptInStatus": "not-opted-in"}]}`

// historyTree writes an account directory with a run marker, regions.json
// and, for both enabled regions, an empty lookup file per coverage event;
// files overrides or adds files (an empty content removes one).
func historyTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	adir := filepath.Join(dir, histAccount)
	all := map[string]string{
		"collect-run.json":         `{"RunId": "r1", "StartTime": "2026-11-30T10:00:00Z"}`,
		"regions.json":             regionsJSON,
		"history/collect-run.json": `{"RunId": "r1", "StartTime": "2026-11-30T10:00:00Z", "Since": "2026-09-01T10:00:00Z"}`,
	}
	for _, r := range []string{"us-east-1", "eu-west-1"} {
		for _, n := range history.CoverageEvents {
			all["history/"+r+"/lookup-events-"+n+".json"] = lookupOutput()
		}
	}
	for k, v := range files {
		all[k] = v
	}
	for name, content := range all {
		if content == "" {
			continue
		}
		p := filepath.Join(adir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestReadHistory(t *testing.T) {
	stop := record("e-1", "2026-10-01T10:00:00Z", "StopLogging", "us-east-1")
	start := record("e-2", "2026-10-04T10:00:00Z", "StartLogging", "us-east-1")
	tests := []struct {
		name        string
		files       map[string]string
		wantRegions string
		wantEvents  int
		wantErrors  []string // each must appear in one error
	}{
		{
			name:        "events_of_every_region_oldest_first",
			files:       map[string]string{"history/us-east-1/lookup-events-StopLogging.json": lookupOutput(stop), "history/us-east-1/lookup-events-StartLogging.json": lookupOutput(start)},
			wantRegions: "eu-west-1,us-east-1", wantEvents: 2,
		},
		{
			name: "malformed_event_json_names_the_file_and_index",
			files: map[string]string{"history/us-east-1/lookup-events-StopLogging.json": strings.Replace(lookupOutput(stop, record("e-3", "2026-10-02T10:00:00Z", "StopLogging", "us-east-1")),
				`\"eventID\":\"e-3\"`, `\"eventID\":\"e-3\",\"eventID\":\"e-4\"`, 1)},
			wantRegions: "eu-west-1", wantEvents: 1,
			wantErrors: []string{filepath.Join("us-east-1", "lookup-events-StopLogging.json") + ": Events[1]: CloudTrailEvent", "duplicate key"},
		},
		{
			name:        "malformed_file_names_the_line",
			files:       map[string]string{"history/eu-west-1/lookup-events-DeleteTrail.json": "{\n    \"Events\": [\n        {,\n"},
			wantRegions: "us-east-1",
			wantErrors:  []string{filepath.Join("eu-west-1", "lookup-events-DeleteTrail.json") + ": line 3"},
		},
		{
			name:        "key_in_another_case_is_refused",
			files:       map[string]string{"history/eu-west-1/lookup-events-DeleteTrail.json": `{"events": []}`},
			wantRegions: "us-east-1",
			wantErrors:  []string{"keys are case-sensitive"},
		},
		{
			name:        "missing_file_of_an_enabled_region",
			files:       map[string]string{"history/eu-west-1/lookup-events-UpdateTrail.json": ""},
			wantRegions: "us-east-1",
			wantErrors:  []string{filepath.Join("eu-west-1", "lookup-events-UpdateTrail.json") + ": missing"},
		},
		{
			name: "failed_lookup_is_an_error_for_its_region",
			files: map[string]string{"history/eu-west-1/lookup-events-UpdateTrail.json": "",
				"history/eu-west-1/lookup-events-UpdateTrail.err": "\nAn error occurred (AccessDeniedException) when calling the LookupEvents operation: denied\n"},
			wantRegions: "us-east-1",
			wantErrors:  []string{"lookup-events-UpdateTrail.err", "AccessDeniedException"},
		},
		{
			name:        "one_page_only",
			files:       map[string]string{"history/us-east-1/lookup-events-StopLogging.json": `{"Events": [], "NextToken": "abc"}`},
			wantRegions: "eu-west-1",
			wantErrors:  []string{"one page only"},
		},
		{
			name:        "event_in_the_file_of_another_name",
			files:       map[string]string{"history/us-east-1/lookup-events-StartLogging.json": lookupOutput(stop)},
			wantRegions: "eu-west-1",
			wantErrors:  []string{`is a "StopLogging", in the file of StartLogging`},
		},
		{
			name:        "event_of_another_account",
			files:       map[string]string{"history/us-east-1/lookup-events-StopLogging.json": lookupOutput(strings.Replace(stop, histAccount, "222222222222", 1))},
			wantRegions: "eu-west-1",
			wantErrors:  []string{"is of account 222222222222"},
		},
		{
			name:        "history_left_from_another_run_is_not_read",
			files:       map[string]string{"history/collect-run.json": `{"RunId": "r0"}`, "history/us-east-1/lookup-events-StopLogging.json": lookupOutput(stop)},
			wantRegions: "",
			wantErrors:  []string{"left from another collection"},
		},
		{
			name:        "history_without_its_run_marker_is_not_read",
			files:       map[string]string{"history/collect-run.json": "", "history/us-east-1/lookup-events-StopLogging.json": "", "describe-trails.json": `{"trailList": []}`},
			wantRegions: "",
			wantErrors:  []string{"left from an earlier collection"},
		},
		{
			name:        "regions_unknown",
			files:       map[string]string{"regions.json": ""},
			wantRegions: "eu-west-1,us-east-1",
			wantErrors:  []string{"which regions event history must cover is not known"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs, err := ReadHistory(historyTree(t, tt.files))
			if err != nil {
				t.Fatal(err)
			}
			if len(hs) != 1 || hs[0].Account != histAccount {
				t.Fatalf("accounts %+v", hs)
			}
			h := hs[0]
			if got := strings.Join(h.Regions, ","); got != tt.wantRegions {
				t.Errorf("regions read %q, want %q (errors %q)", got, tt.wantRegions, h.Errors)
			}
			if len(h.Events) != tt.wantEvents {
				t.Errorf("%d events, want %d", len(h.Events), tt.wantEvents)
			}
			for i := 1; i < len(h.Events); i++ {
				if h.Events[i].Time.Before(h.Events[i-1].Time) {
					t.Errorf("events not oldest first")
				}
			}
			all := strings.Join(h.Errors, "\n")
			if len(tt.wantErrors) == 0 && len(h.Errors) != 0 {
				t.Errorf("errors %q", h.Errors)
			}
			for _, w := range tt.wantErrors {
				if !strings.Contains(all, w) {
					t.Errorf("errors lack %q:\n%s", w, all)
				}
			}
			if tt.name == "events_of_every_region_oldest_first" && (h.Since.Format("2006-01-02") != "2026-09-01" || h.Until.Format("2006-01-02") != "2026-11-30") {
				t.Errorf("window %v .. %v", h.Since, h.Until)
			}
		})
	}
}

func TestReadHistory_directories(t *testing.T) {
	t.Run("account_without_history_is_an_error_not_an_empty_history", func(t *testing.T) {
		dir := t.TempDir()
		os.MkdirAll(filepath.Join(dir, histAccount), 0o755)
		os.WriteFile(filepath.Join(dir, histAccount, "describe-trails.json"), []byte(`{"trailList": []}`), 0o644)
		hs, err := ReadHistory(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(hs) != 1 || len(hs[0].Errors) != 1 || !strings.Contains(hs[0].Errors[0], "no event history was collected") {
			t.Fatalf("%+v", hs)
		}
	})
	t.Run("single_account_directory_takes_the_caller_identity", func(t *testing.T) {
		dir := filepath.Join(historyTree(t, nil), histAccount)
		renamed := filepath.Join(filepath.Dir(dir), "evidence")
		os.Rename(dir, renamed)
		os.WriteFile(filepath.Join(renamed, "caller-identity.json"), []byte(`{"UserId": "x", "Account": "`+histAccount+`", "Arn": "arn:aws:iam::`+histAccount+`:root"}`), 0o644)
		hs, err := ReadHistory(renamed)
		if err != nil {
			t.Fatal(err)
		}
		if len(hs) != 1 || hs[0].Account != histAccount || len(hs[0].Regions) != 2 {
			t.Fatalf("%+v", hs)
		}
	})
	t.Run("no_account", func(t *testing.T) {
		if _, err := ReadHistory(t.TempDir()); err == nil || !strings.Contains(err.Error(), "holds no account") {
			t.Fatalf("err %v", err)
		}
	})
}

// FuzzReadLookupEvents: no lookup-events output panics the reader, and
// every event it accepts is of the file's account, region and name.
func FuzzReadLookupEvents(f *testing.F) {
	f.Add([]byte(lookupOutput(record("e-1", "2026-10-01T10:00:00Z", "StopLogging", "us-east-1"))))
	f.Add([]byte(`{"Events": [], "NextToken": "x"}`))
	f.Add([]byte(`{"Events": [{"EventId": "e", "CloudTrailEvent": null}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		evs, _ := parseLookupEvents("f.json", data, histAccount, "us-east-1", "StopLogging")
		for _, ev := range evs {
			if ev.Account != histAccount || ev.Region != "us-east-1" || ev.Name != "StopLogging" {
				t.Fatalf("accepted %+v", ev)
			}
		}
	})
}
