package mutelist

import (
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard"
)

var today = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// results: a passing account, one failing everywhere, one failing only
// in ap-east-1 (covered elsewhere by a single-region... by local trails),
// and one not readable.
func results() []trailguard.Result {
	region := func(name, by string) trailguard.RegionCoverage {
		return trailguard.RegionCoverage{Region: name, OptInStatus: "opt-in-not-required", Enabled: true, CoveredBy: by}
	}
	return []trailguard.Result{
		{Account: "111111111111", Status: trailguard.StatusPass, Regions: []trailguard.RegionCoverage{region("us-east-1", "arn:t")}},
		{Account: "222222222222", Status: trailguard.StatusFail, Reasons: []string{"no trail"},
			Regions: []trailguard.RegionCoverage{region("us-east-1", ""), region("ap-east-1", "")}},
		{Account: "333333333333", Status: trailguard.StatusFail, Reasons: []string{"single-region only"},
			Regions: []trailguard.RegionCoverage{region("us-east-1", "arn:aws:cloudtrail:us-east-1:333333333333:trail/legacy-local"), region("ap-east-1", "")},
			Trails:  []trailguard.TrailVerdict{{Trail: trailguard.Trail{ARN: "arn:aws:cloudtrail:us-east-1:333333333333:trail/legacy-local"}}}},
		{Account: "444444444444", Status: trailguard.StatusError, Reasons: []string{"AssumeRole denied"}},
	}
}

func apply(t *testing.T, doc string) ([]trailguard.Result, []string) {
	t.Helper()
	l, err := Parse("mutes.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	rs := results()
	return rs, l.Apply(rs, today)
}

func statuses(rs []trailguard.Result) string {
	var s []string
	for _, r := range rs {
		s = append(s, string(r.Status))
	}
	return strings.Join(s, " ")
}

func TestApply(t *testing.T) {
	for _, c := range []struct {
		name, doc, want string
	}{
		{"account_with_wildcard", `
mutes:
  - accounts: ["2222*"]
    reason: sandbox
    owner: platform
    expires: 2027-01-01
`, "PASS MUTED FAIL ERROR"},
		{"every_account_when_none_named_but_a_pass_stays_pass", `
mutes:
  - reason: migration
    owner: sec
    expires: 2026-12-31
`, "PASS MUTED MUTED MUTED"},
		{"regions_must_cover_the_whole_gap", `
mutes:
  - regions: ["ap-*"]
    reason: no workloads in Asia Pacific
    owner: sec
    expires: 2027-01-01
`, "PASS FAIL MUTED ERROR"},
		{"trail_pattern_crosses_slashes_and_colons", `
mutes:
  - trails: ["arn:aws:cloudtrail:*:trail/legacy-*"]
    reason: legacy trail being replaced
    owner: sec
    expires: 2027-01-01
`, "PASS FAIL MUTED ERROR"},
		{"expires_today_still_holds", `
mutes:
  - accounts: ["444444444444"]
    reason: account closing
    owner: sec
    expires: 2026-11-25
`, "PASS FAIL FAIL MUTED"},
		{"expired_entry_mutes_nothing", `
mutes:
  - accounts: ["*"]
    reason: old
    owner: sec
    expires: 2026-11-24
`, "PASS FAIL FAIL ERROR"},
		{"empty_file", ``, "PASS FAIL FAIL ERROR"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rs, _ := apply(t, c.doc)
			if got := statuses(rs); got != c.want {
				t.Errorf("statuses %s, want %s", got, c.want)
			}
			for _, r := range rs {
				if r.Status == trailguard.StatusMuted && (r.Underlying == "" || !strings.Contains(r.MuteReason, "owner")) {
					t.Errorf("%s muted without underlying status or owner: %+v", r.Account, r)
				}
			}
		})
	}
}

func TestApply_reports_expired_entries_with_their_line(t *testing.T) {
	_, notices := apply(t, "mutes:\n  - accounts: [\"1\"]\n    reason: r\n    owner: o\n    expires: 2027-01-01\n  - accounts: [\"2\"]\n    reason: stale\n    owner: bob\n    expires: 2025-01-01\n")
	if len(notices) != 1 || !strings.Contains(notices[0], "mutes.yaml:6") || !strings.Contains(notices[0], "bob") {
		t.Errorf("notices %q", notices)
	}
}

func TestParse_errors_name_file_and_line(t *testing.T) {
	for _, c := range []struct{ name, doc, want string }{
		{"missing_reason", "mutes:\n  - accounts: [\"1\"]\n    owner: o\n    expires: 2027-01-01\n", "mutes.yaml:2: mute entry 1: reason is required"},
		{"missing_owner", "mutes:\n  - reason: r\n    expires: 2027-01-01\n", "mutes.yaml:2: mute entry 1: owner is required"},
		{"bad_date", "mutes:\n  - reason: r\n    owner: o\n    expires: next year\n", `mutes.yaml:2: mute entry 1: expires "next year" is not a date`},
		{"unknown_field", "mutes:\n  - reason: r\n    owner: o\n    expires: 2027-01-01\n    acounts: [x]\n", "mutes.yaml:5:"},
		{"malformed_yaml", "mutes:\n  - reason: [unclosed\n", "mutes.yaml:"},
		{"wrong_type", "mutes: 3\n", "mutes.yaml:1:"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("mutes.yaml", []byte(c.doc))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want it to contain %q", err, c.want)
			}
		})
	}
}
