// Package trailguard holds the domain of the tool: the accounts, trails and
// regions a source collects, and the CIS AWS Foundations v3.0.0
// recommendation 3.1 evaluator that turns them into results. It does no I/O
// and knows no AWS SDK type; sources (live AWS, evidence directory,
// infrastructure as code) fill these types and reports read the results.
package trailguard

import (
	"regexp"
	"time"
)

// Account is everything a source collected about one AWS account.
type Account struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	// Error is set when the account itself could not be read (no
	// credentials, DescribeTrails failed): the verdict is then ERROR.
	Error string `json:"error,omitempty"`
	// Trails are the trails DescribeTrails shows in the account, one per
	// ARN (shadow trails folded with FoldTrails), own and organization
	// trails alike.
	Trails []Trail `json:"trails"`
	// Regions are the regions EC2 DescribeRegions lists (all of them, with
	// opt-in status). Nil when they could not be read; RegionsError says why.
	Regions      []Region `json:"regions,omitempty"`
	RegionsError string   `json:"regions_error,omitempty"`
	// CallerARN is the identity the account was read as, when known.
	CallerARN string `json:"caller_arn,omitempty"`
	// ListingLost is set when the account's trail list is missing or
	// damaged evidence rather than a read that was refused (see
	// ShareTrailFacts): what it would have said cannot be known.
	ListingLost bool `json:"-"`
	// ReadAt is when the account's facts were collected, when that is
	// not now: evidence read later. Delivery ages are measured at it, so
	// that last month's evidence says how delivery stood last month
	// rather than that every trail has since gone stale. Zero: now.
	ReadAt time.Time `json:"-"`

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

// ValidTrailARN reports whether s is a trail ARN as CloudTrail prints it,
// arn:<partition>:cloudtrail:<region>:<account>:trail/<name>. Only such an
// ARN identifies a trail across listings and accounts: facts are keyed by
// it, never by an empty or made-up key.
func ValidTrailARN(s string) bool {
	return trailARNPattern.MatchString(s)
}

// trailARNPattern: partitions are aws, aws-cn, aws-us-gov, aws-iso...;
// region names are lower-case letters, digits and dashes; the account is
// twelve digits; trail names are letters, digits, '.', '_' and '-' (at
// most 128). Nothing else, so an ARN is also safe to print in a reason.
var trailARNPattern = regexp.MustCompile(`^arn:aws[a-z-]*:cloudtrail:[a-z0-9-]+:[0-9]{12}:trail/[A-Za-z0-9._-]{1,128}$`)
