package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"

	"github.com/trailguard/trailguard"
	tgaws "github.com/trailguard/trailguard/aws"
	"github.com/trailguard/trailguard/fix"
	"github.com/trailguard/trailguard/report"
)

type fixFlags struct {
	aws     awsFlags
	org     orgFlags
	apply   bool
	format  string
	opts    fix.Options
	timeout time.Duration
	emit    string
}

func newFixCmd() *cobra.Command {
	f := fixFlags{
		aws: awsFlags{regionUsage: "region to scan from and to create a new trail and bucket in"},
		org: orgFlags{orgUsage: "plan (and with --apply, make) the fix of every ACTIVE account of the organization, members through --role-name"},
	}
	cmd := &cobra.Command{
		Use:   "fix",
		Short: "Plan (and with --apply, make) the smallest change that makes the account pass CIS 3.1",
		Long: `fix scans the account of the current credentials and prints a plan: the
smallest ordered set of steps that makes it pass, each with why, the API call
and the equivalent AWS CLI command. Nothing changes without --apply.

It fixes what exists before creating anything: a multi-region trail that is
not logging is started; one whose selectors miss management events gets them,
with every data-event selector kept; a single-region trail is made
multi-region, its bucket and settings kept (--new-trail creates one instead).
Only with no usable trail does it create a bucket (public access blocked,
encrypted, a policy that lets only this trail write, merged into any existing
policy) and a multi-region trail with log file validation, then start it.

With --organization-trail, from the management account, it plans one
organization trail instead; CloudTrail's trusted access to the organization is
read first and enabled when it is off (CloudTrail refuses an organization
trail without it).

With --apply the steps run in order; the first that fails stops the run, and
the report says what was done, which step failed and why, with the AWS error
code, what was not tried, and how to undo it by hand. Over many accounts (--org)
the totals come first.
Nothing is ever deleted. Afterwards the account is scanned again and the
verdict shown; a second 'fix' plans nothing.

A write depends on a read: nothing is planned over a bucket, bucket policy,
public access block, encryption, lifecycle, key policy or trail that could
not be read in this run. A read that is denied, throttled beyond the
retries or fails on the server stops the plan for that account (exit 2),
in a dry run as with --apply, and the plan names the permission that would
let it read. An account whose verdict is UNKNOWN or ERROR gets no plan: the
facts that could not be read are named. Undo hints
put back what was read (the previous policy document); they never delete
what existed before.`,
		Example: `  trailguard fix
  trailguard fix --apply
  trailguard fix --format json
  trailguard fix --apply --bucket my-audit-logs --region eu-west-1
  trailguard fix --emit terraform > cloudtrail.tf`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runFix(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), f)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.apply, "apply", false, "make the changes (without it, only the plan is printed)")
	fl.StringVarP(&f.format, "format", "f", "text", "output format: text or json")
	fl.StringVar(&f.opts.Bucket, "bucket", "", "S3 `BUCKET` for a new trail (default aws-cloudtrail-logs-<account>-<hex>; an existing bucket is reused)")
	fl.StringVar(&f.opts.TrailName, "trail-name", fix.DefaultTrailName, "`NAME` of a new trail")
	fl.BoolVar(&f.opts.NewTrail, "new-trail", false, "create a new multi-region trail rather than convert a single-region one")
	fl.BoolVar(&f.opts.Strict, "strict", false, "also remove management event source exclusions (KMS, RDS Data API)")
	fl.BoolVar(&f.opts.LogFileValidation, "log-file-validation", false, "also turn on log file validation (CIS 3.2) of the account's multi-region trails that have it off,\nso that 'trailguard validate-logs' can prove their log files (update-trail --enable-log-file-validation)")
	fl.StringVar(&f.opts.KMSKey, "kms-key", "", "for a new trail: encrypt log files with this KMS `KEY` (id, ARN or alias); its policy gets CloudTrail's statement if it lacks it")
	fl.BoolVar(&f.opts.CreateKMSKey, "create-kms-key", false, "for a new trail: create a KMS key (rotation on, alias "+fix.KMSAlias+") and encrypt log files with it")
	fl.StringVar(&f.emit, "emit", "", "print the end state as code instead of a plan: terraform or cloudformation")
	fl.IntVar(&f.opts.TransitionDays, "transition-days", 0, "for a new bucket: move log files to S3 Glacier after `DAYS` (0: never)")
	fl.IntVar(&f.opts.ExpireDays, "expire-days", 0, "for a new bucket: delete log files after `DAYS` (0: never; mind your retention duty)")
	fl.DurationVar(&f.timeout, "timeout", 5*time.Minute, "give up after this long")
	fl.BoolVar(&f.opts.OrganizationTrail, "organization-trail", false, "from the management account: one organization trail that records every account, instead of a trail per account")
	f.aws.register(fl)
	f.org.register(fl)
	return cmd
}

// fixReport is the JSON the command prints.
type fixReport struct {
	// Summary comes first: over an organization the totals are what is
	// read first.
	Summary  fix.Summary  `json:"summary"`
	Accounts []fix.Report `json:"accounts"`
	// NotInOrganization lists accounts asked for with --accounts that the
	// organization does not list: asked for, not found, so reported.
	NotInOrganization []string `json:"not_in_organization,omitempty"`
}

func runFix(ctx context.Context, stdout, stderr io.Writer, f fixFlags) error {
	if f.format != "text" && f.format != "json" {
		return usageErr("--format must be text or json, not %q", f.format)
	}
	switch f.emit {
	case "", "terraform", "cloudformation":
	default:
		return usageErr("--emit must be terraform or cloudformation, not %q", f.emit)
	}
	if f.emit != "" && f.apply {
		return usageErr("--emit prints code for you to apply your way; it cannot be combined with --apply")
	}
	if f.opts.KMSKey != "" && f.opts.CreateKMSKey {
		return usageErr("--kms-key and --create-kms-key cannot be combined")
	}
	if f.opts.TransitionDays < 0 || f.opts.ExpireDays < 0 || (f.opts.ExpireDays > 0 && f.opts.TransitionDays >= f.opts.ExpireDays && f.opts.TransitionDays > 0) {
		return usageErr("--transition-days and --expire-days must be positive, and a transition must come before the expiry")
	}
	if err := validateAll(&f.aws, &f.org); err != nil {
		return err
	}
	ctx, cancel := tgaws.WithFlagTimeout(ctx, "--timeout", f.timeout)
	defer cancel()
	cfg, err := tgaws.LoadConfig(ctx, f.aws.opts, nil)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	f.opts.Region = cfg.Region
	targets, sc, err := fixTargets(ctx, cfg, &f)
	if err != nil {
		return err
	}
	notInOrg := sc.NotInOrganization
	for _, n := range excludedNotFound(sc.ExcludedNotFound) {
		fmt.Fprintln(stderr, "trailguard:", n)
	}
	for _, id := range sortedKeys(sc.Skipped) {
		fmt.Fprintf(stderr, "trailguard: account %s is not fixed: it is %s, not ACTIVE\n", id, sc.Skipped[id])
	}

	report := fixReport{NotInOrganization: notInOrg}
	code := 0
	if len(notInOrg) > 0 {
		code = 2 // a FAIL still decides below
		fmt.Fprintf(stderr, "not in the organization (asked for with --accounts or --accounts-file, not listed by Organizations ListAccounts): %s\n", strings.Join(notInOrg, ", "))
	}
	if sc.Partial != "" {
		// Accounts the scan did not reach get no plan: the run proves
		// nothing about them (a FAIL still decides below).
		code = 2
		fmt.Fprintf(stderr, "trailguard: partial: %s; not scanned: %s\n", sc.Partial, strings.Join(sc.NotScanned, ", "))
	}
	for _, t := range targets {
		out := fix.Run(ctx, tgaws.NewFixer(t.cfg), t.acct, t.res, f.opts, f.apply)
		c := out.ExitCode()
		if f.emit != "" {
			text := fix.Terraform(out.Plan)
			if f.emit == "cloudformation" {
				text = fix.CloudFormation(out.Plan)
			}
			fmt.Fprint(stdout, text)
			// Code for an account that could not be read is not the end
			// state of anything: the exit code says so.
			if len(out.Plan.Unreadable) > 0 {
				code = 2
			}
			continue
		}
		report.Accounts = append(report.Accounts, out)
		// As for scan: a FAIL decides, else an account that could not be
		// read or fixed.
		if c == 1 || (c == 2 && code == 0) {
			code = c
		}
	}
	if f.emit != "" {
		if code != 0 {
			return &exitError{code: code}
		}
		return nil
	}
	report.Summary = fix.Summarize(report.Accounts)
	// Accounts the scan did not reach have no plan either: counted, with
	// why, so that the totals cover every account asked for.
	for _, id := range sc.NotScanned {
		report.Summary.AddNotPlanned(id, "", "not scanned: "+sc.Partial)
	}
	for _, id := range sortedKeys(sc.Skipped) {
		report.Summary.AddNotPlanned(id, "", "not fixed: it is "+sc.Skipped[id]+", not ACTIVE")
	}
	for _, id := range notInOrg {
		report.Summary.AddNotPlanned(id, "", "not in the organization")
	}
	if f.format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(report); err != nil {
			return &exitError{code: 2, err: err}
		}
	} else {
		if f.org.org || len(report.Accounts) > 1 {
			printFixSummary(stdout, report.Summary)
		}
		for i, a := range report.Accounts {
			if i > 0 {
				fmt.Fprintln(stdout)
			}
			printFix(stdout, a, f.apply)
		}
	}
	if code != 0 {
		return &exitError{code: code}
	}
	return nil
}

// fixTarget is one account to fix, with the configuration that reaches
// it and its verdict.
type fixTarget struct {
	cfg  sdkaws.Config
	acct trailguard.Account
	res  trailguard.Result
}

// fixTargets scans, with the scan's own pipeline, the accounts the flags
// name: the caller's, every account of the organization (members through
// --role-name), or, for --organization-trail, the management account.
func fixTargets(ctx context.Context, cfg sdkaws.Config, f *fixFlags) ([]fixTarget, tgaws.Outcome, error) {
	opts := tgaws.ScanOptions{Org: f.org.options(), Evaluate: trailguard.Options{Strict: f.opts.Strict}}
	if f.opts.OrganizationTrail {
		// One organization trail, in the management account, for all.
		orgID, mgmt, err := tgaws.Organization(ctx, cfg)
		if err != nil {
			return nil, tgaws.Outcome{}, &exitError{code: 2, err: fmt.Errorf("--organization-trail: %w", err)}
		}
		sc, err := tgaws.Scan(ctx, cfg, opts)
		if err != nil {
			return nil, sc, &exitError{code: 2, err: err}
		}
		if sc.Accounts[0].ID != mgmt {
			return nil, sc, &exitError{code: 2, err: fmt.Errorf("--organization-trail runs in the management account %s, not in %s", mgmt, sc.Accounts[0].ID)}
		}
		f.opts.OrgID = orgID
		return []fixTarget{{cfg: cfg, acct: sc.Accounts[0], res: sc.Results[0]}}, sc, nil
	}
	opts.Organization = f.org.org
	sc, err := tgaws.Scan(ctx, cfg, opts)
	if err != nil {
		return nil, sc, &exitError{code: 2, err: err}
	}
	var targets []fixTarget
	for i, a := range sc.Accounts {
		acfg := cfg
		if f.org.org && a.CallerARN == "" { // a member: through its role
			acfg = tgaws.MemberConfig(cfg, a.ID, opts.Org)
		}
		targets = append(targets, fixTarget{cfg: acfg, acct: a, res: sc.Results[i]})
	}
	return targets, sc, nil
}

func printFix(w io.Writer, a fix.Report, applying bool) {
	fmt.Fprintf(w, "Account %s\n", termSafe(a.Account))
	if len(a.Unreadable) == 0 {
		// A stopped plan's notes restate its unreadable facts, which are
		// printed below, once each (the JSON keeps both).
		for _, n := range a.Notes {
			fmt.Fprintf(w, "  note: %s\n", termSafe(n))
		}
	}
	if len(a.Unreadable) > 0 {
		if a.Status == trailguard.StatusUnknown || a.Status == trailguard.StatusError {
			fmt.Fprintf(w, "  cannot plan: the verdict is %s, and no plan can be made without the facts that could not be read:\n", a.Status)
		} else {
			fmt.Fprintln(w, "  stopped: a change to what could not be read could replace it, so nothing is planned for this account")
		}
		for _, u := range a.Unreadable {
			perm := ""
			if u.Permission != "" {
				perm = " — needs " + u.Permission
			}
			fmt.Fprintf(w, "  cannot read: %s%s: %s\n", termSafe(u.Resource), termSafe(perm), termSafe(u.Error))
		}
		if a.Status == trailguard.StatusUnknown {
			fmt.Fprintln(w, "  why not create a trail anyway: one that could not be read may already record every region, and a second would be a paid duplicate")
		}
		fmt.Fprintln(w, "  next: allow what is named where the error says (an IAM policy: trailguard iam-policy --fix prints it; a service control policy: in AWS Organizations) and run fix again")
		return
	}
	if len(a.Steps) == 0 {
		if a.Status == trailguard.StatusPass {
			fmt.Fprintln(w, "  nothing to do: the account passes CIS 3.1")
		} else {
			fmt.Fprintf(w, "  nothing planned: the account is %s and cannot be fixed from here (the notes say why)\n", a.Status)
		}
		return
	}
	for i, st := range a.Steps {
		fmt.Fprintf(w, "\n  %d. %s (%s)\n     why: %s\n     cli: %s\n", i+1, st.Action, st.API, termSafe(st.Why), termSafe(st.CLI))
	}
	if a.Applied == nil {
		if !applying {
			fmt.Fprintln(w, "\nDry run: nothing was changed. Run again with --apply to make these changes.")
		}
		return
	}
	ap := a.Applied
	if ap.Error == "" {
		fmt.Fprintf(w, "\nApplied: %s\n", termSafe(ap.Summary))
	} else {
		fmt.Fprintf(w, "\nFAILED: %s\n", termSafe(ap.Summary))
		fmt.Fprintf(w, "  done:     %s\n", orNothing(joinActions(ap.Done), "nothing, the account is as it was"))
		code := ""
		if ap.ErrorCode != "" {
			code = " [AWS error code " + ap.ErrorCode + "]"
		}
		fmt.Fprintf(w, "  failed:   %s (%s)%s: %s\n", ap.Failed, termSafe(ap.FailedAPI), termSafe(code), termSafe(ap.Error))
		fmt.Fprintf(w, "  not done: %s\n", orNothing(joinActions(ap.NotDone), "nothing"))
		fmt.Fprintf(w, "  detail:   %s\n", termSafe(ap.ErrorDetail))
		if len(ap.Undo) > 0 {
			fmt.Fprintf(w, "To undo what was done, by hand (nothing is deleted by this tool):\n  %s\n", strings.Join(escapeAll(ap.Undo), "\n  "))
		}
	}
	fmt.Fprintf(w, "Verdict after the change: %s\n", ap.StatusAfter)
	for _, r := range ap.ReasonsAfter {
		fmt.Fprintf(w, "  ✗ %s\n", termSafe(r))
	}
}

// maxListed is how many account ids a line of the summary names before
// it says how many more there are.
const maxListed = 5

// printFixSummary prints the totals of a fix over many accounts, before
// the plans: accounts with steps, steps by kind, accounts not planned,
// grouped by why, and with --apply what was applied.
func printFixSummary(w io.Writer, s fix.Summary) {
	fmt.Fprintf(w, "Summary: %d accounts: %d pass with nothing to do, %d with steps (%s), %d not planned\n",
		s.Accounts, s.Passing, s.WithSteps, plural(s.Steps, "step"), len(s.NotPlanned))
	if s.Steps > 0 {
		var kinds []string
		for _, a := range fix.Actions() {
			if n := s.StepsByKind[a]; n > 0 {
				kinds = append(kinds, fmt.Sprintf("%s %d", a, n))
			}
		}
		fmt.Fprintf(w, "  steps by kind: %s\n", strings.Join(kinds, ", "))
	}
	if len(s.NotPlanned) > 0 {
		fmt.Fprintln(w, "  not planned:")
		groups := map[string][]fix.NotPlanned{}
		var whys []string
		for _, n := range s.NotPlanned {
			if groups[n.Why] == nil {
				whys = append(whys, n.Why)
			}
			groups[n.Why] = append(groups[n.Why], n)
		}
		for _, why := range whys {
			g := groups[why]
			ids := make([]string, 0, maxListed)
			for _, n := range g[:min(len(g), maxListed)] {
				ids = append(ids, strings.TrimSpace(n.Account+" "+string(n.Status)))
			}
			more := ""
			if len(g) > maxListed {
				more = fmt.Sprintf(" and %d more", len(g)-maxListed)
			}
			fmt.Fprintf(w, "    %d: %s (%s%s)\n", len(g), termSafe(why), termSafe(strings.Join(ids, ", ")), more)
		}
	}
	if s.Applied > 0 || s.Failed > 0 {
		fmt.Fprintf(w, "  applied: %d accounts fully, %d with a failed step; %d pass after\n", s.Applied, s.Failed, s.PassingAfter)
	}
	fmt.Fprintln(w)
}

// termSafe shows what would act on a terminal rather than print (names and
// errors come from the account and may be hostile): the one escaping rule
// of every human-facing output, report.Escape.
func termSafe(s string) string { return report.Escape(s) }

func escapeAll(in []string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = report.Escape(s)
	}
	return out
}

// plural is n and the noun, with an s unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// orNothing is s, or what to say instead when it is empty.
func orNothing(s, instead string) string {
	if s == "" {
		return instead
	}
	return s
}

func joinActions(as []fix.Action) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = string(a)
	}
	return strings.Join(s, ", ")
}
