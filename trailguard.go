// Package trailguard holds the domain of the tool: the accounts, trails and
// regions a source collects, and the CIS AWS Foundations v3.0.0
// recommendation 3.1 evaluator that turns them into results. It does no I/O
// and knows no AWS SDK type; sources (live AWS, evidence directory,
// infrastructure as code) fill these types and reports read the results.
package trailguard

import (
	"fmt"
	"regexp"
	"strings"
)

// Account is everything a source collected about one AWS account.
type Account struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	// Error is set when the account itself could not be read (no
	// credentials, DescribeTrails failed): the verdict is then ERROR.
	Error string `json:"error,omitempty"`
	// Trails are the trails DescribeTrails shows in the account, one per
	// ARN (shadow trails folded), own and organization trails alike.
	Trails []Trail `json:"trails"`
	// Regions are the regions EC2 DescribeRegions lists (all of them, with
	// opt-in status). Nil when they could not be read; RegionsError says why.
	Regions      []Region `json:"regions,omitempty"`
	RegionsError string   `json:"regions_error,omitempty"`
	// CallerARN is the identity the account was read as, when known.
	CallerARN string `json:"caller_arn,omitempty"`

	// static marks a snapshot read from code, not from an account: it has
	// no regions to list.
	static bool
}

// Region is one AWS region and whether the account may use it.
type Region struct {
	Name string `json:"name"`
	// OptInStatus is "opt-in-not-required", "opted-in" or "not-opted-in".
	OptInStatus string `json:"opt_in_status"`
}

// Enabled reports whether the account can use the region: regions that need
// no opt-in, and opt-in regions the account opted into.
func (r Region) Enabled() bool {
	return r.OptInStatus != "not-opted-in" && r.OptInStatus != OptInNotRead
}

// OptInNotRead is the opt-in status of a region whose status was not asked:
// an organization member that passes is not asked for its enabled regions,
// so its opt-in regions are listed with this status and not counted as
// enabled (regions that need no opt-in are enabled in every account).
const OptInNotRead = "not-read"

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
// Two sources that disagree about one trail (one says logging, the other
// not; different selectors; different multi-region or organization
// flags) are never reconciled: every listing of that ARN gets Conflict,
// naming both sources, and the evaluator cannot count the trail.
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
		copies := make([]*Trail, len(refs))
		owners := make([]string, len(refs))
		for k, r := range refs {
			copies[k] = &accounts[r.a].Trails[r.t]
			owners[k] = accounts[r.a].ID
		}
		mergeCopies(copies, owners)
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

// mergeCopies gives every copy of one trail (same ARN) the facts another
// copy read and it lacks, and marks every copy with Conflict when two
// copies disagree on a fact that decides the verdict. owners[i] is the
// account that listed copies[i] ("" inside one account).
func mergeCopies(copies []*Trail, owners []string) {
	var status, selectors *Trail
	var statusFrom, selectorsFrom string
	var conflicts []string
	from := func(i int, source string) string {
		switch {
		case source != "" && owners[i] != "":
			return source + " (account " + owners[i] + ")"
		case source != "":
			return source
		case owners[i] != "":
			return "the read in account " + owners[i]
		}
		return "another listing of the trail"
	}
	first := copies[0]
	for i, t := range copies {
		if i > 0 {
			for _, d := range listingDiffs(*first, *t) {
				conflicts = append(conflicts, fmt.Sprintf("%s as %s lists it but %s as %s lists it", d[0], lister(owners[0]), d[1], lister(owners[i])))
			}
		}
		if t.Status != nil {
			if status == nil {
				status, statusFrom = t, from(i, t.StatusSource)
			} else if status.Status.IsLogging != t.Status.IsLogging {
				conflicts = append(conflicts, fmt.Sprintf("%s says %s, %s says %s", statusFrom, loggingWords(status.Status.IsLogging), from(i, t.StatusSource), loggingWords(t.Status.IsLogging)))
			}
		}
		if t.Selectors != nil {
			if selectors == nil {
				selectors, selectorsFrom = t, from(i, t.SelectorsSource)
			} else if a, b := selectorsKey(*selectors.Selectors), selectorsKey(*t.Selectors); a != b {
				conflicts = append(conflicts, fmt.Sprintf("%s says the event selectors record %s, %s says %s", selectorsFrom, a, from(i, t.SelectorsSource), b))
			}
		}
	}
	conflict := ""
	if len(conflicts) > 0 {
		conflict = "sources disagree about trail " + first.ARN + ": " + strings.Join(uniq(conflicts), "; ")
	}
	for _, t := range copies {
		if t.Status == nil && status != nil {
			t.Status, t.StatusError, t.StatusSource = status.Status, "", status.StatusSource
		}
		if t.Selectors == nil && selectors != nil {
			t.Selectors, t.SelectorsError, t.SelectorsSource = selectors.Selectors, "", selectors.SelectorsSource
		}
		if conflict != "" && !strings.Contains(t.Conflict, conflict) {
			t.Conflict = joinNonEmpty(t.Conflict, conflict)
		}
	}
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

// ValidTrailARN reports whether s is a trail ARN as CloudTrail prints it,
// arn:<partition>:cloudtrail:<region>:<account>:trail/<name>. Only such an
// ARN identifies a trail across listings and accounts: facts are keyed by
// it, never by an empty or made-up key.
func ValidTrailARN(s string) bool {
	return trailARNPattern.MatchString(s)
}

// trailARNPattern: partitions are aws, aws-cn, aws-us-gov, aws-iso...;
// region names are lower-case letters, digits and dashes; the account is
// twelve digits; trail names are letters, digits, '.', '_' and '-' (3 to
// 128), but the pattern accepts any name without spaces or slashes so that
// only the identity, not the name rules, is checked here.
var trailARNPattern = regexp.MustCompile(`^arn:aws[a-z-]*:cloudtrail:[a-z0-9-]+:[0-9]{12}:trail/[^\s/]+$`)
