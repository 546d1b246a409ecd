package history

import (
	"fmt"
	"sort"
	"time"

	"github.com/trailguard/trailguard"
)

// Verdict is the account's CIS 3.1 coverage at one moment of the window,
// as far as the state read now and the window's events can tell.
type Verdict string

const (
	Covered    Verdict = "covered"
	NotCovered Verdict = "not covered"
	// Uncertain: the history cannot decide. It is never shown as
	// covered: an interval that is not proven covered is reported as an
	// uncovered interval that is not certain.
	Uncertain Verdict = "uncertain"
)

// Effects of one event on the account's verdict, as the JSON and text
// reports print them.
const (
	EffectBroke     = "covered → not covered"
	EffectRestored  = "not covered → covered"
	EffectNoChange  = "no change"
	EffectUncertain = "uncertain"
)

// Input is what a replay needs: the state read now and the events of the
// window.
type Input struct {
	// Now is the account as the scan read it (trails with status and
	// selectors), At when it was read. The replay starts from it and
	// walks backwards, so it judges each moment with the scan's own
	// judge (trailguard.Passes) and never with rules of its own.
	Now trailguard.Account
	At  time.Time
	// Since and Until bound the window reported; events up to At are
	// replayed (an event after Until still changed the state between
	// Until and At).
	Since, Until time.Time
	// Events are the account's coverage events and, for a member of an
	// organization, the management account's events on organization
	// trails. Order and duplicates do not matter. Events of another
	// account count only for trails that are, or were made, organization
	// trails.
	Events []Event
	// OrgEventsRead says the management account's events are in Events:
	// without them, an organization trail of another account may have
	// changed at any moment, so every moment it decides is uncertain.
	OrgEventsRead bool
	// Incomplete lists why the events may not be all there were (a
	// region whose event history could not be read, a page lost): then
	// no moment before At can be proven, and each is uncertain.
	Incomplete []string
	Options    trailguard.Options
}

// Change is one event with its effect on the account's verdict.
type Change struct {
	Event
	Before Verdict `json:"before"`
	After  Verdict `json:"after"`
	Effect string  `json:"effect"`
}

// Interval is a period in the window when the account was not covered
// (Certain), or may not have been (not Certain: the history cannot
// prove it was covered). To is exclusive.
type Interval struct {
	From    time.Time `json:"from"`
	To      time.Time `json:"to"`
	Certain bool      `json:"certain"`
}

// Timeline is the replay of one account over the window.
type Timeline struct {
	Account      string
	Since, Until time.Time
	// Changes are the window's coverage events, oldest first, failed
	// calls included (they change nothing).
	Changes []Change
	// Uncovered are the periods not proven covered, oldest first.
	Uncovered []Interval
	// Notes say why some of the window is uncertain.
	Notes []string
}

// tri is a fact that is known true, known false, or not known.
type tri int8

const (
	unknown tri = iota
	no
	yes
)

func triOf(b bool) tri {
	if b {
		return yes
	}
	return no
}

// facts is what is known about one trail at one moment. Only the facts
// the control reads are tracked; the rest of the trail is as listed now
// (or as the event that created it said).
type facts struct {
	exists, logging, multi, global, org tri
	// sel is the trail's event selectors when selKnown.
	sel      *trailguard.EventSelectors
	selKnown bool
}

// merge combines what the backward walk (from the state now) and the
// forward walk (from earlier events of the window) know of one moment:
// a fact known to one side is known; two sides that disagree mean an
// event is missing, so the fact is not known.
func merge(a, b facts) facts {
	m := func(x, y tri) tri {
		switch {
		case x == unknown:
			return y
		case y == unknown || x == y:
			return x
		}
		return unknown
	}
	out := facts{exists: m(a.exists, b.exists), logging: m(a.logging, b.logging), multi: m(a.multi, b.multi), global: m(a.global, b.global), org: m(a.org, b.org)}
	switch {
	case a.selKnown && b.selKnown:
		if sameSelectors(a.sel, b.sel) {
			out.sel, out.selKnown = a.sel, true
		}
	case a.selKnown:
		out.sel, out.selKnown = a.sel, true
	case b.selKnown:
		out.sel, out.selKnown = b.sel, true
	}
	return out
}

// trailTrack is one trail through the window.
type trailTrack struct {
	base trailguard.Trail // as listed now, or as made from its ARN
	// foreignOrg: another account's trail whose changes were not read.
	unread bool
}

// Replay reconstructs the account's coverage over the window from the
// state read now and the window's events.
func Replay(in Input) Timeline {
	tl := Timeline{Account: in.Now.ID, Since: in.Since, Until: in.Until}
	events := relevant(in)
	tl.Notes = append(tl.Notes, in.Incomplete...)
	doubtAll := len(in.Incomplete) > 0
	if in.Now.Error != "" {
		tl.Notes = append(tl.Notes, "the account's trails could not be read now ("+in.Now.Error+"): no moment can be replayed")
		doubtAll = true
	}
	var late []string
	for _, e := range events {
		if e.Time.After(in.At) {
			late = append(late, e.Name+" at "+e.Time.UTC().Format(time.RFC3339))
		}
	}
	if len(late) > 0 {
		tl.Notes = append(tl.Notes, fmt.Sprintf("%d event(s) after the state was read (%s): the state may not show them", len(late), late[0]))
		doubtAll = true
	}

	// Trails: those listed now and those the events name.
	var arns []string
	tracks := map[string]*trailTrack{}
	nowFacts := map[string]facts{}
	for _, t := range trailguard.FoldTrails(in.Now.Trails) {
		key := t.ARN
		if key == "" {
			key = "name:" + t.Name
		}
		if _, dup := tracks[key]; dup {
			continue
		}
		arns = append(arns, key)
		tr := &trailTrack{base: t}
		tr.unread = !in.OrgEventsRead && t.IsOrganizationTrail && in.Now.ID != "" && t.OwnerAccount() != "" && t.OwnerAccount() != in.Now.ID
		tracks[key] = tr
		nowFacts[key] = factsOf(t)
	}
	for _, e := range events {
		if e.TrailARN == "" {
			continue
		}
		if _, ok := tracks[e.TrailARN]; ok {
			continue
		}
		arns = append(arns, e.TrailARN)
		tracks[e.TrailARN] = &trailTrack{base: trailFromARN(e.TrailARN, e.TrailName)}
		// Not listed now: an own trail does not exist now; another
		// account's trail may exist, but is not an organization trail
		// (the account would list it).
		nowFacts[e.TrailARN] = facts{exists: no}
		if foreign(in.Now.ID, e.TrailARN) {
			nowFacts[e.TrailARN] = facts{org: no}
		}
	}
	for _, key := range arns {
		if tracks[key].unread {
			tl.Notes = append(tl.Notes, "organization trail "+key+" is changed in the management account, whose event history was not read: the moments it decides are uncertain")
		}
	}

	// Successful events are the state's boundaries; events at the same
	// second are one step (their order is not known).
	var steps [][]int // indexes into events of successful calls
	for i, e := range events {
		if e.Failed() {
			continue
		}
		if n := len(steps); n > 0 && events[steps[n-1][0]].Time.Equal(e.Time) {
			steps[n-1] = append(steps[n-1], i)
			continue
		}
		steps = append(steps, []int{i})
	}
	// seg[k] is the state before step k; seg[len(steps)] is the state now.
	back := make([]map[string]facts, len(steps)+1)
	back[len(steps)] = nowFacts
	for k := len(steps) - 1; k >= 0; k-- {
		back[k] = stepBack(back[k+1], events, steps[k])
	}
	fwd := make([]map[string]facts, len(steps)+1)
	fwd[0] = map[string]facts{}
	for k := range steps {
		fwd[k+1] = stepForward(fwd[k], events, steps[k])
	}
	verdicts := make([]Verdict, len(steps)+1)
	states := make([]map[string]facts, len(steps)+1)
	for k := range verdicts {
		if doubtAll {
			verdicts[k] = Uncertain
			continue
		}
		state := map[string]facts{}
		for _, key := range arns {
			f := merge(back[k][key], fwd[k][key])
			if tracks[key].unread && k < len(steps) {
				f = facts{}
			}
			state[key] = f
		}
		states[k] = state
		verdicts[k] = judge(in, arns, tracks, state)
	}
	// The last segment reaches to now; an unread organization trail may
	// have changed anywhere in it, but not at the instant read.
	lastDoubt := false
	for _, key := range arns {
		if tracks[key].unread {
			lastDoubt = true
		}
	}

	// Changes, in time order, each with the verdict before and after.
	stepOf := map[int]int{}
	for k, s := range steps {
		for _, i := range s {
			stepOf[i] = k
		}
	}
	segAt := func(t time.Time) int {
		// The segment holding t: steps at or before t have happened.
		return sort.Search(len(steps), func(k int) bool { return events[steps[k][0]].Time.After(t) })
	}
	for i, e := range events {
		if e.Time.Before(in.Since) || e.Time.After(in.Until) {
			continue
		}
		c := Change{Event: e}
		if foreign(in.Now.ID, e.TrailARN) {
			// Another account's trail bears on this one only while it
			// is (or may be) an organization trail.
			k := segAt(e.Time)
			if !e.Failed() {
				k = stepOf[i]
			}
			notOrg := func(f facts) bool { return f.org == no || f.exists == no }
			if notOrg(states[k][e.TrailARN]) && notOrg(states[min(k+1, len(steps))][e.TrailARN]) {
				continue
			}
		}
		if e.Failed() {
			k := segAt(e.Time)
			v := verdictAt(verdicts, k, len(steps), lastDoubt)
			if k > 0 && events[steps[k-1][0]].Time.Equal(e.Time) && verdictAt(verdicts, k-1, len(steps), lastDoubt) != v {
				// Refused in the same second as a change: whether it
				// came before or after the change is not known.
				v = Uncertain
			}
			c.Before, c.After, c.Effect = v, v, EffectNoChange
		} else {
			k := stepOf[i]
			c.Before = verdictAt(verdicts, k, len(steps), lastDoubt)
			c.After = verdictAt(verdicts, k+1, len(steps), lastDoubt)
			c.Effect = effect(c.Before, c.After)
		}
		tl.Changes = append(tl.Changes, c)
	}

	// Uncovered intervals, clipped to the window.
	bound := func(k int) time.Time { // start of segment k
		if k == 0 {
			return in.Since
		}
		return events[steps[k-1][0]].Time
	}
	end := func(k int) time.Time {
		if k == len(steps) {
			return in.Until
		}
		return events[steps[k][0]].Time
	}
	for k := range verdicts {
		from, to := bound(k), end(k)
		if from.Before(in.Since) {
			from = in.Since
		}
		if to.After(in.Until) {
			to = in.Until
		}
		if !from.Before(to) {
			continue
		}
		v := verdictAt(verdicts, k, len(steps), lastDoubt)
		if v == Covered {
			continue
		}
		iv := Interval{From: from, To: to, Certain: v == NotCovered}
		if n := len(tl.Uncovered); n > 0 && tl.Uncovered[n-1].To.Equal(from) && tl.Uncovered[n-1].Certain == iv.Certain {
			tl.Uncovered[n-1].To = to
			continue
		}
		tl.Uncovered = append(tl.Uncovered, iv)
	}
	return tl
}

// verdictAt is the verdict of segment k; the last one (up to now) is
// in doubt when an unread organization trail decides it, since it may
// have changed in the segment, though not at the instant read.
func verdictAt(vs []Verdict, k, last int, lastDoubt bool) Verdict {
	if k == last && lastDoubt && vs[k] == Covered {
		return Uncertain
	}
	return vs[k]
}

func effect(before, after Verdict) string {
	switch {
	case before == Uncertain || after == Uncertain:
		return EffectUncertain
	case before == after:
		return EffectNoChange
	case after == NotCovered:
		return EffectBroke
	}
	return EffectRestored
}

// foreign reports whether the trail belongs to another account than the
// one replayed.
func foreign(account, arn string) bool {
	owner := trailguard.ARNAccount(arn)
	return account != "" && owner != "" && owner != account
}

// relevant returns the events, oldest first, each once. Another
// account's events count through the judge: its trails count only while
// they are organization trails.
func relevant(in Input) []Event {
	seen := map[string]bool{}
	var out []Event
	for _, e := range in.Events {
		if e.ID != "" {
			if seen[e.ID] {
				continue
			}
			seen[e.ID] = true
		}
		out = append(out, e)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out
}

// factsOf reads what the listing now says of a trail. A fact that could
// not be read, or that two sources disagree on, is not known.
func factsOf(t trailguard.Trail) facts {
	f := facts{exists: yes, multi: triOf(t.IsMultiRegion), global: triOf(t.IncludeGlobalServiceEvents), org: triOf(t.IsOrganizationTrail)}
	if t.Conflict != "" {
		return facts{exists: yes}
	}
	if t.Status != nil {
		f.logging = triOf(t.Status.IsLogging)
	}
	if t.Selectors != nil {
		f.sel, f.selKnown = t.Selectors, true
	}
	return f
}

func trailFromARN(arn, name string) trailguard.Trail {
	t := trailguard.Trail{ARN: arn, Name: name, HomeRegion: trailguard.ARNRegion(arn)}
	if i := lastSlash(arn); i >= 0 && t.Name == "" {
		t.Name = arn[i+1:]
	}
	return t
}

func lastSlash(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '/' {
			return i
		}
	}
	return -1
}

// touched lists which facts a successful event sets.
type touched struct {
	exists, logging, multi, global, org, sel bool
}

func touches(e Event) touched {
	switch e.Name {
	case "CreateTrail", "DeleteTrail":
		return touched{exists: true, logging: true, multi: true, global: true, org: true, sel: true}
	case "StartLogging", "StopLogging":
		return touched{logging: true}
	case "PutEventSelectors":
		return touched{sel: true}
	case "UpdateTrail":
		t := touched{}
		_, t.multi = boolParam(e.RequestParameters, "isMultiRegionTrail")
		_, t.global = boolParam(e.RequestParameters, "includeGlobalServiceEvents")
		_, t.org = boolParam(e.RequestParameters, "isOrganizationTrail")
		if !t.multi && !t.global && !t.org && !knownUpdateParams(e.RequestParameters) {
			// The request was not recorded in a form read here: any of
			// the settings may have changed.
			t.multi, t.global, t.org = true, true, true
		}
		return t
	}
	return touched{}
}

// knownUpdateParams reports whether an UpdateTrail request was recorded
// (it names the trail), so that settings it leaves out are known to be
// unchanged.
func knownUpdateParams(p map[string]any) bool {
	_, ok := p["name"].(string)
	return ok
}

// targets returns the trails an event acts on: the one it names, or —
// when it names none that could be resolved — every trail, since it may
// have been any of them.
func targets(e Event, state map[string]facts) []string {
	if e.TrailARN != "" {
		return []string{e.TrailARN}
	}
	var out []string
	for k := range state {
		out = append(out, k)
	}
	return out
}

func clone(m map[string]facts) map[string]facts {
	out := make(map[string]facts, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// stepBack derives what is known before a step from what is known after
// it. A call that succeeded proves the trail existed before it (or, for
// CreateTrail, that it did not); what it set was something else before
// and is not known from the calls alone (StopLogging succeeds on a
// stopped trail too, PutEventSelectors on the same selectors), so the
// forward walk must supply it.
func stepBack(after map[string]facts, events []Event, step []int) map[string]facts {
	before := clone(after)
	count := map[string]int{}
	for _, i := range step {
		for _, k := range targets(events[i], after) {
			count[k]++
		}
	}
	for _, i := range step {
		e := events[i]
		named := e.TrailARN != ""
		for _, k := range targets(e, after) {
			f := before[k]
			t := touches(e)
			forget(&f, t)
			if named && count[k] == 1 {
				switch e.Name {
				case "CreateTrail":
					f = facts{exists: no}
				case "DeleteTrail", "StartLogging", "StopLogging", "PutEventSelectors", "UpdateTrail":
					f.exists = yes
				}
			}
			before[k] = f
		}
	}
	return before
}

// stepForward derives what is known after a step from what is known
// before it: what each call set, read from its request.
func stepForward(before map[string]facts, events []Event, step []int) map[string]facts {
	after := clone(before)
	count := map[string]int{}
	for _, i := range step {
		if events[i].TrailARN != "" {
			count[events[i].TrailARN]++
		}
	}
	for _, i := range step {
		e := events[i]
		if e.TrailARN == "" {
			// Which trail it changed is not known: whatever it sets is
			// no longer known of any trail.
			for k, f := range after {
				forget(&f, touches(e))
				after[k] = f
			}
			continue
		}
		k := e.TrailARN
		f := after[k]
		if count[k] > 1 {
			// Several calls on one trail in one second: their order,
			// and so the result, is not known.
			forget(&f, touches(e))
			after[k] = f
			continue
		}
		p := e.RequestParameters
		switch e.Name {
		case "CreateTrail":
			// A new trail does not log until StartLogging, and records
			// all management events until selectors are put.
			f = facts{exists: yes, logging: no, multi: paramTri(p, "isMultiRegionTrail", no), global: paramTri(p, "includeGlobalServiceEvents", yes), org: paramTri(p, "isOrganizationTrail", no)}
			f.sel, f.selKnown = &trailguard.EventSelectors{Basic: []trailguard.EventSelector{{ReadWriteType: "All", IncludeManagementEvents: true}}}, true
		case "DeleteTrail":
			f = facts{exists: no}
		case "StartLogging":
			f.exists, f.logging = yes, yes
		case "StopLogging":
			f.exists, f.logging = yes, no
		case "PutEventSelectors":
			f.exists = yes
			f.sel, f.selKnown = selectorsFrom(p)
		case "UpdateTrail":
			f.exists = yes
			t := touches(e)
			if t.multi {
				f.multi = paramTri(p, "isMultiRegionTrail", unknown)
			}
			if t.global {
				f.global = paramTri(p, "includeGlobalServiceEvents", unknown)
			}
			if t.org {
				f.org = paramTri(p, "isOrganizationTrail", unknown)
			}
		}
		after[k] = f
	}
	return after
}

func forget(f *facts, t touched) {
	if t.exists {
		f.exists = unknown
	}
	if t.logging {
		f.logging = unknown
	}
	if t.multi {
		f.multi = unknown
	}
	if t.global {
		f.global = unknown
	}
	if t.org {
		f.org = unknown
	}
	if t.sel {
		f.sel, f.selKnown = nil, false
	}
}

// judge decides one moment with the scan's judge: the account is
// certainly covered when it passes with every unknown fact at its worst,
// certainly not covered when it fails with every unknown fact at its
// best, and uncertain otherwise.
func judge(in Input, arns []string, tracks map[string]*trailTrack, state map[string]facts) Verdict {
	worst := trailguard.Account{ID: in.Now.ID}
	best := trailguard.Account{ID: in.Now.ID}
	for _, key := range arns {
		f := state[key]
		base := tracks[key].base
		if f.exists == yes {
			worst.Trails = append(worst.Trails, instantiate(base, f, false))
		}
		if f.exists != no {
			best.Trails = append(best.Trails, instantiate(base, f, true))
		}
	}
	switch {
	case trailguard.Passes(worst, in.Options):
		return Covered
	case !trailguard.Passes(best, in.Options):
		return NotCovered
	}
	return Uncertain
}

// allManagement is the selector a trail records every management event
// with: the best an unknown selector can be.
var allManagement = trailguard.EventSelectors{Basic: []trailguard.EventSelector{{ReadWriteType: "All", IncludeManagementEvents: true}}}

// instantiate makes the trail of one moment, each unknown fact at its
// best (optimistic) or its worst.
func instantiate(base trailguard.Trail, f facts, optimistic bool) trailguard.Trail {
	t := base
	pick := func(x tri) bool {
		if x == unknown {
			return optimistic
		}
		return x == yes
	}
	t.IsMultiRegion = pick(f.multi)
	t.IncludeGlobalServiceEvents = pick(f.global)
	t.IsOrganizationTrail = pick(f.org)
	t.Conflict = ""
	t.StatusError, t.SelectorsError = "", ""
	t.Status = nil
	if f.logging != unknown || optimistic {
		t.Status = &trailguard.TrailStatus{IsLogging: pick(f.logging)}
	}
	t.Selectors = nil
	switch {
	case f.selKnown:
		t.Selectors = f.sel
	case optimistic:
		s := allManagement
		t.Selectors = &s
	}
	return t
}
