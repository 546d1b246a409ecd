package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard"
)

// establishedReport holds one account of the given kind, with (regions
// true) or without the region list: an ERROR account loaded from evidence
// has its regions.json read and no trail facts, one whose role could not
// be assumed has nothing.
func establishedReport(t *testing.T, kind trailguard.Status, regions bool) *Report {
	t.Helper()
	acct := trailguard.Account{ID: "444444444444"}
	if regions {
		acct.Regions = []trailguard.Region{{Name: "us-east-1", OptInStatus: "opt-in-not-required"}, {Name: "eu-west-1", OptInStatus: "opt-in-not-required"}}
	}
	switch kind {
	case trailguard.StatusError:
		acct.Error = "describe trails: AccessDenied"
	case trailguard.StatusUnknown:
		acct.Trails = []trailguard.Trail{{Name: "main", ARN: "arn:aws:cloudtrail:us-east-1:444444444444:trail/main", HomeRegion: "us-east-1",
			IsMultiRegion: true, IncludeGlobalServiceEvents: true, StatusError: "cloudtrail:GetTrailStatus: AccessDeniedException: denied",
			Selectors: trailguard.DefaultSelectors()}}
	case trailguard.StatusFail:
		acct.Trails = []trailguard.Trail{}
	}
	res := trailguard.EvaluateAll([]trailguard.Account{acct}, trailguard.Options{})
	if res[0].Status != kind {
		t.Fatalf("fixture is %s, want %s: %q", res[0].Status, kind, res[0].Reasons)
	}
	return New("1.2.3", Scan{Source: "evidence:ev", StartedAt: time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)}, res, nil)
}

// The regions of an UNKNOWN or ERROR account are "not established" in
// every format: never counted as not covered (an ERROR account from
// evidence read as 17 regions not covered), never shown as 0 uncovered
// (which reads as covered).
func TestCoverage_not_established(t *testing.T) {
	cases := []struct {
		name    string
		kind    trailguard.Status
		regions bool
	}{
		{"error_account_from_evidence_with_regions", trailguard.StatusError, true},
		{"error_account_without_regions", trailguard.StatusError, false},
		{"unknown_account_with_unreadable_trail", trailguard.StatusUnknown, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rep := establishedReport(t, tc.kind, tc.regions)
			s := rep.Summary
			if s.UncoveredRegions != 0 || s.UnestablishedResults != 1 {
				t.Errorf("summary uncovered %d, unestablished results %d; want 0 and 1", s.UncoveredRegions, s.UnestablishedResults)
			}
			if want := map[bool]int{true: 2, false: 0}[tc.regions]; s.UnestablishedRegions != want {
				t.Errorf("summary unestablished regions %d, want %d", s.UnestablishedRegions, want)
			}

			// JSON: the summary and the result say it.
			var js struct {
				Summary struct {
					Uncovered     int `json:"uncovered_regions"`
					Unestablished int `json:"unestablished_results"`
				} `json:"summary"`
				Results []struct {
					Established *bool `json:"coverage_established"`
				} `json:"results"`
			}
			if err := json.Unmarshal(render(t, JSON{}, rep), &js); err != nil {
				t.Fatal(err)
			}
			if js.Summary.Uncovered != 0 || js.Summary.Unestablished != 1 || js.Results[0].Established == nil || *js.Results[0].Established {
				t.Errorf("json summary %+v, coverage_established %v", js.Summary, js.Results[0].Established)
			}

			// Text: the table says "?" (the table shows for more than a
			// few accounts, so the report is repeated), the detail "not
			// established", the summary never "N not covered" for it.
			many := *rep
			for range compactAbove {
				many.Results = append(many.Results, rep.Results[0])
			}
			many.Summary = trailguard.Summarize(many.Results)
			text := string(render(t, Text{}, &many))
			if !strings.Contains(text, "ERROR            ?") && !strings.Contains(text, "UNKNOWN          ?") {
				t.Errorf("text table does not show ? for uncovered:\n%s", text)
			}
			if !strings.Contains(text, "not established") || strings.Contains(text, "not covered  ") {
				t.Errorf("text detail:\n%s", text)
			}
			if !strings.Contains(text, "0 enabled region(s) not covered; coverage not established in 6 UNKNOWN or ERROR account(s)") {
				t.Errorf("text summary:\n%s", text)
			}

			// Markdown: "?" in the row, the count in the summary.
			md := string(render(t, Markdown{}, rep))
			if !strings.HasSuffix(strings.Split(md, "\n")[8], "| ? |") || !strings.Contains(md, "| 0 | 1 |\n\n") {
				t.Errorf("markdown:\n%s", md)
			}

			// CSV: every row of the account says "not established".
			rows, err := csv.NewReader(bytes.NewReader(render(t, CSV{}, rep))).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			col := -1
			for i, h := range rows[0] {
				if h == "coverage" {
					col = i
				}
			}
			if col < 0 {
				t.Fatalf("csv header %q has no coverage column", rows[0])
			}
			for _, row := range rows[1:] {
				if row[col] != "not established" {
					t.Errorf("csv row %q: coverage %q", row, row[col])
				}
			}

			// HTML: no cell marked as a gap; a summary card counts it.
			page := string(render(t, HTML{}, rep))
			if strings.Contains(page, `class="gap"`) || !strings.Contains(page, "coverage not established<b>1</b>") {
				t.Errorf("html marks a gap or lacks the card")
			}
			if tc.regions && !strings.Contains(page, `class="unest"`) {
				t.Errorf("html marks no region as not established")
			}

			// JUnit: the error's body says it.
			if out := string(render(t, JUnit{}, rep)); !strings.Contains(out, "regions not established") || strings.Contains(out, "not covered") {
				t.Errorf("junit:\n%s", out)
			}

			// ASFF and OCSF: no "uncovered" field; the regions are named
			// as not established.
			asff, ocsf := string(render(t, ASFF{}, rep)), string(render(t, OCSF{}, rep))
			for name, out := range map[string]string{"asff": asff, "ocsf": ocsf} {
				if strings.Contains(strings.ToLower(out), "uncovered") || strings.Contains(out, "not covered") {
					t.Errorf("%s calls the regions uncovered:\n%s", name, out)
				}
				if tc.regions && !strings.Contains(strings.ToLower(out), "unestablished") {
					t.Errorf("%s does not name the regions not established", name)
				}
			}
		})
	}
}

// The same regions of a FAIL account are not covered, in every format:
// the "not established" wording is for UNKNOWN and ERROR only.
func TestCoverage_not_covered_when_read(t *testing.T) {
	rep := establishedReport(t, trailguard.StatusFail, true)
	if s := rep.Summary; s.UncoveredRegions != 2 || s.UnestablishedResults != 0 {
		t.Errorf("summary %+v", s)
	}
	md := string(render(t, Markdown{}, rep))
	if !strings.HasSuffix(strings.Split(md, "\n")[8], "| 2 |") {
		t.Errorf("markdown:\n%s", md)
	}
	if out := string(render(t, CSV{}, rep)); !strings.Contains(out, ",not covered,") || strings.Contains(out, "not established") {
		t.Errorf("csv:\n%s", out)
	}
	if out := string(render(t, OCSF{}, rep)); !strings.Contains(out, "uncovered_regions") {
		t.Errorf("ocsf lacks uncovered_regions:\n%s", out)
	}
}
