package fix

import (
	"context"
	"fmt"

	"github.com/trailguard/trailguard"
)

// Report is what Run did for one account: the plan and, when it was
// applied, what was done and the verdict after. Its JSON is one entry of
// the "accounts" list `trailguard fix --format json` prints.
type Report struct {
	Plan
	Applied *Applied `json:"applied,omitempty"`

	code int
}

// Applied is what applying a plan did, as people and scripts read it.
type Applied struct {
	// Summary says in one sentence what was done and what failed.
	Summary string   `json:"summary"`
	Done    []Action `json:"done"`
	// Failed is the step that failed, FailedAPI its call; Error says why
	// in words, ErrorCode is the error code AWS answered with (e.g.
	// AccessDenied; "" when no answer came: a network failure, the
	// timeout) and ErrorDetail the error as the SDK gave it (with the
	// request id AWS Support asks for). NotDone lists the steps after
	// the failed one, which were not tried.
	Failed      Action   `json:"failed,omitempty"`
	FailedAPI   string   `json:"failed_api,omitempty"`
	ErrorCode   string   `json:"error_code,omitempty"`
	Error       string   `json:"error,omitempty"`
	ErrorDetail string   `json:"error_detail,omitempty"`
	NotDone     []Action `json:"not_done,omitempty"`
	// Undo says how to reverse, by hand, each step that was done.
	Undo []string `json:"undo,omitempty"`
	// StatusAfter and ReasonsAfter are the verdict of the scan made once
	// the steps were done.
	StatusAfter  string   `json:"status_after,omitempty"`
	ReasonsAfter []string `json:"reasons_after,omitempty"`
}

// ExitCode is the exit code the account's outcome calls for, by the rule
// of `scan`: 0 when it passes (or passes after the fix), 1 when it fails,
// 2 when it is not known to pass (it could not be read, a read the plan
// depends on did not answer, or a step failed).
func (r Report) ExitCode() int { return r.code }

// Run plans, and with apply makes, the fix of one account: the use case
// of `trailguard fix`, as a call any caller (the CLI, a Lambda) can make.
// acct and res are the account as scanned in this run and its verdict;
// ops reaches the same account.
//
// A write depends on a read: a first plan, with the bucket and key taken
// as read and usable, tells whether a new trail is planned; only then are
// the bucket and key it would use read, in this run, and the plan made
// again from what was read. A read that does not answer definitely stops
// the plan of the account (ExitCode 2), in a dry run as with apply, and
// nothing is written. After the steps the account is scanned again
// through ops and the verdict recorded.
func Run(ctx context.Context, ops Operations, acct trailguard.Account, res trailguard.Result, o Options, apply bool) Report {
	plan := MakeWithKey(acct, res, BucketFacts{Read: true}, KeyFacts{Read: true, Exists: true}, o)
	if creates(plan) {
		plan = planWithReads(ctx, ops, acct, res, o)
	}
	if o.OrganizationTrail && len(plan.Unreadable) == 0 {
		plan = withTrustedAccess(ctx, ops, plan, o)
	}
	plan.Status = res.Status // a plan stopped by a read says the verdict too
	out := Report{Plan: plan}
	switch {
	case len(plan.Unreadable) > 0:
		// Something the plan depends on could not be read: nothing is
		// changed, and the account is not known to pass.
		out.code = 2
	case apply && len(plan.Steps) > 0:
		out.Applied, out.code = applyAndRescan(ctx, ops, plan, o)
	case len(plan.Steps) > 0:
		out.code = trailguard.ExitCode([]trailguard.Result{res})
	case res.Status != trailguard.StatusPass:
		// Nothing planned, and the account still does not pass (it could
		// not be read, or the notes say why nothing can be done).
		out.code = trailguard.ExitCode([]trailguard.Result{res})
	}
	return out
}

// CloudTrailPrincipal is CloudTrail's service principal, whose trusted
// access to the organization an organization trail needs.
const CloudTrailPrincipal = "cloudtrail.amazonaws.com"

// withTrustedAccess reads whether CloudTrail has trusted access to the
// organization and, when it has not, puts the step that enables it first:
// without it CloudTrail refuses to create an organization trail
// (CloudTrailAccessNotEnabledException), and an existing one does not
// record the members. A read that does not answer stops the plan, as any
// read a write depends on.
func withTrustedAccess(ctx context.Context, ops Operations, plan Plan, o Options) Plan {
	on, err := ops.ReadTrustedAccess(ctx)
	if err != nil {
		return Stopped(plan.Account, err)
	}
	if on {
		return plan
	}
	org := o.OrgID
	if org == "" {
		org = "the organization"
	}
	st := Step{Action: ActionEnableTrustedAccess, Region: o.Region,
		Why:  fmt.Sprintf("CloudTrail has no trusted access to %s: without it no organization trail can be created, and an existing one does not record the member accounts", org),
		API:  "organizations:EnableAWSServiceAccess",
		CLI:  "aws organizations enable-aws-service-access --service-principal " + CloudTrailPrincipal,
		Undo: "aws organizations disable-aws-service-access --service-principal " + CloudTrailPrincipal + "  # only once no organization trail is needed; it stops organization trails",
	}
	plan.Steps = append([]Step{st}, plan.Steps...)
	if plan.Target != nil {
		t := *plan.Target
		t.EnableTrustedAccess = true
		plan.Target = &t
	}
	return plan
}

// planWithReads reads the bucket and the key a new trail would use and
// plans from what was read, or stops the plan when a read did not answer.
func planWithReads(ctx context.Context, ops Operations, acct trailguard.Account, res trailguard.Result, o Options) Plan {
	bucket := o.Bucket
	if bucket == "" {
		bucket = BucketName(acct.ID)
	}
	var errs []error
	facts, err := ops.ReadBucket(ctx, bucket, o.TransitionDays > 0 || o.ExpireDays > 0)
	if err != nil {
		errs = append(errs, err)
	}
	var key KeyFacts
	if keyID := o.KMSKey; keyID != "" || o.CreateKMSKey {
		if keyID == "" {
			keyID = KMSAlias
		}
		if key, err = ops.ReadKey(ctx, keyID); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return Stopped(acct.ID, errs...)
	}
	return MakeWithKey(acct, res, facts, key, o)
}

// applyAndRescan applies the plan, scans the account again and returns
// what was done with the exit code it calls for.
func applyAndRescan(ctx context.Context, ops Operations, plan Plan, o Options) (*Applied, int) {
	code := 0
	r := Apply(ctx, ops, plan)
	a := &Applied{Done: []Action{}}
	for _, st := range r.Done {
		a.Done = append(a.Done, st.Action)
		if st.Undo != "" {
			a.Undo = append(a.Undo, st.Undo)
		}
	}
	if r.Err != nil {
		a.ErrorDetail = r.Err.Error()
		a.ErrorCode, a.Error = explain(r.Err)
		if r.Failed != nil {
			a.Failed, a.FailedAPI = r.Failed.Action, r.Failed.API
		}
		for _, st := range r.NotDone {
			a.NotDone = append(a.NotDone, st.Action)
		}
		code = 2
	}
	a.Summary = summarize(a, len(plan.Steps))
	after := trailguard.EvaluateAll([]trailguard.Account{ops.Rescan(ctx)}, trailguard.Options{Strict: o.Strict})[0]
	a.StatusAfter, a.ReasonsAfter = string(after.Status), after.Reasons
	if code == 0 && after.Status != trailguard.StatusPass {
		code = trailguard.ExitCode([]trailguard.Result{after})
	}
	return a, code
}

// creates reports whether the plan makes a new trail, and so needs the
// bucket and key it would use to have been read.
func creates(p Plan) bool {
	for _, st := range p.Steps {
		if st.Action == ActionCreateTrail {
			return true
		}
	}
	return false
}
