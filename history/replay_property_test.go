package history

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/trailguard/trailguard"
)

// simTrail is the true state of one trail in the forward simulation.
type simTrail struct {
	exists, logging, multi, org bool
	sel                         int // index into simSelectors
}

// simSelectors are the selector sets the simulation puts: some record
// every management event, some do not.
var simSelectors = []func() (*trailguard.EventSelectors, map[string]any){
	func() (*trailguard.EventSelectors, map[string]any) {
		return allMgmt(), map[string]any{"eventSelectors": []any{map[string]any{"readWriteType": "All", "includeManagementEvents": true}}}
	},
	func() (*trailguard.EventSelectors, map[string]any) {
		return readOnly(), map[string]any{"eventSelectors": []any{map[string]any{"readWriteType": "ReadOnly", "includeManagementEvents": true}}}
	},
	func() (*trailguard.EventSelectors, map[string]any) {
		return &trailguard.EventSelectors{Basic: []trailguard.EventSelector{{ReadWriteType: "All", IncludeManagementEvents: false}}},
			map[string]any{"eventSelectors": []any{map[string]any{"readWriteType": "All", "includeManagementEvents": false}}}
	},
	func() (*trailguard.EventSelectors, map[string]any) {
		return &trailguard.EventSelectors{Advanced: []trailguard.AdvancedEventSelector{{FieldSelectors: []trailguard.FieldSelector{{Field: "eventCategory", Equals: []string{"Management"}}}}}},
			map[string]any{"advancedEventSelectors": []any{map[string]any{"fieldSelectors": []any{map[string]any{"field": "eventCategory", "equals": []any{"Management"}}}}}}
	},
	func() (*trailguard.EventSelectors, map[string]any) {
		return &trailguard.EventSelectors{Advanced: []trailguard.AdvancedEventSelector{{FieldSelectors: []trailguard.FieldSelector{{Field: "eventCategory", Equals: []string{"Management"}}, {Field: "readOnly", Equals: []string{"false"}}}}}},
			map[string]any{"advancedEventSelectors": []any{map[string]any{"fieldSelectors": []any{
				map[string]any{"field": "eventCategory", "equals": []any{"Management"}}, map[string]any{"field": "readOnly", "equals": []any{"false"}}}}}}
	},
}

var simARNs = []string{trailA, "arn:aws:cloudtrail:eu-west-1:111111111111:trail/second", orgT}

// simAccount is the account as a scan would read the simulated state.
func simAccount(state []simTrail, unreadable []bool) trailguard.Account {
	a := trailguard.Account{ID: acct}
	for i, s := range state {
		if !s.exists || (i == 2 && !s.org) {
			continue // another account's trail is listed only as an organization trail
		}
		sel, _ := simSelectors[s.sel]()
		t := trailguard.Trail{ARN: simARNs[i], Name: simARNs[i][len("arn:aws:cloudtrail:us-east-1:111111111111:trail/"):], HomeRegion: trailguard.ARNRegion(simARNs[i]),
			IsMultiRegion: s.multi, IncludeGlobalServiceEvents: true, IsOrganizationTrail: s.org,
			Status: &trailguard.TrailStatus{IsLogging: s.logging}, Selectors: sel}
		if unreadable != nil && unreadable[i] {
			t.Status, t.StatusError = nil, "AccessDenied"
		}
		a.Trails = append(a.Trails, t)
	}
	return a
}

// TestReplayNeverClaimsWhatTheTruthDenies forward-simulates random
// event sequences from random start states, replays them backwards from
// the end state, and checks every moment: what the replay calls
// certainly not covered was not covered, and what it does not list as
// uncovered (so calls covered) was covered. The same holds for each
// event's before and after.
func TestReplayNeverClaimsWhatTheTruthDenies(t *testing.T) {
	const runs = 3000
	certain, total := 0, 0
	for run := 0; run < runs; run++ {
		r := rand.New(rand.NewPCG(uint64(run), 14))
		state := make([]simTrail, len(simARNs))
		for i := range state {
			state[i] = simTrail{exists: r.IntN(3) > 0, logging: r.IntN(2) == 0, multi: r.IntN(3) > 0, sel: r.IntN(len(simSelectors))}
			state[i].org = i == 2 && r.IntN(2) == 0
		}
		covered := func() bool { return trailguard.Passes(simAccount(state, nil), trailguard.Options{}) }
		type mark struct {
			at      time.Time
			covered bool
		}
		truth := []mark{{t0, covered()}}
		var events []Event
		at := t0
		n := r.IntN(12)
		for k := 0; k < n; k++ {
			if r.IntN(5) > 0 { // sometimes two calls in one second
				at = at.Add(time.Duration(1+r.IntN(5*24*3600)) * time.Second)
			}
			i := r.IntN(len(simARNs))
			arn := simARNs[i]
			s := &state[i]
			var e Event
			fail := ""
			prev := *s
			switch r.IntN(7) {
			case 0:
				multi := r.IntN(3) > 0
				p := createParams(arn, multi)
				org := i == 2 && r.IntN(2) == 0
				if i == 2 {
					p["isOrganizationTrail"] = org
				}
				e = ev("CreateTrail", at, arn, p)
				if s.exists {
					fail = "TrailAlreadyExistsException"
				} else {
					*s = simTrail{exists: true, multi: multi, org: org}
				}
			case 1:
				e = ev("DeleteTrail", at, arn, nil)
				if s.exists {
					*s = simTrail{}
				} else {
					fail = "TrailNotFoundException"
				}
			case 2, 3:
				name := "StartLogging"
				if r.IntN(2) == 0 {
					name = "StopLogging"
				}
				e = ev(name, at, arn, nil)
				if s.exists {
					s.logging = name == "StartLogging"
				} else {
					fail = "TrailNotFoundException"
				}
			case 4, 5:
				j := r.IntN(len(simSelectors))
				_, p := simSelectors[j]()
				p["trailName"] = arn
				e = ev("PutEventSelectors", at, arn, p)
				if s.exists {
					s.sel = j
				} else {
					fail = "TrailNotFoundException"
				}
			case 6:
				multi := r.IntN(2) == 0
				e = ev("UpdateTrail", at, arn, map[string]any{"name": arn, "isMultiRegionTrail": multi})
				if s.exists {
					s.multi = multi
				} else {
					fail = "TrailNotFoundException"
				}
			}
			if fail == "" && r.IntN(8) == 0 {
				// A denied call changes nothing.
				fail = "AccessDenied"
				*s = prev
			}
			e.ID = fmt.Sprintf("e%d", k)
			if fail != "" {
				e.ErrorCode = fail
			}
			events = append(events, e)
			truth = append(truth, mark{at, covered()})
		}
		end := at.Add(time.Hour)
		var unreadable []bool
		if r.IntN(6) == 0 {
			unreadable = []bool{r.IntN(2) == 0, r.IntN(2) == 0, r.IntN(2) == 0}
		}
		tl := Replay(Input{Now: simAccount(state, unreadable), At: end, Since: t0, Until: end, Events: events, OrgEventsRead: true})

		truthAt := func(x time.Time) bool { // state after every call at or before x
			c := truth[0].covered
			for _, m := range truth[1:] {
				if !m.at.After(x) {
					c = m.covered
				}
			}
			return c
		}
		// Probe each moment between distinct event times, and each event time.
		probes := []time.Time{t0}
		for _, m := range truth[1:] {
			probes = append(probes, m.at)
		}
		var points []time.Time
		for i, p := range probes {
			points = append(points, p)
			next := end
			if i+1 < len(probes) {
				next = probes[i+1]
			}
			if next.After(p) {
				points = append(points, p.Add(next.Sub(p)/2))
			}
		}
		for _, x := range points {
			if !x.Before(end) {
				continue
			}
			total++
			var in *Interval
			for k := range tl.Uncovered {
				if !x.Before(tl.Uncovered[k].From) && x.Before(tl.Uncovered[k].To) {
					in = &tl.Uncovered[k]
				}
			}
			switch {
			case in == nil && !truthAt(x):
				t.Fatalf("run %d: replay says covered at %s, truth is not covered\nevents: %s\nuncovered: %+v", run, x, describe(events), tl.Uncovered)
			case in != nil && in.Certain && truthAt(x):
				t.Fatalf("run %d: replay says certainly not covered at %s, truth is covered\nevents: %s\nuncovered: %+v", run, x, describe(events), tl.Uncovered)
			}
			if in == nil || in.Certain {
				certain++
			}
		}
		for _, c := range tl.Changes {
			before := truthAt(c.Time.Add(-time.Nanosecond))
			after := truthAt(c.Time)
			if (c.Before == Covered && !before) || (c.Before == NotCovered && before) ||
				(!c.Failed() && ((c.After == Covered && !after) || (c.After == NotCovered && after))) {
				t.Fatalf("run %d: %s at %s: replay %s → %s, truth %v → %v\nevents: %s", run, c.Name, c.Time, c.Before, c.After, before, after, describe(events))
			}
		}
	}
	t.Logf("%d of %d probed moments decided (the rest uncertain)", certain, total)
}

func describe(events []Event) string {
	s := ""
	for _, e := range events {
		s += fmt.Sprintf("\n  %s %s %s %v err=%s", e.Time.Format(time.RFC3339), e.Name, e.TrailARN, e.RequestParameters, e.ErrorCode)
	}
	return s
}
