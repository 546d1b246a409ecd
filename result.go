package trailguard

import (
	"encoding/json"
	"sort"
	"time"
)

// Status is the verdict of the control for one account (or one IaC
// resource).
type Status string

const (
	StatusPass    Status = "PASS"
	StatusFail    Status = "FAIL"
	StatusUnknown Status = "UNKNOWN" // data needed for the verdict is missing
	StatusError   Status = "ERROR"   // the account could not be scanned
	StatusMuted   Status = "MUTED"   // an exception applies; the underlying status is kept
)

// Options change how the evaluator reads the control.
type Options struct {
	// Strict does not count a trail that excludes management event sources
	// (KMS, RDS Data API), as the AWS Config rule
	// multi-region-cloudtrail-enabled and Security Hub CloudTrail.1 do.
	Strict bool
	// RequireDelivery does not count a trail whose records do not arrive:
	// a delivery error (S3, digest files, CloudWatch Logs), a latest
	// delivery older than MaxDeliveryAge, or none since logging started
	// longer ago than that. Without it these are warnings: CIS 3.1 asks
	// that the trail logs, and a team that counts "logging but nothing
	// arrives" as not covered turns this on.
	RequireDelivery bool
	// MaxDeliveryAge is how old the latest delivery may be before it is
	// stale; 0 means DefaultMaxDeliveryAge.
	MaxDeliveryAge time.Duration
	// Now is the clock delivery ages are measured against; nil means the
	// wall clock. Tests and replays of old evidence set it.
	Now func() time.Time

	// noDelivery: the account is read from code, which has no delivery
	// state (see forAccount).
	noDelivery bool
}

// Result is the verdict for one account.
type Result struct {
	Account     string `json:"account"`
	AccountName string `json:"account_name,omitempty"`
	Status      Status `json:"status"`
	// Reasons say, for every non-PASS result, why.
	Reasons []string `json:"reasons"`
	// Warnings are findings that do not change the verdict: a passing
	// trail that fails to deliver, management event sources excluded.
	Warnings []string `json:"warnings,omitempty"`
	// CoveringTrail is the ARN of the trail that makes the account pass.
	CoveringTrail string `json:"covering_trail,omitempty"`
	// Delivery is the delivery health of the covering trail; with
	// RequireDelivery and no covering trail, of each trail that would
	// cover the account but for its delivery.
	Delivery []DeliveryHealth `json:"delivery,omitempty"`
	// Regions lists every region of the account (enabled or not) and the
	// trail that records its management events.
	Regions []RegionCoverage `json:"-"`
	Trails  []TrailVerdict   `json:"trails"`

	// File, Line and Resource place an IaC result in its source: the file,
	// the 1-based line of the resource, and its address
	// (module.audit.aws_cloudtrail.this[0], or a CloudFormation logical id).
	// Empty for live and evidence results.
	File     string `json:"file,omitempty"`
	Line     int    `json:"line,omitempty"`
	Resource string `json:"resource,omitempty"`
	// Decided is where the attribute that decided an IaC verdict is
	// written (is_multi_region_trail, enable_logging, the selector
	// block), or the resource when the default decided: SARIF points
	// there. Not in JSON: File and Line keep placing the resource.
	Decided *Position `json:"-"`

	// Underlying is the status a MUTED result has without its exception;
	// MuteReason says who muted it and why (mutelist entry or source
	// comment).
	Underlying Status `json:"underlying_status,omitempty"`
	MuteReason string `json:"mute_reason,omitempty"`
}

// Mute marks the result MUTED, keeping its status as Underlying. A PASS
// stays PASS: there is nothing to mute.
func (r *Result) Mute(reason string) {
	if r.Status == StatusPass || r.Status == StatusMuted {
		return
	}
	r.Underlying = r.Status
	r.Status = StatusMuted
	r.MuteReason = reason
}

// RegionCoverage says which trail, if any, covers one region.
type RegionCoverage struct {
	Region      string `json:"region"`
	OptInStatus string `json:"opt_in_status"`
	Enabled     bool   `json:"enabled"`
	// CoveredBy is the ARN of the trail that records all management events
	// in this region, or "" when none does.
	CoveredBy string `json:"covered_by,omitempty"`
}

// TrailVerdict is one trail as the evaluator judged it.
type TrailVerdict struct {
	Trail
	// Candidate is true for multi-region trails: only they can make the
	// account pass.
	Candidate bool `json:"candidate"`
	// Satisfies is true when the trail meets every condition of 3.1.
	Satisfies bool `json:"satisfies"`
	// Readable is false when its status or selectors could not be read.
	Readable bool `json:"readable"`
	// Management describes which management events the trail records, in
	// words ("all (read and write)", "read-only", "none", "unknown").
	Management string `json:"management_events"`
	// Excluded lists management event sources the trail leaves out.
	Excluded []string `json:"excluded_event_sources,omitempty"`
	// NotCounted says why a listed trail does not count for the account
	// at all: a trail of another account that is not an organization
	// trail.
	NotCounted string `json:"not_counted,omitempty"`
	// Rejected lists what AWS would refuse in the trail's configuration:
	// such a trail cannot be what runs in an account, so it never counts.
	Rejected []string `json:"rejected,omitempty"`
	// Problems say why the trail does not satisfy 3.1.
	Problems []string `json:"problems,omitempty"`
	// UnknownMultiRegion, UnknownLogging and UnknownSelectors carry, for a
	// trail in code, the expression a deciding value depends on when it
	// cannot be resolved statically (IaCTrail's fields of the same name).
	// The verdict was judged at a worst case, so the trail's own values
	// there (IsMultiRegion false, ...) are not what the code says: a report
	// shows "?" and the expression instead.
	UnknownMultiRegion string `json:"unknown_multi_region,omitempty"`
	UnknownLogging     string `json:"unknown_logging,omitempty"`
	UnknownSelectors   string `json:"unknown_selectors,omitempty"`

	// recordsHome: logging and recording all management events, so the
	// trail covers at least its home region.
	recordsHome bool
	// delivery and deliveryFindings are the trail's delivery health (nil
	// when it is not logging or its status was not read);
	// deliveryBlocked says RequireDelivery alone keeps it from
	// satisfying the control.
	delivery         *DeliveryHealth
	deliveryFindings []deliveryFinding
	deliveryBlocked  bool
}

// MarshalJSON writes the result with `regions` as DESIGN section 4 names
// it: enabled region → covering trail ARN or null. The full per-region
// detail, opt-in status included, goes to `region_details`.
func (r Result) MarshalJSON() ([]byte, error) {
	type plain Result
	regions := make(map[string]*string, len(r.Regions))
	for _, rc := range r.Regions {
		if !rc.Enabled {
			continue
		}
		if rc.CoveredBy == "" {
			regions[rc.Region] = nil
		} else {
			arn := rc.CoveredBy
			regions[rc.Region] = &arn
		}
	}
	details := r.Regions
	if details == nil {
		details = []RegionCoverage{}
	}
	reasons := r.Reasons
	if reasons == nil {
		reasons = []string{}
	}
	p := plain(r)
	p.Reasons = reasons
	if p.Trails == nil {
		p.Trails = []TrailVerdict{}
	}
	// coverage_established says whether a null in regions means "not
	// covered" (true) or "not established" (false: UNKNOWN or ERROR).
	return json.Marshal(struct {
		plain
		Regions             map[string]*string `json:"regions"`
		RegionDetails       []RegionCoverage   `json:"region_details"`
		CoverageEstablished bool               `json:"coverage_established"`
	}{p, regions, details, r.CoverageEstablished()})
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (r *Result) UnmarshalJSON(b []byte) error {
	type plain Result
	var v struct {
		plain
		Regions       map[string]*string `json:"regions"`
		RegionDetails []RegionCoverage   `json:"region_details"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*r = Result(v.plain)
	r.Regions = v.RegionDetails
	if len(r.Regions) == 0 && len(v.Regions) > 0 {
		names := make([]string, 0, len(v.Regions))
		for n := range v.Regions {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			rc := RegionCoverage{Region: n, Enabled: true}
			if p := v.Regions[n]; p != nil {
				rc.CoveredBy = *p
			}
			r.Regions = append(r.Regions, rc)
		}
	}
	return nil
}

// CoverageEstablished reports whether the result's regions tell which are
// covered. For an UNKNOWN or ERROR account (or one MUTED over either) they
// do not: a trail that could not be read may cover every region, so its
// regions are "not established", never "not covered" — and never covered.
func (r Result) CoverageEstablished() bool {
	s := r.Status
	if s == StatusMuted {
		s = r.Underlying
	}
	return s != StatusUnknown && s != StatusError
}

// UnestablishedRegions returns the enabled regions of a result whose
// coverage is not established (see CoverageEstablished) that no readable
// trail covers; nil otherwise.
func (r Result) UnestablishedRegions() []string {
	if r.CoverageEstablished() {
		return nil
	}
	return r.UncoveredRegions()
}

// UncoveredRegions returns the enabled regions no trail covers, whatever
// the verdict. Reports call a region "not covered" only when
// CoverageEstablished; else it is "not established".
func (r Result) UncoveredRegions() []string {
	var out []string
	for _, rc := range r.Regions {
		if rc.Enabled && rc.CoveredBy == "" {
			out = append(out, rc.Region)
		}
	}
	return out
}

// Summary counts results by status.
type Summary struct {
	Total   int `json:"total"`
	Pass    int `json:"pass"`
	Fail    int `json:"fail"`
	Unknown int `json:"unknown"`
	Error   int `json:"error"`
	Muted   int `json:"muted"`
	// UncoveredRegions is the number of enabled (account, region) pairs no
	// trail covers, in accounts whose data was read. Those of UNKNOWN and
	// ERROR accounts are counted apart, in UnestablishedRegions: whether a
	// trail covers them could not be told.
	UncoveredRegions     int `json:"uncovered_regions"`
	UnestablishedRegions int `json:"unestablished_regions"`
	// UnestablishedResults counts the UNKNOWN and ERROR results (MUTED
	// ones included), whose coverage is not established: an account that
	// could not be read at all has no region list, so UnestablishedRegions
	// alone would read 0 for it.
	UnestablishedResults int `json:"unestablished_results"`
	// TrailsFound is, for infrastructure code, how many trail resources
	// the code checked declares: 0 says plainly that no trail was found
	// (a result says it too). Nil for accounts, and for an interrupted
	// check, where the count would be incomplete.
	TrailsFound *int `json:"trails_found,omitempty"`
}

// Summarize counts the results.
func Summarize(results []Result) Summary {
	var s Summary
	for _, r := range results {
		s.Total++
		switch r.Status {
		case StatusPass:
			s.Pass++
		case StatusFail:
			s.Fail++
		case StatusUnknown:
			s.Unknown++
		case StatusError:
			s.Error++
		case StatusMuted:
			s.Muted++
		}
		if !r.CoverageEstablished() {
			s.UnestablishedResults++
			s.UnestablishedRegions += len(r.UnestablishedRegions())
		} else {
			s.UncoveredRegions += len(r.UncoveredRegions())
		}
	}
	return s
}

// ExitCode is the exit code DESIGN section 4 gives a set of results: 0 when
// all PASS or MUTED, 1 when one FAILs, 2 when none FAILs but one is UNKNOWN
// or ERROR.
func ExitCode(results []Result) int {
	code := 0
	for _, r := range results {
		switch r.Status {
		case StatusFail:
			return 1
		case StatusUnknown, StatusError:
			code = 2
		}
	}
	return code
}
