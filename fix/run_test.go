package fix

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard"
)

// fakeOps is an Operations that records every call in order, answers
// reads from fixed facts and fails the writes it is told to.
type fakeOps struct {
	bucket    BucketFacts
	bucketErr error
	key       KeyFacts
	keyErr    error
	// trustedOff says CloudTrail has no trusted access to the
	// organization; trustedErr fails that read.
	trustedOff bool
	trustedErr error
	// failWrite makes the write of a step fail, the first n times (-1:
	// always).
	failWrite map[Action]error
	failTimes map[Action]int
	// after is what Rescan reads.
	after trailguard.Account

	calls  []string
	writes []Step
}

func (f *fakeOps) ReadBucket(_ context.Context, name string, lifecycle bool) (BucketFacts, error) {
	c := "read-bucket " + name
	if lifecycle {
		c += " lifecycle"
	}
	f.calls = append(f.calls, c)
	return f.bucket, f.bucketErr
}

func (f *fakeOps) ReadKey(_ context.Context, id string) (KeyFacts, error) {
	f.calls = append(f.calls, "read-key "+id)
	return f.key, f.keyErr
}

func (f *fakeOps) ReadTrustedAccess(context.Context) (bool, error) {
	f.calls = append(f.calls, "read-trusted-access")
	return !f.trustedOff, f.trustedErr
}

func (f *fakeOps) Rescan(context.Context) trailguard.Account {
	f.calls = append(f.calls, "rescan")
	return f.after
}

func (f *fakeOps) Write(_ context.Context, st Step) (string, error) {
	f.calls = append(f.calls, "write "+string(st.Action))
	if err := f.failWrite[st.Action]; err != nil {
		if n := f.failTimes[st.Action]; n != 0 {
			f.failTimes[st.Action] = n - 1
			return "", err
		}
	}
	f.writes = append(f.writes, st)
	if st.Action == ActionCreateKMSKey {
		return "key-1234", nil
	}
	return "", nil
}

func (f *fakeOps) wrote() []Action {
	var out []Action
	for _, st := range f.writes {
		out = append(out, st.Action)
	}
	return out
}

const runAcct = "123456789012"

func runTrail(name string, multi, logging bool) trailguard.Trail {
	return trailguard.Trail{Name: name, ARN: "arn:aws:cloudtrail:us-east-1:" + runAcct + ":trail/" + name, HomeRegion: "us-east-1", IsMultiRegion: multi,
		IncludeGlobalServiceEvents: true, S3BucketName: "b", Status: &trailguard.TrailStatus{IsLogging: logging}, Selectors: trailguard.DefaultSelectors()}
}

func account(ts ...trailguard.Trail) trailguard.Account {
	return trailguard.Account{ID: runAcct, Trails: ts}
}

var (
	passing    = account(runTrail("good", true, true))
	noTrail    = account()
	stopped    = account(runTrail("stopped", true, false))
	denied     = &ReadError{Action: "s3:GetBucketPolicy", Resource: "bucket b", Err: errors.New("AccessDenied")}
	keyDenied  = &ReadError{Action: "kms:DescribeKey", Resource: "KMS key k", Err: errors.New("AccessDeniedException")}
	newTrail   = []Action{ActionCreateBucket, ActionBlockPublicAccess, ActionEncryptBucket, ActionAllowCloudTrailDelivery, ActionCreateTrail, ActionStartLogging}
	bucketRead = "read-bucket " + BucketName(runAcct)
	orgOpts    = Options{OrganizationTrail: true, OrgID: "o-1"}
)

// TestRun proves the fix use case against a fake of its operations: what
// is read, in which order, what is written, and the exit code.
func TestRun(t *testing.T) {
	defer func(d time.Duration) { PolicyRetryDelay = d }(PolicyRetryDelay)
	PolicyRetryDelay = time.Millisecond
	unreadable := runTrail("blind", true, true)
	unreadable.Status, unreadable.StatusError = nil, "AccessDeniedException"
	orgTrail := runTrail("org", true, true)
	orgTrail.IsOrganizationTrail = true
	policyRefused := errors.New("api error InsufficientS3BucketPolicyException: Incorrect S3 bucket policy")

	cases := []struct {
		name  string
		acct  trailguard.Account
		opts  Options
		apply bool
		ops   fakeOps
		// calls is the exact sequence of operations Run makes.
		calls      []string
		wrote      []Action
		code       int
		unreadable bool
		applied    *Applied // nil: not applied; of Undo only the length is checked (steps on a new bucket need none)
		// emitted is a line --emit writes in both languages ("": not checked).
		emitted string
	}{
		{name: "passing_account_reads_and_writes_nothing", acct: passing, apply: true,
			calls: nil, code: 0},
		{name: "stopped_trail_dry_run_writes_nothing", acct: stopped,
			calls: nil, code: 1},
		{name: "stopped_trail_applied_then_rescanned", acct: stopped, apply: true, ops: fakeOps{after: passing},
			calls: []string{"write start-logging", "rescan"}, wrote: []Action{ActionStartLogging}, code: 0,
			applied: &Applied{Done: []Action{ActionStartLogging}, Undo: []string{"x"}, StatusAfter: "PASS"}},
		{name: "applied_but_still_failing_after", acct: stopped, apply: true, ops: fakeOps{after: stopped},
			calls: []string{"write start-logging", "rescan"}, wrote: []Action{ActionStartLogging}, code: 1,
			applied: &Applied{Done: []Action{ActionStartLogging}, Undo: []string{"x"}, StatusAfter: "FAIL"}},
		{name: "no_trail_dry_run_reads_the_bucket_only", acct: noTrail, ops: fakeOps{bucket: BucketFacts{Read: true}},
			calls: []string{bucketRead}, code: 1},
		{name: "no_trail_lifecycle_asks_for_the_lifecycle", acct: noTrail, opts: Options{ExpireDays: 90}, ops: fakeOps{bucket: BucketFacts{Read: true}},
			calls: []string{bucketRead + " lifecycle"}, code: 1},
		{name: "named_bucket_is_the_one_read", acct: noTrail, opts: Options{Bucket: "team-logs"}, ops: fakeOps{bucket: BucketFacts{Read: true}},
			calls: []string{"read-bucket team-logs"}, code: 1},
		{name: "no_trail_applied_reads_before_it_writes", acct: noTrail, apply: true, ops: fakeOps{bucket: BucketFacts{Read: true}, after: passing},
			calls: append(append([]string{bucketRead}, prefixed("write ", newTrail)...), "rescan"), wrote: newTrail, code: 0,
			applied: &Applied{Done: newTrail, Undo: make([]string, 4), StatusAfter: "PASS"}},
		{name: "bucket_read_denied_stops_even_with_apply", acct: noTrail, apply: true, ops: fakeOps{bucketErr: denied, after: passing},
			calls: []string{bucketRead}, code: 2, unreadable: true},
		{name: "key_read_denied_stops_even_with_apply", acct: noTrail, apply: true, opts: Options{KMSKey: "k"}, ops: fakeOps{bucket: BucketFacts{Read: true}, keyErr: keyDenied},
			calls: []string{bucketRead, "read-key k"}, code: 2, unreadable: true},
		{name: "bucket_and_key_both_denied_both_named", acct: noTrail, opts: Options{KMSKey: "k"}, ops: fakeOps{bucketErr: denied, keyErr: keyDenied},
			calls: []string{bucketRead, "read-key k"}, code: 2, unreadable: true},
		{name: "create_kms_key_reads_its_alias", acct: noTrail, opts: Options{CreateKMSKey: true}, ops: fakeOps{bucket: BucketFacts{Read: true}, key: KeyFacts{Read: true}},
			calls: []string{bucketRead, "read-key " + KMSAlias}, code: 1},
		{name: "unknown_account_gets_no_plan", acct: account(unreadable), apply: true, ops: fakeOps{after: passing},
			calls: nil, code: 2, unreadable: true},
		{name: "organization_trail_with_trusted_access_reads_it_and_plans_no_enable", acct: noTrail, opts: orgOpts, ops: fakeOps{bucket: BucketFacts{Read: true}},
			calls: []string{bucketRead, "read-trusted-access"}, code: 1},
		{name: "organization_trail_without_trusted_access_enables_it_first", acct: noTrail, apply: true, opts: orgOpts, ops: fakeOps{bucket: BucketFacts{Read: true}, trustedOff: true, after: passing},
			calls: append(append([]string{bucketRead, "read-trusted-access"}, prefixed("write ", append([]Action{ActionEnableTrustedAccess}, newTrail...))...), "rescan"),
			wrote: append([]Action{ActionEnableTrustedAccess}, newTrail...), code: 0,
			applied: &Applied{Done: append([]Action{ActionEnableTrustedAccess}, newTrail...), Undo: make([]string, 5), StatusAfter: "PASS"}},
		{name: "organization_trail_trusted_access_read_denied_stops_even_with_apply", acct: noTrail, apply: true, opts: orgOpts,
			ops:   fakeOps{bucket: BucketFacts{Read: true}, trustedErr: &ReadError{Action: "organizations:ListAWSServiceAccessForOrganization", Resource: "trusted access", Err: errors.New("AccessDeniedException")}, after: passing},
			calls: []string{bucketRead, "read-trusted-access"}, code: 2, unreadable: true},
		{name: "organization_trail_already_passing_still_checks_trusted_access", acct: account(orgTrail), opts: orgOpts, ops: fakeOps{trustedOff: true},
			calls: []string{"read-trusted-access"}, code: 0, emitted: "aws organizations enable-aws-service-access --service-principal cloudtrail.amazonaws.com"},
		{name: "failure_midway_stops_and_rescans", acct: noTrail, apply: true,
			ops:   fakeOps{bucket: BucketFacts{Read: true}, after: noTrail, failWrite: map[Action]error{ActionCreateTrail: awsErr{"AccessDenied", "User is not authorized"}}, failTimes: map[Action]int{ActionCreateTrail: -1}},
			calls: append(append([]string{bucketRead}, prefixed("write ", newTrail[:5])...), "rescan"), wrote: newTrail[:4], code: 2,
			applied: &Applied{Done: newTrail[:4], Failed: ActionCreateTrail, FailedAPI: "cloudtrail:CreateTrail", ErrorCode: "AccessDenied",
				Error:   "AWS refused it with AccessDenied: User is not authorized (the credentials lack this permission",
				Summary: "4 of 6 steps were done (create-bucket, block-public-access, encrypt-bucket, allow-cloudtrail-delivery); step 5, create-trail (cloudtrail:CreateTrail), failed: AWS refused it with AccessDenied",
				NotDone: []Action{ActionStartLogging}, Undo: make([]string, 2), StatusAfter: "FAIL"}},
		{name: "first_step_without_an_answer_says_nothing_was_changed", acct: noTrail, apply: true,
			ops:   fakeOps{bucket: BucketFacts{Read: true}, after: noTrail, failWrite: map[Action]error{ActionCreateBucket: errors.New("dial tcp: connection refused")}, failTimes: map[Action]int{ActionCreateBucket: -1}},
			calls: append(append([]string{bucketRead}, prefixed("write ", newTrail[:1])...), "rescan"), code: 2,
			applied: &Applied{Done: []Action{}, Failed: ActionCreateBucket, FailedAPI: "s3:CreateBucket",
				Error:   "no answer from AWS (network or endpoint): s3:CreateBucket: dial tcp: connection refused",
				Summary: "nothing was changed; step 1, create-bucket (s3:CreateBucket), failed: no answer from AWS",
				NotDone: newTrail[1:], StatusAfter: "FAIL"}},
		{name: "timeout_names_the_flag", acct: noTrail, apply: true,
			ops:   fakeOps{bucket: BucketFacts{Read: true}, after: noTrail, failWrite: map[Action]error{ActionCreateBucket: fmt.Errorf("operation error S3: CreateBucket: %w", context.DeadlineExceeded)}, failTimes: map[Action]int{ActionCreateBucket: -1}},
			calls: append(append([]string{bucketRead}, prefixed("write ", newTrail[:1])...), "rescan"), code: 2,
			applied: &Applied{Done: []Action{}, Failed: ActionCreateBucket, FailedAPI: "s3:CreateBucket",
				Error:   "no answer before the time ran out (raise --timeout)",
				Summary: "nothing was changed; step 1, create-bucket (s3:CreateBucket), failed: no answer before the time ran out",
				NotDone: newTrail[1:], StatusAfter: "FAIL"}},
		{name: "fresh_bucket_policy_refused_then_accepted", acct: noTrail, apply: true,
			ops:   fakeOps{bucket: BucketFacts{Read: true}, after: passing, failWrite: map[Action]error{ActionCreateTrail: policyRefused}, failTimes: map[Action]int{ActionCreateTrail: 2}},
			calls: append(append([]string{bucketRead}, prefixed("write ", append(slices.Clone(newTrail[:5]), ActionCreateTrail, ActionCreateTrail, ActionStartLogging))...), "rescan"), wrote: newTrail, code: 0,
			applied: &Applied{Done: newTrail, Undo: make([]string, 4), StatusAfter: "PASS"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ops := c.ops
			res := trailguard.Evaluate(c.acct, trailguard.Options{})
			r := Run(context.Background(), &ops, c.acct, res, c.opts, c.apply)
			if !slices.Equal(ops.calls, c.calls) {
				t.Errorf("calls\n got %q\nwant %q", ops.calls, c.calls)
			}
			if !slices.Equal(ops.wrote(), c.wrote) {
				t.Errorf("wrote %v, want %v", ops.wrote(), c.wrote)
			}
			if r.ExitCode() != c.code {
				t.Errorf("exit code %d, want %d", r.ExitCode(), c.code)
			}
			if got := len(r.Unreadable) > 0; got != c.unreadable {
				t.Errorf("unreadable %+v, want some: %v", r.Unreadable, c.unreadable)
			}
			if c.unreadable {
				if len(r.Steps) != 0 {
					t.Errorf("a stopped plan has steps %+v", r.Steps)
				}
				for _, u := range r.Unreadable {
					if u.Permission == "" {
						t.Errorf("unreadable %+v names no permission", u)
					}
				}
				if want := strings.Count(strings.Join(c.calls, " "), "read-"); c.name == "bucket_and_key_both_denied_both_named" && len(r.Unreadable) != want {
					t.Errorf("unreadable %+v, want one per failed read (%d)", r.Unreadable, want)
				}
			}
			checkApplied(t, r.Applied, c.applied)
			if c.emitted != "" {
				for _, code := range []string{Terraform(r.Plan), CloudFormation(r.Plan)} {
					if !strings.Contains(code, c.emitted) {
						t.Errorf("emitted code lacks %q:\n%s", c.emitted, code)
					}
				}
			}
		})
	}
}

func checkApplied(t *testing.T, got, want *Applied) {
	t.Helper()
	if (got == nil) != (want == nil) {
		t.Fatalf("applied %+v, want %+v", got, want)
	}
	if got == nil {
		return
	}
	// Error and Summary are words: the test names the part they must
	// begin with.
	if !slices.Equal(got.Done, want.Done) || got.Failed != want.Failed || got.FailedAPI != want.FailedAPI || got.ErrorCode != want.ErrorCode ||
		!slices.Equal(got.NotDone, want.NotDone) || !strings.HasPrefix(got.Error, want.Error) || (want.Error == "") != (got.Error == "") ||
		got.StatusAfter != want.StatusAfter || len(got.Undo) != len(want.Undo) || !strings.HasPrefix(got.Summary, want.Summary) {
		t.Errorf("applied\n got %+v\nwant %+v", *got, *want)
	}
	if want.Error != "" && got.ErrorDetail == "" {
		t.Errorf("applied %+v: the error as the SDK gave it is lost", *got)
	}
}

// awsErr is an error AWS answered with, as the SDK's smithy.APIError
// carries it.
type awsErr struct{ code, msg string }

func (e awsErr) Error() string        { return "api error " + e.code + ": " + e.msg }
func (e awsErr) ErrorCode() string    { return e.code }
func (e awsErr) ErrorMessage() string { return e.msg }

func prefixed(p string, as []Action) []string {
	var out []string
	for _, a := range as {
		out = append(out, p+string(a))
	}
	return out
}

// TestApply proves the applier's own rules against a fake writer.
func TestApply(t *testing.T) {
	t.Run("stopped_plan_with_steps_added_by_hand_runs_nothing", func(t *testing.T) {
		ops := &fakeOps{}
		p := Stopped(runAcct, denied)
		p.Steps = append(p.Steps, Step{Action: ActionStartLogging, API: "cloudtrail:StartLogging", Region: "us-east-1", Trail: "t"})
		out := Apply(context.Background(), ops, p)
		if len(ops.calls) != 0 || out.Err == nil || len(out.Done) != 0 || len(out.NotDone) != 1 {
			t.Errorf("calls %v, outcome %+v", ops.calls, out)
		}
	})
	t.Run("new_key_is_named_by_the_alias_and_the_undo", func(t *testing.T) {
		ops := &fakeOps{bucket: BucketFacts{Read: true}, key: KeyFacts{Read: true}}
		p := MakeWithKey(noTrail, trailguard.Evaluate(noTrail, trailguard.Options{}), BucketFacts{Read: true}, KeyFacts{Read: true}, Options{CreateKMSKey: true})
		out := Apply(context.Background(), ops, p)
		if out.Err != nil {
			t.Fatal(out.Err)
		}
		var alias, created *Step
		for i, st := range ops.writes {
			switch st.Action {
			case ActionAliasKMSKey:
				alias = &ops.writes[i]
			}
		}
		for i, st := range out.Done {
			if st.Action == ActionCreateKMSKey {
				created = &out.Done[i]
			}
		}
		if alias == nil || created == nil {
			t.Fatalf("no key created and aliased: %v", ops.wrote())
		}
		if alias.Document != "key-1234" {
			t.Errorf("alias targets %q, not the key just created", alias.Document)
		}
		if !strings.Contains(created.Undo, "key-1234") || !strings.Contains(created.Undo, "schedule-key-deletion") {
			t.Errorf("undo %q does not name the key made", created.Undo)
		}
	})
	t.Run("policy_refused_beyond_the_retries_fails_the_step", func(t *testing.T) {
		defer func(d time.Duration) { PolicyRetryDelay = d }(PolicyRetryDelay)
		PolicyRetryDelay = time.Millisecond
		ops := &fakeOps{failWrite: map[Action]error{ActionCreateTrail: errors.New("InsufficientS3BucketPolicyException")}, failTimes: map[Action]int{ActionCreateTrail: -1}}
		p := Make(noTrail, trailguard.Evaluate(noTrail, trailguard.Options{}), BucketFacts{Read: true}, Options{})
		out := Apply(context.Background(), ops, p)
		tries := strings.Count(strings.Join(ops.calls, "\n"), "write create-trail")
		if out.Failed == nil || out.Failed.Action != ActionCreateTrail || tries != 5 {
			t.Errorf("failed %+v after %d tries, want create-trail after 5", out.Failed, tries)
		}
		if !strings.HasPrefix(out.Err.Error(), "cloudtrail:CreateTrail: ") {
			t.Errorf("error %q is not named by its API call", out.Err)
		}
	})
	t.Run("other_errors_are_not_retried", func(t *testing.T) {
		ops := &fakeOps{failWrite: map[Action]error{ActionCreateBucket: errors.New("AccessDenied")}, failTimes: map[Action]int{ActionCreateBucket: -1}}
		p := Make(noTrail, trailguard.Evaluate(noTrail, trailguard.Options{}), BucketFacts{Read: true}, Options{})
		out := Apply(context.Background(), ops, p)
		if len(ops.calls) != 1 || out.Failed == nil || len(out.NotDone) != len(p.Steps)-1 {
			t.Errorf("calls %v, outcome %+v", ops.calls, out)
		}
	})
}

// TestActions_lists_every_kind_planned: every step kind the planner makes
// over many states is in Actions, so implementations checked against
// Actions make them all.
func TestActions_lists_every_kind_planned(t *testing.T) {
	known := map[Action]bool{}
	for _, a := range Actions() {
		known[a] = true
	}
	opts := []Options{{}, {CreateKMSKey: true, ExpireDays: 30}, {KMSKey: "k"}, {OrganizationTrail: true, OrgID: "o-1"}, {NewTrail: true}, {Strict: true}, {LogFileValidation: true}}
	keys := []KeyFacts{{Read: true}, {Read: true, Exists: true, Policy: `{"Statement":[]}`}}
	seen := map[Action]bool{}
	for name, a := range failingStates() {
		for _, o := range opts {
			for _, k := range keys {
				p := MakeWithKey(a, trailguard.Evaluate(a, trailguard.Options{Strict: o.Strict}), BucketFacts{Read: true}, k, o)
				for _, st := range p.Steps {
					seen[st.Action] = true
					if !known[st.Action] {
						t.Errorf("%s: step kind %q is not in Actions", name, st.Action)
					}
				}
			}
		}
	}
	// Trusted access is read, and its step planned, by Run.
	ops := fakeOps{bucket: BucketFacts{Read: true}, trustedOff: true}
	for _, st := range Run(context.Background(), &ops, noTrail, trailguard.Evaluate(noTrail, trailguard.Options{}), orgOpts, false).Steps {
		seen[st.Action] = true
	}
	for a := range known {
		if !seen[a] {
			t.Errorf("%s is in Actions but no plan made it", a)
		}
	}
}
