package trailguard

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// ControlID names the control trailguard proves.
const (
	ControlID    = "CIS-AWS-3.0.0-3.1"
	ControlTitle = "Ensure CloudTrail is enabled in all regions"
)

// Evaluate applies CIS AWS Foundations v3.0.0 recommendation 3.1 to one
// account. It is pure: everything it needs is in acct.
//
// The account passes when at least one multi-region trail is logging and
// records all management events, read and write. Data that could not be read
// never makes it pass: when no trail passes and a multi-region trail could
// not be read, the verdict is UNKNOWN; when the account itself could not be
// read, ERROR.
func Evaluate(acct Account, opts Options) Result {
	opts = opts.forAccount(acct)
	res := Result{Account: acct.ID, AccountName: acct.Name}
	trails := FoldTrails(acct.Trails)
	for _, t := range trails {
		res.Trails = append(res.Trails, judgeTrail(acct.ID, t, opts))
	}
	sort.SliceStable(res.Trails, func(i, j int) bool {
		a, b := res.Trails[i], res.Trails[j]
		if a.Candidate != b.Candidate {
			return a.Candidate
		}
		return a.ARN < b.ARN
	})

	covering := pickCovering(res.Trails)
	switch {
	case acct.Error != "":
		res.Status = StatusError
		res.Reasons = append(res.Reasons, "account could not be read: "+acct.Error)
	case covering != nil:
		res.Status = StatusPass
		res.CoveringTrail = covering.ARN
		res.Warnings = append(res.Warnings, trailWarnings(*covering)...)
		if covering.delivery != nil {
			res.Delivery = append(res.Delivery, *covering.delivery)
		}
	default:
		res.Status, res.Reasons = whyNotPass(res.Trails)
		// Under RequireDelivery, the trails that would cover the account
		// but for their delivery carry the fix: say it, and give their
		// delivery health.
		for _, v := range res.Trails {
			if v.deliveryBlocked && acct.Error == "" {
				res.Warnings = append(res.Warnings, v.delivery.Warnings...)
				res.Delivery = append(res.Delivery, *v.delivery)
			}
		}
	}
	res.Regions = regionCoverage(acct, res.Trails, covering)
	if acct.Regions == nil && acct.Error == "" && !acct.static {
		msg := "enabled regions could not be listed"
		if acct.RegionsError != "" {
			msg += ": " + acct.RegionsError
		}
		res.Warnings = append(res.Warnings, msg+"; the per-region table is incomplete")
	}
	return res
}

// EvaluateAll evaluates every account, after sharing trail facts across
// accounts by ARN (an organization trail read in the management account
// answers for its members; see ShareTrailFacts). It does not change
// accounts: the sharing is done on a copy, so the caller's snapshot stays
// what its sources read (and can be saved as evidence after evaluation).
func EvaluateAll(accounts []Account, opts Options) []Result {
	shared := cloneAccounts(accounts)
	ShareTrailFacts(shared)
	out := make([]Result, 0, len(shared))
	for _, a := range shared {
		out = append(out, Evaluate(a, opts))
	}
	return out
}

// cloneAccounts copies the accounts and their trail lists, which is all
// ShareTrailFacts writes to: it replaces a trail's Status and Selectors
// pointers and sets Conflict, and never writes through a pointer.
func cloneAccounts(in []Account) []Account {
	out := make([]Account, len(in))
	for i, a := range in {
		a.Trails = append([]Trail(nil), a.Trails...)
		out[i] = a
	}
	return out
}

// judgeTrail decides whether one trail satisfies every condition of 3.1
// for the account account ("" when not known, as for code).
func judgeTrail(account string, t Trail, opts Options) TrailVerdict {
	v := TrailVerdict{Trail: t, Candidate: t.IsMultiRegion, Management: "unknown"}
	v.Readable = t.Status != nil && t.Selectors != nil && t.Conflict == ""
	// ok: the trail records all management events of its home region;
	// with multi-region on top, it satisfies the control.
	ok := true
	if owner := t.OwnerAccount(); account != "" && owner != "" && owner != account && !t.IsOrganizationTrail {
		// Only an organization trail records the events of accounts other
		// than its owner's; a listing that shows another account's
		// ordinary trail proves nothing about this account.
		v.NotCounted = fmt.Sprintf("trail of account %s and not an organization trail: it records nothing of account %s", owner, account)
		v.Candidate = false
		ok = false
		v.Problems = append(v.Problems, v.NotCounted)
	}
	if !t.IsMultiRegion {
		region := t.HomeRegion
		if region == "" {
			region = "its own region"
		}
		v.Problems = append(v.Problems, "single-region trail: records "+region+" only")
	}
	if t.Conflict != "" {
		ok = false
		v.Problems = append(v.Problems, t.Conflict)
	}
	if r := Rejected(t); len(r) > 0 {
		ok = false
		v.Rejected = r
		v.Problems = append(v.Problems, RejectedPrefix+strings.Join(r, "; "))
	}
	if t.Status == nil {
		ok = false
		v.Problems = append(v.Problems, "logging status could not be read"+because(t.StatusError))
	} else if !t.Status.IsLogging {
		ok = false
		msg := "not logging"
		if t.Status.StopLoggingTime != nil {
			msg += " (stopped " + t.Status.StopLoggingTime.UTC().Format("2006-01-02 15:04:05 UTC") + ")"
		}
		v.Problems = append(v.Problems, msg)
	}
	if t.Selectors == nil {
		ok = false
		v.Problems = append(v.Problems, "event selectors could not be read"+because(t.SelectorsError))
	} else {
		m := managementCoverage(*t.Selectors)
		v.Management, v.Excluded = m.describe, m.excluded
		switch {
		case m.counts(opts):
			// Records every management event the control asks for.
		case !m.all:
			ok = false
			v.Problems = append(v.Problems, m.problem)
		default:
			ok = false
			v.Problems = append(v.Problems, "excludes management events from "+strings.Join(m.excluded, ", ")+" (not counted with --strict)")
		}
	}
	if !opts.noDelivery {
		v.delivery, v.deliveryFindings = judgeDelivery(t, opts)
	}
	if opts.RequireDelivery {
		okBefore := ok
		for _, f := range v.deliveryFindings {
			switch {
			case f.unknown:
				// Delivery is part of the control here: not knowing it
				// is not knowing the verdict.
				v.Readable = false
				ok = false
				v.Problems = append(v.Problems, f.problem+" (needed with --require-delivery)")
			case f.blocks:
				ok = false
				v.Problems = append(v.Problems, f.problem+" (not counted with --require-delivery)")
			}
		}
		v.deliveryBlocked = okBefore && !ok && t.IsMultiRegion && v.Candidate
	}
	v.recordsHome = ok
	v.Satisfies = ok && t.IsMultiRegion
	return v
}

// forAccount adapts the options to the account: a snapshot read from code
// has no delivery (its status is what the code declares, not what
// GetTrailStatus reported), so delivery is neither judged nor required.
//
// Facts collected earlier (evidence) are judged at their collection: the
// clock is then the account's ReadAt.
func (o Options) forAccount(acct Account) Options {
	if acct.static {
		o.RequireDelivery = false
		o.noDelivery = true
	}
	if !acct.ReadAt.IsZero() {
		at := acct.ReadAt
		o.Now = func() time.Time { return at }
	}
	return o
}

func because(reason string) string {
	if reason == "" {
		return ""
	}
	return ": " + reason
}

// coverage is what a trail's event selectors record of management events.
type coverage struct {
	all      bool     // one selector records all management events, read and write
	excluded []string // event sources that selector leaves out
	describe string   // in words, for people
	problem  string   // why not all, when !all
}

// counts reports whether the coverage satisfies 3.1: all management
// events, and with --strict none excluded (as the AWS Config rule
// multi-region-cloudtrail-enabled and Security Hub CloudTrail.1 read it).
func (c coverage) counts(opts Options) bool {
	return c.all && !(opts.Strict && len(c.excluded) > 0)
}

// managementCoverage reads the event selectors as CIS 3.1 does: one
// selector must, on its own, record all management events, read and write.
func managementCoverage(s EventSelectors) coverage {
	if len(s.Advanced) > 0 {
		return advancedCoverage(s.Advanced)
	}
	if len(s.Basic) > 0 {
		return basicCoverage(s.Basic)
	}
	return coverage{describe: "none", problem: "has no event selectors: records no management events"}
}

// complete describes a selector that records all management events, but
// for the sources it excludes.
func (c coverage) complete() coverage {
	c.describe = "all (read and write)"
	if len(c.excluded) > 0 {
		c.describe += " except " + strings.Join(c.excluded, ", ")
	}
	return c
}

func basicCoverage(sels []EventSelector) coverage {
	var best *coverage
	var partial []string
	for _, sel := range sels {
		if !sel.IncludeManagementEvents {
			continue
		}
		// ReadWriteType defaults to All in the CloudTrail API; sources set it,
		// an empty value only reaches here from hand-built input.
		rw := sel.ReadWriteType
		if rw == "" {
			rw = "All"
		}
		if rw != "All" {
			partial = append(partial, rwWords(rw))
			continue
		}
		c := coverage{all: true, excluded: sortedCopy(sel.ExcludeManagementEventSources)}
		if best == nil || len(c.excluded) < len(best.excluded) {
			best = &c
		}
	}
	if best != nil {
		return best.complete()
	}
	if len(partial) == 0 {
		return coverage{describe: "none", problem: "no event selector includes management events (IncludeManagementEvents is false in every selector)"}
	}
	partial = uniq(partial)
	return coverage{
		describe: strings.Join(partial, " and "),
		problem: "records " + strings.Join(partial, " and ") + " management events only: no single selector has IncludeManagementEvents true with ReadWriteType All" +
			splitNote(partial),
	}
}

func splitNote(kinds []string) string {
	if len(kinds) > 1 {
		return " (reads and writes in separate selectors do not satisfy the control)"
	}
	return ""
}

func rwWords(rw string) string {
	switch rw {
	case "ReadOnly":
		return "read-only"
	case "WriteOnly":
		return "write-only"
	}
	return "ReadWriteType " + rw
}

func advancedCoverage(sels []AdvancedEventSelector) coverage {
	var best *coverage
	var partial, problems []string
	for _, sel := range sels {
		if !sel.SelectsManagementEvents() {
			continue
		}
		c := coverage{all: true}
		var limits []string
		for _, f := range sel.FieldSelectors {
			switch f.Field {
			case "eventCategory":
			case "readOnly":
				c.all = false
				partial = append(partial, readOnlyWords(f))
			case "eventSource":
				// NotEquals (and the other negative operators) drop some
				// sources; positive operators keep only the sources named.
				if len(f.Equals)+len(f.StartsWith)+len(f.EndsWith) > 0 {
					c.all = false
					limits = append(limits, "eventSource limited to "+strings.Join(append(append(append([]string{}, f.Equals...), f.StartsWith...), f.EndsWith...), ", "))
				}
				c.excluded = append(c.excluded, f.NotEquals...)
				for _, p := range f.NotStartsWith {
					c.excluded = append(c.excluded, p+"*")
				}
				for _, p := range f.NotEndsWith {
					c.excluded = append(c.excluded, "*"+p)
				}
			default:
				c.all = false
				limits = append(limits, "field selector on "+f.Field+" limits which management events are recorded")
			}
		}
		if !c.all {
			problems = append(problems, limits...)
			continue
		}
		c.excluded = sortedCopy(c.excluded)
		if best == nil || len(c.excluded) < len(best.excluded) {
			best = &c
		}
	}
	if best != nil {
		return best.complete()
	}
	partial = uniq(partial)
	switch {
	case len(partial) > 0:
		return coverage{
			describe: strings.Join(partial, " and "),
			problem: "records " + strings.Join(partial, " and ") + " management events only: an advanced selector with a readOnly field selector does not record both reads and writes" +
				splitNote(partial),
		}
	case len(problems) > 0:
		return coverage{describe: "some", problem: "no advanced selector records all management events: " + strings.Join(uniq(problems), "; ")}
	}
	return coverage{describe: "none", problem: "no advanced event selector has eventCategory Equals Management: records no management events"}
}

func readOnlyWords(f FieldSelector) string {
	vals := map[string]bool{}
	for _, v := range f.Equals {
		vals[strings.ToLower(v)] = true
	}
	for _, v := range f.NotEquals {
		vals["!"+strings.ToLower(v)] = true
	}
	switch {
	case (vals["true"] || vals["!false"]) && !vals["false"] && !vals["!true"]:
		return "read-only"
	case (vals["false"] || vals["!true"]) && !vals["true"] && !vals["!false"]:
		return "write-only"
	}
	return "readOnly-filtered"
}

// pickCovering chooses, among the trails that satisfy 3.1, the one to name
// as covering the account: the one with the fewest warnings, then an
// account's own trail before an organization trail, then by ARN.
func pickCovering(vs []TrailVerdict) *TrailVerdict {
	var best *TrailVerdict
	for i := range vs {
		v := &vs[i]
		if !v.Satisfies || !v.Candidate {
			continue
		}
		if best == nil || better(*v, *best) {
			best = v
		}
	}
	return best
}

func better(a, b TrailVerdict) bool {
	wa, wb := len(trailWarnings(a)), len(trailWarnings(b))
	if wa != wb {
		return wa < wb
	}
	if a.IsOrganizationTrail != b.IsOrganizationTrail {
		return !a.IsOrganizationTrail
	}
	return a.ARN < b.ARN
}

// trailWarnings are findings on a satisfying trail that do not change the
// verdict but that people want to see.
func trailWarnings(v TrailVerdict) []string {
	var w []string
	if v.delivery != nil {
		w = append(w, v.delivery.Warnings...)
	}
	if len(v.Excluded) > 0 {
		w = append(w, fmt.Sprintf("trail %s excludes management events from %s: passes CIS 3.1 as written, fails with --strict (AWS Config multi-region-cloudtrail-enabled, Security Hub CloudTrail.1)", v.Name, strings.Join(v.Excluded, ", ")))
	}
	return w
}

// whyNotPass gives the verdict and reasons when no trail satisfies 3.1.
// A configuration AWS rejects is FAIL whatever else is missing: it cannot
// be what runs in the account. Contradictory or missing facts about any
// other candidate make the verdict UNKNOWN.
func whyNotPass(vs []TrailVerdict) (Status, []string) {
	var reasons, rejected []string
	var unreadable, candidates int
	for _, v := range vs {
		if !v.Candidate {
			continue
		}
		candidates++
		problems := v.Problems
		if len(v.Rejected) > 0 {
			rejected = append(rejected, fmt.Sprintf("%strail %s: %s", RejectedPrefix, trailRef(v), strings.Join(v.Rejected, "; ")))
			// Said once, in the rejection above; the trail's other
			// problems follow.
			problems = nil
			for _, p := range v.Problems {
				if !strings.HasPrefix(p, RejectedPrefix) {
					problems = append(problems, p)
				}
			}
		} else if !v.Readable {
			unreadable++
		}
		if len(problems) > 0 {
			reasons = append(reasons, fmt.Sprintf("multi-region trail %s: %s", trailRef(v), strings.Join(problems, "; ")))
		}
	}
	if candidates == 0 {
		if len(vs) == 0 {
			return StatusFail, []string{"no multi-region trail: DescribeTrails lists no trail at all (it shows every multi-region trail, whatever region it is asked in)"}
		}
		var names, foreign []string
		for _, v := range vs {
			switch {
			case v.NotCounted != "":
				foreign = append(foreign, fmt.Sprintf("%s: %s", trailRef(v), v.NotCounted))
			case v.HomeRegion == "":
				names = append(names, v.Name) // declared in code: no region yet
			default:
				names = append(names, fmt.Sprintf("%s (%s)", v.Name, v.HomeRegion))
			}
		}
		var out []string
		if len(names) > 0 {
			out = append(out, "no multi-region trail: only single-region trails "+strings.Join(names, ", "))
		} else {
			out = append(out, "no multi-region trail of this account or of its organization")
		}
		return StatusFail, append(out, foreign...)
	}
	if unreadable > 0 {
		head := fmt.Sprintf("no trail is known to satisfy the control, and %d multi-region trail(s) could not be read in full or were read differently by two sources: the verdict is unknown", unreadable)
		return StatusUnknown, append(append([]string{head}, rejected...), reasons...)
	}
	if len(rejected) > 0 {
		return StatusFail, append(rejected, reasons...)
	}
	for _, v := range vs {
		if v.deliveryBlocked {
			return StatusFail, append([]string{"no multi-region trail is logging, recording all management events (read and write) and delivering them (--require-delivery)"}, reasons...)
		}
	}
	return StatusFail, append([]string{"no multi-region trail is logging and recording all management events (read and write)"}, reasons...)
}

// trailRef names a trail in a reason: its ARN, or its name when it has none
// (a trail declared in code, or a listing without ARN).
func trailRef(v TrailVerdict) string {
	if v.ARN != "" {
		return v.ARN
	}
	return v.Name
}

// regionCoverage lists every region of the account and the trail that
// records its management events: the covering multi-region trail for every
// enabled region, or else a single-region trail that would satisfy the
// control in its own region.
func regionCoverage(acct Account, vs []TrailVerdict, covering *TrailVerdict) []RegionCoverage {
	local := map[string]string{}
	for _, v := range vs {
		// A single-region trail covers its own region when it would pass but
		// for being single-region.
		if v.Candidate || !v.recordsHome || v.HomeRegion == "" {
			continue
		}
		if _, taken := local[v.HomeRegion]; !taken {
			local[v.HomeRegion] = v.ARN
		}
	}
	out := make([]RegionCoverage, 0, len(acct.Regions))
	for _, r := range acct.Regions {
		rc := RegionCoverage{Region: r.Name, OptInStatus: r.OptInStatus, Enabled: r.Enabled()}
		if rc.Enabled {
			if covering != nil {
				rc.CoveredBy = covering.ARN
			} else {
				rc.CoveredBy = local[r.Name]
			}
		}
		out = append(out, rc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Region < out[j].Region })
	return out
}

func sortedCopy(in []string) []string {
	if len(in) == 0 {
		return nil
	}
	out := append([]string(nil), in...)
	sort.Strings(out)
	return uniq(out)
}

func uniq(in []string) []string {
	seen := map[string]bool{}
	out := in[:0:0]
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// RejectedPrefix starts every reason that names a configuration AWS
// refuses (CreateTrail, UpdateTrail, PutEventSelectors): such a trail can
// only exist in code or in hand-made evidence, never in an account, so it
// cannot pass.
const RejectedPrefix = "AWS rejects this configuration: "

// Management event sources a trail may leave out: the only values
// ExcludeManagementEventSources (basic selectors) and an eventSource
// NotEquals condition (advanced selectors for management events) accept
// (CloudTrail API reference, EventSelector and AdvancedFieldSelector).
var excludableSources = map[string]bool{"kms.amazonaws.com": true, "rdsdata.amazonaws.com": true}

// Fields an advanced selector for management events may use on a trail
// (AdvancedFieldSelector: "For CloudTrail management events, supported
// fields include eventCategory (required), eventSource, and readOnly").
var managementFields = map[string]bool{"eventCategory": true, "eventSource": true, "readOnly": true}

// Rejected lists what AWS would refuse in the trail's configuration, in
// the words of the rule broken; nil when AWS accepts it. Only rules that
// bear on recording management events are checked, each from the
// CloudTrail API reference:
//
//   - CreateTrail/UpdateTrail: a multi-region trail must include global
//     service events (InvalidParameterCombinationException);
//   - PutEventSelectors: basic and advanced selectors are exclusive;
//     ReadWriteType is ReadOnly, WriteOnly or All; ExcludeManagementEventSources
//     takes only kms.amazonaws.com and rdsdata.amazonaws.com;
//   - AdvancedFieldSelector: every selector has eventCategory, as Equals
//     with one value; readOnly only as Equals true or false; no field twice
//     in one selector; and for management events eventSource only as
//     NotEquals kms.amazonaws.com / rdsdata.amazonaws.com, and no field
//     but eventCategory, eventSource and readOnly.
func Rejected(t Trail) []string {
	var out []string
	if t.IsMultiRegion && !t.IncludeGlobalServiceEvents {
		out = append(out, "a multi-region trail must include global service events (IncludeGlobalServiceEvents is false)")
	}
	if t.Selectors != nil {
		out = append(out, rejectedSelectors(*t.Selectors)...)
	}
	return out
}

func rejectedSelectors(s EventSelectors) []string {
	var out []string
	if len(s.Basic) > 0 && len(s.Advanced) > 0 {
		out = append(out, "basic and advanced event selectors on one trail (a trail uses one kind or the other)")
	}
	for i, sel := range s.Basic {
		switch sel.ReadWriteType {
		case "ReadOnly", "WriteOnly", "All", "":
			// "" only comes from hand-built input; the API's default is All.
		default:
			out = append(out, fmt.Sprintf("event selector %d: ReadWriteType %q is not ReadOnly, WriteOnly or All", i+1, sel.ReadWriteType))
		}
		for _, src := range sel.ExcludeManagementEventSources {
			if !excludableSources[src] {
				out = append(out, fmt.Sprintf("event selector %d: ExcludeManagementEventSources %q is not one of kms.amazonaws.com, rdsdata.amazonaws.com", i+1, src))
			}
		}
	}
	for i, sel := range s.Advanced {
		where := fmt.Sprintf("advanced event selector %d", i+1)
		if sel.Name != "" {
			where += fmt.Sprintf(" (%q)", sel.Name)
		}
		// Rules for every advanced selector of a trail: eventCategory is
		// required, Equals with one value; readOnly is Equals true or
		// false; no field twice.
		management := sel.SelectsManagementEvents()
		seen := map[string]bool{}
		for _, f := range sel.FieldSelectors {
			if seen[f.Field] {
				out = append(out, fmt.Sprintf("%s: field %q appears more than once", where, f.Field))
			}
			seen[f.Field] = true
			switch f.Field {
			case "eventCategory":
				if len(f.Equals) != 1 || operators(f) != 1 {
					out = append(out, where+": eventCategory must use Equals with exactly one value")
				}
			case "readOnly":
				if operators(f) != 1 || len(f.Equals) == 0 {
					out = append(out, where+": readOnly takes only Equals")
				}
				for _, v := range f.Equals {
					if v != "true" && v != "false" {
						out = append(out, fmt.Sprintf("%s: readOnly Equals %q is not true or false", where, v))
					}
				}
			case "eventSource":
				if !management {
					continue
				}
				if operators(f) != 1 || len(f.NotEquals) == 0 {
					out = append(out, where+": for management events eventSource takes only NotEquals")
				}
				for _, v := range f.NotEquals {
					if !excludableSources[v] {
						out = append(out, fmt.Sprintf("%s: eventSource NotEquals %q is not one of kms.amazonaws.com, rdsdata.amazonaws.com", where, v))
					}
				}
			default:
				if management {
					out = append(out, fmt.Sprintf("%s: field %q is not supported for management events (only eventCategory, eventSource, readOnly)", where, f.Field))
				}
			}
		}
		if !seen["eventCategory"] {
			out = append(out, where+": has no eventCategory field, which every advanced selector requires")
		}
	}
	return out
}

// operators counts the operators a field selector uses.
func operators(f FieldSelector) int {
	n := 0
	for _, vals := range [][]string{f.Equals, f.StartsWith, f.EndsWith, f.NotEquals, f.NotStartsWith, f.NotEndsWith} {
		if len(vals) > 0 {
			n++
		}
	}
	return n
}
