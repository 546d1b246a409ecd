package history

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard"
)

const (
	acct   = "111111111111"
	mgmt   = "222222222222"
	trailA = "arn:aws:cloudtrail:us-east-1:111111111111:trail/main"
	orgT   = "arn:aws:cloudtrail:us-east-1:222222222222:trail/org"
)

var t0 = time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)

func day(n float64) time.Time { return t0.Add(time.Duration(n * float64(24*time.Hour))) }

func allMgmt() *trailguard.EventSelectors {
	return &trailguard.EventSelectors{Basic: []trailguard.EventSelector{{ReadWriteType: "All", IncludeManagementEvents: true}}}
}

func readOnly() *trailguard.EventSelectors {
	return &trailguard.EventSelectors{Basic: []trailguard.EventSelector{{ReadWriteType: "ReadOnly", IncludeManagementEvents: true}}}
}

// good is a trail that satisfies the control.
func good(arn string) trailguard.Trail {
	return trailguard.Trail{Name: arn[strings.LastIndex(arn, "/")+1:], ARN: arn, HomeRegion: "us-east-1", IsMultiRegion: true, IncludeGlobalServiceEvents: true,
		Status: &trailguard.TrailStatus{IsLogging: true}, Selectors: allMgmt()}
}

func ev(name string, at time.Time, arn string, params map[string]any) Event {
	if params == nil {
		params = map[string]any{"name": arn}
	}
	return Event{ID: fmt.Sprintf("%s-%d-%s", name, at.Unix(), arn), Name: name, Time: at, Account: trailguard.ARNAccount(arn), Region: "us-east-1", TrailARN: arn,
		Actor: "arn:aws:iam::111111111111:user/mallory", SourceIP: "203.0.113.9", RequestParameters: params}
}

func selParams(arn, rw string) map[string]any {
	return map[string]any{"trailName": arn, "eventSelectors": []any{map[string]any{"readWriteType": rw, "includeManagementEvents": true, "dataResources": []any{}}}}
}

func createParams(arn string, multi bool) map[string]any {
	return map[string]any{"name": arn[strings.LastIndex(arn, "/")+1:], "s3BucketName": "logs", "isMultiRegionTrail": multi, "includeGlobalServiceEvents": true}
}

func failed(e Event, code string) Event { e.ErrorCode = code; e.ID += "-failed"; return e }

func TestReplay(t *testing.T) {
	stopped := good(trailA)
	stopped.Status = &trailguard.TrailStatus{IsLogging: false}
	type iv struct {
		from, to float64
		certain  bool
	}
	tests := []struct {
		name      string
		now       trailguard.Account
		events    []Event
		orgRead   bool
		wantIv    []iv
		wantFx    []string
		wantNotes string
	}{
		{
			name:   "no_events_and_covered_now_is_covered_all_window",
			now:    trailguard.Account{ID: acct, Trails: []trailguard.Trail{good(trailA)}},
			wantIv: nil,
		},
		{
			name:   "no_events_and_stopped_now_is_not_covered_all_window",
			now:    trailguard.Account{ID: acct, Trails: []trailguard.Trail{stopped}},
			wantIv: []iv{{0, 90, true}},
		},
		{
			// Before the StopLogging nothing in the window says whether
			// the trail logged (StopLogging succeeds on a stopped trail
			// too): uncertain, then the 3 days are a certain gap.
			name:   "stopped_3_days",
			now:    trailguard.Account{ID: acct, Trails: []trailguard.Trail{good(trailA)}},
			events: []Event{ev("StopLogging", day(30), trailA, nil), ev("StartLogging", day(33), trailA, nil)},
			wantIv: []iv{{0, 30, false}, {30, 33, true}},
			wantFx: []string{EffectUncertain, EffectRestored},
		},
		{
			name: "stopped_3_days_after_a_start_in_the_window",
			now:  trailguard.Account{ID: acct, Trails: []trailguard.Trail{good(trailA)}},
			events: []Event{ev("StartLogging", day(2), trailA, nil), ev("StopLogging", day(30), trailA, nil),
				ev("StartLogging", day(33), trailA, nil)},
			wantIv: []iv{{0, 2, false}, {30, 33, true}},
			wantFx: []string{EffectUncertain, EffectBroke, EffectRestored},
		},
		{
			name: "selectors_narrowed_to_read_only_and_back",
			now:  trailguard.Account{ID: acct, Trails: []trailguard.Trail{good(trailA)}},
			events: []Event{ev("PutEventSelectors", day(10), trailA, selParams(trailA, "ReadOnly")),
				ev("PutEventSelectors", day(12), trailA, selParams(trailA, "All"))},
			wantIv: []iv{{0, 10, false}, {10, 12, true}},
			wantFx: []string{EffectUncertain, EffectRestored},
		},
		{
			// The settings before the DeleteTrail were never shown in the
			// window (only its logging was): uncertain up to the delete.
			name: "deleted_and_recreated",
			now:  trailguard.Account{ID: acct, Trails: []trailguard.Trail{good(trailA)}},
			events: []Event{ev("StartLogging", day(1), trailA, nil), ev("DeleteTrail", day(20), trailA, nil),
				ev("CreateTrail", day(21), trailA, createParams(trailA, true)), ev("StartLogging", day(21.5), trailA, nil)},
			wantIv: []iv{{0, 20, false}, {20, 21.5, true}},
			wantFx: []string{EffectUncertain, EffectUncertain, EffectNoChange, EffectRestored},
		},
		{
			name: "created_deleted_and_recreated_in_the_window",
			now:  trailguard.Account{ID: acct, Trails: []trailguard.Trail{good(trailA)}},
			events: []Event{ev("CreateTrail", day(1), trailA, createParams(trailA, true)), ev("StartLogging", day(1.5), trailA, nil),
				ev("DeleteTrail", day(20), trailA, nil), ev("CreateTrail", day(21), trailA, createParams(trailA, true)),
				ev("StartLogging", day(21.5), trailA, nil)},
			wantIv: []iv{{0, 1.5, true}, {20, 21.5, true}},
			wantFx: []string{EffectNoChange, EffectRestored, EffectBroke, EffectNoChange, EffectRestored},
		},
		{
			name:   "denied_StopLogging_changes_nothing",
			now:    trailguard.Account{ID: acct, Trails: []trailguard.Trail{good(trailA)}},
			events: []Event{failed(ev("StopLogging", day(5), trailA, nil), "AccessDenied")},
			wantIv: nil,
			wantFx: []string{EffectNoChange},
		},
		{
			// Created before the window, deleted in it: what it recorded
			// before is never shown, so the time before is uncertain,
			// never covered.
			name:   "trail_created_before_the_window_with_settings_never_shown",
			now:    trailguard.Account{ID: acct},
			events: []Event{ev("DeleteTrail", day(40), trailA, nil)},
			wantIv: []iv{{0, 40, false}, {40, 90, true}},
			wantFx: []string{EffectUncertain},
		},
		{
			name:   "created_in_the_window_and_started",
			now:    trailguard.Account{ID: acct, Trails: []trailguard.Trail{good(trailA)}},
			events: []Event{ev("CreateTrail", day(3), trailA, createParams(trailA, true)), ev("StartLogging", day(4), trailA, nil)},
			wantIv: []iv{{0, 4, true}},
			wantFx: []string{EffectNoChange, EffectRestored},
		},
		{
			name:   "single_region_trail_created_never_covers",
			now:    trailguard.Account{ID: acct, Trails: []trailguard.Trail{func() trailguard.Trail { t := good(trailA); t.IsMultiRegion = false; return t }()}},
			events: []Event{ev("CreateTrail", day(3), trailA, createParams(trailA, false)), ev("StartLogging", day(4), trailA, nil)},
			wantIv: []iv{{0, 90, true}},
			wantFx: []string{EffectNoChange, EffectNoChange},
		},
		{
			name: "status_unreadable_now_is_uncertain_not_covered",
			now: trailguard.Account{ID: acct, Trails: []trailguard.Trail{func() trailguard.Trail {
				t := good(trailA)
				t.Status, t.StatusError = nil, "AccessDenied"
				return t
			}()}},
			wantIv: []iv{{0, 90, false}},
		},
		{
			name:    "organization_trail_stopped_in_the_management_account",
			now:     trailguard.Account{ID: acct, Trails: []trailguard.Trail{func() trailguard.Trail { t := good(orgT); t.IsOrganizationTrail = true; return t }()}},
			orgRead: true,
			events:  []Event{ev("StartLogging", day(1), orgT, nil), ev("StopLogging", day(50), orgT, nil), ev("StartLogging", day(51), orgT, nil)},
			wantIv:  []iv{{0, 1, false}, {50, 51, true}},
			wantFx:  []string{EffectUncertain, EffectBroke, EffectRestored},
		},
		{
			name:      "organization_trail_whose_management_events_were_not_read",
			now:       trailguard.Account{ID: acct, Trails: []trailguard.Trail{func() trailguard.Trail { t := good(orgT); t.IsOrganizationTrail = true; return t }()}},
			wantIv:    []iv{{0, 90, false}},
			wantNotes: "management account",
		},
		{
			name:    "management_accounts_own_trail_is_not_listed_for_a_member",
			now:     trailguard.Account{ID: acct, Trails: []trailguard.Trail{func() trailguard.Trail { t := good(orgT); t.IsOrganizationTrail = true; return t }()}},
			orgRead: true,
			events: []Event{ev("CreateTrail", day(3), "arn:aws:cloudtrail:us-east-1:222222222222:trail/private", createParams("arn:aws:cloudtrail:us-east-1:222222222222:trail/private", true)),
				ev("StopLogging", day(4), "arn:aws:cloudtrail:us-east-1:222222222222:trail/private", nil)},
			wantIv: nil,
			wantFx: []string{},
		},
		{
			name:   "another_accounts_ordinary_trail_events_are_ignored",
			now:    trailguard.Account{ID: acct, Trails: []trailguard.Trail{good(trailA)}},
			events: []Event{ev("StopLogging", day(5), "arn:aws:cloudtrail:us-east-1:333333333333:trail/x", nil)},
			wantIv: nil,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tl := Replay(Input{Now: tc.now, At: day(90), Since: day(0), Until: day(90), Events: tc.events, OrgEventsRead: tc.orgRead})
			var got []iv
			for _, u := range tl.Uncovered {
				got = append(got, iv{u.From.Sub(t0).Hours() / 24, u.To.Sub(t0).Hours() / 24, u.Certain})
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.wantIv) {
				t.Errorf("uncovered = %v, want %v", got, tc.wantIv)
			}
			var fx []string
			for _, c := range tl.Changes {
				fx = append(fx, c.Effect)
			}
			if tc.wantFx != nil && fmt.Sprint(fx) != fmt.Sprint(tc.wantFx) {
				t.Errorf("effects = %q, want %q", fx, tc.wantFx)
			}
			if tc.wantNotes != "" && !strings.Contains(strings.Join(tl.Notes, "\n"), tc.wantNotes) {
				t.Errorf("notes = %q, want one about %q", tl.Notes, tc.wantNotes)
			}
		})
	}
}

func TestReplayIncompleteHistoryIsUncertain(t *testing.T) {
	tl := Replay(Input{Now: trailguard.Account{ID: acct, Trails: []trailguard.Trail{good(trailA)}}, At: day(90), Since: day(0), Until: day(90),
		Incomplete: []string{"eu-west-1: event history could not be read: AccessDenied"}})
	if len(tl.Uncovered) != 1 || tl.Uncovered[0].Certain || !tl.Uncovered[0].From.Equal(day(0)) || !tl.Uncovered[0].To.Equal(day(90)) {
		t.Fatalf("uncovered = %+v, want the whole window uncertain", tl.Uncovered)
	}
}
