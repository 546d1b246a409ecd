package trailguard

import (
	"fmt"
	"strings"
)

// This file holds the one merge of trails and their facts by ARN: within
// one listing (FoldTrails: shadow trails, an organization trail listed
// twice) and across the accounts of a scan (ShareTrailFacts). Both rest on
// copyGroup.merge, so a rule about whose facts count is written once.

// FoldTrails keeps one trail per ARN, in the order of first appearance: a
// multi-region trail listed once per region it shadows into, or an
// organization trail a member sees twice, is one trail. Sources fold their
// listings with it (so facts are asked once per trail), and the evaluator
// folds again to guard against a source that did not. Copies of one ARN
// lend each other the facts they lack, and copies that disagree are marked
// Conflict (see ShareTrailFacts). A trail without a real ARN (one declared
// in code, or a listing that lacks it) is never folded with another:
// nothing says two such entries are one trail. The input is not changed.
func FoldTrails(in []Trail) []Trail {
	idx := map[string]int{}
	var groups [][]Trail
	for _, t := range in {
		if !ValidTrailARN(t.ARN) {
			groups = append(groups, []Trail{t})
			continue
		}
		i, seen := idx[t.ARN]
		if !seen {
			idx[t.ARN] = len(groups)
			groups = append(groups, []Trail{t})
			continue
		}
		groups[i] = append(groups[i], t)
	}
	var out []Trail // nil when nothing is listed, as every source had it
	for _, g := range groups {
		if len(g) > 1 {
			copies := make([]*Trail, len(g))
			for k := range g {
				copies[k] = &g[k]
			}
			cg := copyGroup{copies: copies, accounts: make([]string, len(g)), owner: -1}
			cg.merge()
		}
		out = append(out, g[0])
	}
	return out
}

// ShareTrailFacts fills, in every account, the status and selectors of a
// trail that could not be read there but were read in another account of
// the same scan (an organization trail read in the management account
// answers for every member).
//
// Facts belong to exactly one trail, so they are shared only under a real
// trail ARN (see ValidTrailARN): a trail listed without one never lends nor
// receives facts, since nothing ties it to any other listing. A trail
// listed by an account other than its owner takes part only as an
// organization trail: no other trail of another account records this
// account's events, and no account can read the status of another's
// ordinary trail, so facts it claims to have are not lent either.
//
// The owner's read is the authority. When the account that owns the trail
// (the account in its ARN) is in the scan and read the fact, the others
// take it when theirs was refused, and one whose own read disagrees gets
// Conflict naming both sources; the owner keeps its verdict. When the
// owner is not in the scan, or its read was refused, the other reads are
// peers: any two that disagree make every copy Conflict. Either way a
// contradiction never passes.
//
// Only a refused read is filled from elsewhere. Evidence that is lost — a
// file missing without a recorded refusal, damaged, or left from another
// collection (Trail.StatusLost, Trail.SelectorsLost, Account.ListingLost)
// — might have said something else: such a copy receives nothing, and when
// it is the owner's (or a peer's, without the owner's read), no copy keeps
// that fact; the same holds, for an organization trail, when an account's
// trail list itself is lost. So taking away or corrupting one file never
// turns a verdict into PASS.
//
// It fills the accounts it is given, in place; EvaluateAll shares on a
// copy and leaves its caller's accounts as their sources read them.
func ShareTrailFacts(accounts []Account) {
	type ref struct{ a, t int }
	groups := map[string][]ref{}
	var order []string
	for i, a := range accounts {
		for j, t := range a.Trails {
			if !shareable(a, t) {
				continue
			}
			if _, seen := groups[t.ARN]; !seen {
				order = append(order, t.ARN)
			}
			groups[t.ARN] = append(groups[t.ARN], ref{i, j})
		}
	}
	for _, arn := range order {
		refs := groups[arn]
		owner := ARNAccount(arn)
		g := copyGroup{owner: -1}
		for k, r := range refs {
			g.copies = append(g.copies, &accounts[r.a].Trails[r.t])
			g.accounts = append(g.accounts, accounts[r.a].ID)
			if accounts[r.a].ID == owner && g.owner < 0 {
				g.owner = k
			}
		}
		org := false
		for _, c := range g.copies {
			org = org || c.IsOrganizationTrail
		}
		for _, a := range accounts {
			switch {
			case !a.ListingLost:
			case a.ID == owner && g.owner < 0:
				g.ownerLost = fmt.Sprintf("the evidence of account %s, which owns trail %s, is missing or damaged (%s): what it would say of the trail cannot be known", owner, arn, a.Error)
			case org && g.peerLost == "":
				// Any account of the organization may list its trail.
				g.peerLost = fmt.Sprintf("the trail list of account %s is missing or damaged (%s), and what it would say of organization trail %s cannot be known", a.ID, a.Error, arn)
			}
		}
		g.merge()
	}
}

// shareable reports whether the trail's facts may be shared across the
// accounts of a scan: it has a real ARN, and it counts for the account that
// lists it (its own trail, or an organization trail).
func shareable(a Account, t Trail) bool {
	if !ValidTrailARN(t.ARN) {
		return false
	}
	return t.IsOrganizationTrail || (a.ID != "" && t.OwnerAccount() == a.ID)
}

// copyGroup is every listing of one trail ARN in a scan (or in one
// account, for FoldTrails).
type copyGroup struct {
	copies   []*Trail
	accounts []string // account of each copy ("" inside one account)
	owner    int      // index of the owner's copy, -1 when not in the group
	// ownerLost is set when the owner account is in the scan but its
	// listing is lost, so it holds no copy.
	ownerLost string
	// peerLost is set, for an organization trail, when another account's
	// listing is lost: without the owner's read as the authority, that
	// account's read might have contradicted the others.
	peerLost string
}

// fact is one kind of fact a copy may hold: the status or the selectors.
type fact struct {
	name string
	has  func(*Trail) bool
	lost func(*Trail) bool
	key  func(*Trail) string // what decides the verdict, in words
	src  func(*Trail) string
	take func(to, from *Trail)
	drop func(t *Trail, why string)
}

var facts = []fact{
	{
		name: "status",
		has:  func(t *Trail) bool { return t.Status != nil },
		lost: func(t *Trail) bool { return t.Status == nil && t.StatusLost },
		key:  func(t *Trail) string { return loggingWords(t.Status.IsLogging) },
		src:  func(t *Trail) string { return t.StatusSource },
		take: func(to, from *Trail) {
			to.Status, to.StatusError, to.StatusSource = from.Status, "", from.StatusSource
		},
		drop: func(t *Trail, why string) { t.Status, t.StatusError = nil, joinNonEmpty(t.StatusError, why) },
	},
	{
		name: "event selectors",
		has:  func(t *Trail) bool { return t.Selectors != nil },
		lost: func(t *Trail) bool { return t.Selectors == nil && t.SelectorsLost },
		key:  func(t *Trail) string { return "the event selectors record " + selectorsKey(*t.Selectors) },
		src:  func(t *Trail) string { return t.SelectorsSource },
		take: func(to, from *Trail) {
			to.Selectors, to.SelectorsError, to.SelectorsSource = from.Selectors, "", from.SelectorsSource
		},
		drop: func(t *Trail, why string) { t.Selectors, t.SelectorsError = nil, joinNonEmpty(t.SelectorsError, why) },
	},
}

// from names where copy i's fact came from, for reasons.
func (g *copyGroup) from(i int, source string) string {
	acct := g.accounts[i]
	switch {
	case source != "" && acct != "":
		return source + " (account " + acct + ")"
	case source != "":
		return source
	case acct != "":
		return "the read in account " + acct
	}
	return "another listing of the trail"
}

func (g *copyGroup) merge() {
	conflicts := make([][]string, len(g.copies))
	all := func(msg string) {
		for i := range conflicts {
			conflicts[i] = append(conflicts[i], msg)
		}
	}
	// What the listings (DescribeTrails) say: the owner's listing is the
	// authority, else any two disagreeing listings conflict.
	ref := 0
	if g.owner >= 0 {
		ref = g.owner
	}
	for i, t := range g.copies {
		if i == ref {
			continue
		}
		for _, d := range listingDiffs(*g.copies[ref], *t) {
			msg := fmt.Sprintf("%s as %s lists it but %s as %s lists it", d[0], lister(g.accounts[ref]), d[1], lister(g.accounts[i]))
			if g.owner >= 0 {
				conflicts[i] = append(conflicts[i], msg)
			} else {
				all(msg)
			}
		}
	}
	for _, f := range facts {
		g.mergeFact(f, conflicts, all)
	}
	arn := g.copies[0].ARN
	for i, t := range g.copies {
		if len(conflicts[i]) == 0 {
			continue
		}
		c := "sources disagree about trail " + arn + ": " + strings.Join(uniq(conflicts[i]), "; ")
		if !strings.Contains(t.Conflict, c) {
			t.Conflict = joinNonEmpty(t.Conflict, c)
		}
	}
}

func (g *copyGroup) mergeFact(f fact, conflicts [][]string, all func(string)) {
	if g.ownerLost != "" {
		for _, t := range g.copies {
			if f.has(t) {
				f.drop(t, g.ownerLost)
			}
		}
		return
	}
	if g.owner >= 0 {
		o := g.copies[g.owner]
		switch {
		case f.has(o):
			for i, t := range g.copies {
				switch {
				case i == g.owner:
				case f.has(t):
					if f.key(t) != f.key(o) {
						conflicts[i] = append(conflicts[i], fmt.Sprintf("%s says %s, %s says %s", g.from(g.owner, f.src(o)), f.key(o), g.from(i, f.src(t)), f.key(t)))
					}
				case !f.lost(t):
					f.take(t, o)
				}
			}
			return
		case f.lost(o):
			why := fmt.Sprintf("the %s of trail %s in the evidence of account %s, which owns it, is missing or damaged (%s): what it would say cannot be known", f.name, o.ARN, g.accounts[g.owner], firstReason(o, f))
			for i, t := range g.copies {
				if i != g.owner && f.has(t) {
					f.drop(t, why)
				}
			}
			return
		}
	}
	// Peers: the owner is not in the group, or its read was refused.
	var with, lost []int
	for i, t := range g.copies {
		switch {
		case f.has(t):
			with = append(with, i)
		case f.lost(t) && i != g.owner:
			lost = append(lost, i)
		}
	}
	if len(lost) > 0 || g.peerLost != "" {
		why := g.peerLost
		if len(lost) > 0 {
			l := g.copies[lost[0]]
			why = fmt.Sprintf("the %s of trail %s in the evidence of %s is missing or damaged (%s) and may have said otherwise", f.name, l.ARN, lister(g.accounts[lost[0]]), firstReason(l, f))
		}
		for _, i := range with {
			f.drop(g.copies[i], why)
		}
		return
	}
	if len(with) == 0 {
		return
	}
	first := g.copies[with[0]]
	for _, i := range with[1:] {
		t := g.copies[i]
		if f.key(t) != f.key(first) {
			all(fmt.Sprintf("%s says %s, %s says %s", g.from(with[0], f.src(first)), f.key(first), g.from(i, f.src(t)), f.key(t)))
		}
	}
	for _, t := range g.copies {
		if !f.has(t) && !f.lost(t) {
			f.take(t, first)
		}
	}
}

func firstReason(t *Trail, f fact) string {
	if f.name == "status" {
		return t.StatusError
	}
	return t.SelectorsError
}

// listingDiffs compares what two listings (DescribeTrails) of one trail say
// about the members that decide the verdict.
func listingDiffs(a, b Trail) [][2]string {
	var out [][2]string
	flag := func(name string, x, y bool) {
		if x != y {
			out = append(out, [2]string{fmt.Sprintf("%s is %t", name, x), fmt.Sprintf("%t", y)})
		}
	}
	flag("IsMultiRegionTrail", a.IsMultiRegion, b.IsMultiRegion)
	flag("IsOrganizationTrail", a.IsOrganizationTrail, b.IsOrganizationTrail)
	flag("IncludeGlobalServiceEvents", a.IncludeGlobalServiceEvents, b.IncludeGlobalServiceEvents)
	if a.HomeRegion != "" && b.HomeRegion != "" && a.HomeRegion != b.HomeRegion {
		out = append(out, [2]string{"HomeRegion is " + a.HomeRegion, b.HomeRegion})
	}
	return out
}

// lister names the account whose listing is meant in a reason.
func lister(account string) string {
	if account == "" {
		return "another entry"
	}
	return "account " + account
}

func loggingWords(on bool) string {
	if on {
		return "it is logging"
	}
	return "it is not logging"
}

// selectorsKey is what the evaluator reads from a trail's selectors, in
// words: two sets of selectors with the same key decide the same verdict,
// whatever else (data events, selector names) differs.
func selectorsKey(s EventSelectors) string {
	if r := rejectedSelectors(s); len(r) > 0 {
		return "a configuration AWS rejects (" + strings.Join(r, "; ") + ")"
	}
	m := managementCoverage(s)
	return m.describe
}

func joinNonEmpty(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, "; ")
}
