package trailguard

import "fmt"

// Position is a place in a source file: the file, and the 1-based line
// and column (in characters) where something is written. Line 0 means the
// place is the file as a whole. Sources hand positions over as data, so
// that reports point at them without parsing them out of text.
type Position struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Column int    `json:"column,omitempty"`
}

// IsZero reports whether no place is known.
func (p Position) IsZero() bool { return p.File == "" && p.Line == 0 }

// String is "file:line", as in the reasons people read; the column is
// left out so that a message names the line as every editor does.
func (p Position) String() string {
	if p.Line <= 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d", p.File, p.Line)
}

// PositionError is an error at a place in a source file: a file that does
// not parse, breaches a reader's limit, or declares something the tool it
// is written for rejects. Its message is the position followed by the
// cause ("main.tf:12: ..."); callers that place the error (a report)
// take Pos rather than parsing the message.
type PositionError struct {
	Pos Position
	Err error
}

// Error implements error.
func (e *PositionError) Error() string {
	return e.Pos.String() + ": " + e.Err.Error()
}

// Unwrap returns the cause, so errors.Is sees through the position.
func (e *PositionError) Unwrap() error { return e.Err }

// ErrorAt returns an error at file and line (0: the whole file) whose
// cause is formatted as fmt.Errorf formats it, %w included.
func ErrorAt(file string, line int, format string, args ...any) error {
	return &PositionError{Pos: Position{File: file, Line: line}, Err: fmt.Errorf(format, args...)}
}

// IaCPositions are the places in the source of the attributes that decide
// a trail's verdict. A zero Position means the attribute is not written
// (its default applies): a report then points at Resource.
type IaCPositions struct {
	// Resource is the resource's declaration (its block header or its
	// logical id).
	Resource Position
	// MultiRegion is is_multi_region_trail / IsMultiRegionTrail.
	MultiRegion Position
	// Logging is enable_logging / IsLogging.
	Logging Position
	// GlobalEvents is include_global_service_events /
	// IncludeGlobalServiceEvents: AWS rejects a multi-region trail
	// without them.
	GlobalEvents Position
	// Selectors is the first event_selector or advanced_event_selector
	// block (EventSelectors / AdvancedEventSelectors).
	Selectors Position
	// Exists is what decided that the trail is not created, or that
	// whether it is cannot be known: count, for_each, a precondition, a
	// CloudFormation Condition.
	Exists Position
}

// or is p, or def when p is not known.
func (p Position) or(def Position) Position {
	if p.IsZero() {
		return def
	}
	return p
}

// IaCTrail is a CloudTrail trail declared in infrastructure code
// (Terraform, a plan, CloudFormation), as a source read it: the trail as it
// would be deployed, and which deciding values the source could not
// resolve statically.
type IaCTrail struct {
	File     string
	Line     int
	Resource string // module.audit.aws_cloudtrail.this[0], or a logical id
	// Trail holds the settings as declared. Its Status is the declared
	// logging state and its Selectors the declared selectors — or, when
	// the code declares none, the AWS default (all management events):
	// what is known statically here needs no API call.
	Trail Trail
	// Unknown names the deciding values that could not be resolved, with
	// the expression ("is_multi_region_trail = var.multi_region: no
	// default and no value given"), by which part of the trail they decide.
	UnknownMultiRegion, UnknownLogging, UnknownSelectors string
	// UnknownExists names what decides whether the trail is created at all
	// when it cannot be known statically (count = var.n with no value, a
	// CloudFormation Condition on AWS::AccountId): whether a resource
	// exists is a fact like any other, so the worst case is "no trail".
	UnknownExists string
	// Absent says why the declared trail is not created with the values
	// given (count = 0, an empty for_each, a Condition that is false). A
	// trail that is not created covers nothing: the result is FAIL.
	Absent string
	// Ignore is the reason of a trailguard:ignore comment on the
	// resource; the result is then MUTED.
	Ignore string
	// Positions are where the deciding attributes are written, so that a
	// result points at the one that decided it.
	Positions IaCPositions
}

// DefaultSelectors is what a trail records when its code declares no
// selectors: every management event, read and write.
func DefaultSelectors() *EventSelectors {
	return &EventSelectors{Basic: []EventSelector{{ReadWriteType: "All", IncludeManagementEvents: true}}}
}

// EvaluateIaC judges one trail resource with the same evaluator as a live
// account holding only that trail. A value that could not be resolved is
// tried both ways: when the trail fails even with every unknown at its
// best, it is FAIL; when it passes even with every unknown at its worst,
// PASS; otherwise UNKNOWN, naming the expressions.
func EvaluateIaC(t IaCTrail, opts Options) Result {
	best, worst := t.Trail, t.Trail
	if t.UnknownMultiRegion != "" {
		best.IsMultiRegion, worst.IsMultiRegion = true, false
	}
	if t.UnknownLogging != "" {
		best.Status, worst.Status = &TrailStatus{IsLogging: true}, &TrailStatus{IsLogging: false}
	}
	if t.UnknownSelectors != "" {
		best.Selectors, worst.Selectors = DefaultSelectors(), &EventSelectors{}
	}
	judge := func(tr Trail) Result {
		return Evaluate(Account{Trails: []Trail{tr}, static: true}, opts)
	}
	res := judge(best)
	switch {
	case t.Absent != "":
		// Nothing is deployed: whatever the settings, nothing is recorded.
		res.Status = StatusFail
		res.Reasons = []string{"the trail is not created: " + t.Absent}
	case res.Status == StatusPass:
		w := judge(worst)
		if t.UnknownExists != "" && w.Status == StatusPass {
			// The worst case of an unknown existence is no trail at all.
			w.Status = StatusFail
		}
		if w.Status != StatusPass {
			res = w
			res.Status = StatusUnknown
			res.Reasons = nil
			for _, u := range []string{t.UnknownExists, t.UnknownMultiRegion, t.UnknownLogging, t.UnknownSelectors} {
				if u != "" {
					res.Reasons = append(res.Reasons, "cannot be resolved statically: "+u)
				}
			}
		}
	}
	res.Account, res.CoveringTrail = "", ""
	// The trail shown is the one judged, at its best or worst case: say
	// which of its values the code leaves open rather than show a guess.
	for i := range res.Trails {
		res.Trails[i].UnknownMultiRegion = t.UnknownMultiRegion
		res.Trails[i].UnknownLogging = t.UnknownLogging
		res.Trails[i].UnknownSelectors = t.UnknownSelectors
	}
	res.File, res.Line, res.Resource = t.File, t.Line, t.Resource
	at := t.decidingPosition(res.Status, best)
	res.Decided = &at
	if t.Ignore != "" {
		res.Mute("trailguard:ignore in the source: " + t.Ignore)
	}
	return res
}

// decidingPosition is where the attribute that decided the verdict is
// written: for a trail not created, or whose creation is unknown, what
// decided that; for UNKNOWN the first value that could not be resolved,
// for FAIL the first requirement the trail misses (multi-region, logging,
// global service events, selectors); else the resource itself.
func (t IaCTrail) decidingPosition(s Status, best Trail) Position {
	res := t.Positions.Resource
	if res.IsZero() {
		res = Position{File: t.File, Line: t.Line}
	}
	p := t.Positions
	switch {
	case t.Absent != "":
		return p.Exists.or(res)
	case s == StatusUnknown:
		switch {
		case t.UnknownExists != "":
			return p.Exists.or(res)
		case t.UnknownMultiRegion != "":
			return p.MultiRegion.or(res)
		case t.UnknownLogging != "":
			return p.Logging.or(res)
		case t.UnknownSelectors != "":
			return p.Selectors.or(res)
		}
	case s == StatusFail:
		switch {
		case !best.IsMultiRegion:
			return p.MultiRegion.or(res)
		case best.Status == nil || !best.Status.IsLogging:
			return p.Logging.or(res)
		case !best.IncludeGlobalServiceEvents:
			return p.GlobalEvents.or(res)
		default:
			return p.Selectors.or(res)
		}
	}
	return res
}

// UnreadResult is the result for a part of the code that was not read — a
// module from a registry or git, a local module directory that is missing,
// a nested stack: it may declare a trail or change one, so the check is
// incomplete and the result is UNKNOWN, naming the part. Never silence.
func UnreadResult(file string, line int, resource, why string) Result {
	return Result{
		Status:   StatusUnknown,
		Reasons:  []string{"not read: " + why},
		File:     file,
		Line:     line,
		Resource: resource,
	}
}
