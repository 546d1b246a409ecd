package trailguard

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
	res.File, res.Line, res.Resource = t.File, t.Line, t.Resource
	if t.Ignore != "" {
		res.Mute("trailguard:ignore in the source: " + t.Ignore)
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
