package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/trailguard/trailguard"
	tgaws "github.com/trailguard/trailguard/aws"
	"github.com/trailguard/trailguard/evidence"
	"github.com/trailguard/trailguard/report"
)

// importFindings files the report's findings in Security Hub and says
// how it went; a refused finding makes the run exit 2.
func importFindings(ctx context.Context, stderr io.Writer, cfg sdkaws.Config, rep *report.Report, o tgaws.OrgOptions) error {
	sum, err := tgaws.ImportFindings(ctx, cfg, report.Findings(rep), o)
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("--securityhub: %w", err)}
	}
	fmt.Fprintf(stderr, "imported %d finding(s) into Security Hub in %s\n", sum.Imported, cfg.Region)
	if len(sum.Failed) > 0 {
		for _, f := range sum.Failed {
			fmt.Fprintln(stderr, "trailguard: --securityhub:", f)
		}
		return &exitError{code: 2, err: fmt.Errorf("--securityhub: %d finding(s) or account(s) refused", len(sum.Failed))}
	}
	return nil
}

func isTerminal(w io.Writer) bool {
	f, ok := rawWriter(w).(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// redraws reports whether w takes cursor control (carriage return and the
// erase-line escape): a terminal whose TERM is not "dumb". Anything else —
// a pipe, a CI log, Emacs' shell — gets plain lines or nothing, never a
// raw escape code.
func redraws(w io.Writer) bool {
	return isTerminal(w) && canRedraw(os.Getenv("TERM"))
}

// canRedraw is the TERM half of redraws: "dumb" declares a terminal
// without cursor control.
func canRedraw(termName string) bool {
	return termName != "dumb"
}

type scanFlags struct {
	out          outputFlags
	aws          awsFlags
	org          orgFlags
	evidenceDir  string
	saveEvidence string
	timeout      time.Duration
	securityHub  bool
	delivery     deliveryFlags
}

func newScanCmd() *cobra.Command {
	sf := scanFlags{
		aws: awsFlags{regionUsage: "region to ask DescribeTrails and DescribeRegions in (default: AWS_REGION, profile, or " + tgaws.DefaultRegion + ")"},
		org: orgFlags{orgUsage: "scan every ACTIVE account of the organization (from the management account or a delegated administrator)"},
	}
	cmd := &cobra.Command{
		Use:   "scan",
		Short: "Audit the account of the current AWS credentials (or an evidence directory) for CIS 3.1",
		Long: `scan reads the account of the current AWS credentials — the SDK's default
credential chain, --profile, --region, --endpoint-url or AWS_ENDPOINT_URL — and
prints the verdict, the reasons, the trails considered and which trail covers
each enabled region.

It calls DescribeTrails once, then GetTrailStatus and GetEventSelectors once per
multi-region trail, by ARN, in the trail's home region. With --evidence DIR it
reads a directory written by --save-evidence or by the script that
'trailguard collect-script' prints, with no AWS access.

The trail that covers an account is also checked for delivery: a delivery
error (S3, digest files, CloudWatch Logs), a latest delivery older than
--max-delivery-age, no delivery at all, or log file validation off is a
warning with its fix. With --require-delivery a trail whose records do not
arrive does not count (log file validation stays a warning).

With --org, run from the management account (or a delegated administrator),
it lists the organization's ACTIVE accounts, assumes --role-name in each and
scans them concurrently; the management account is scanned with the caller's
own credentials, first, so that its organization trail's status and selectors
answer for every member. A member that cannot be reached is ERROR with the
reason and the scan goes on. Ctrl-C (or --timeout) stops new work and prints
the accounts finished so far, marked partial (exit code 2); Ctrl-C twice quits
at once.

Exit codes: 0 PASS, 1 FAIL, 2 UNKNOWN, ERROR, a partial scan or a usage error.`,
		Example: `  trailguard scan
  trailguard scan --profile audit --format json --output report.json
  trailguard scan --save-evidence ./evidence
  trailguard scan --evidence ./evidence --strict
  trailguard scan --require-delivery --max-delivery-age 6h
  trailguard scan --org --concurrency 32 --exclude-accounts 111111111111
  trailguard scan --org --accounts-file accounts.txt --role-name AuditRole --external-id ...`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runScan(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), sf)
		},
	}
	f := cmd.Flags()
	sf.out.register(f)
	sf.aws.register(f)
	f.StringVar(&sf.evidenceDir, "evidence", "", "evaluate the evidence directory `DIR` offline instead of calling AWS")
	f.StringVar(&sf.saveEvidence, "save-evidence", "", "also write the raw API responses to `DIR` in the evidence layout")
	f.DurationVar(&sf.timeout, "timeout", 0, "stop the whole scan after this long and report what finished, marked partial (0: no limit)")
	sf.org.register(f)
	sf.delivery.register(f)
	f.BoolVar(&sf.securityHub, "securityhub", false, "also import the findings into AWS Security Hub (BatchImportFindings, in --region);\nwith --org each member's through its role, which then needs securityhub:BatchImportFindings")
	return cmd
}

// validate checks the flags of every group, then how scan combines them.
func (sf *scanFlags) validate() error {
	if err := sf.out.validate(); err != nil {
		return err
	}
	if sf.evidenceDir != "" && (sf.aws.opts.Profile != "" || sf.aws.opts.EndpointURL != "") {
		return usageErr("--evidence reads a directory offline: it cannot be combined with --profile or --endpoint-url")
	}
	if err := validateAll(&sf.aws, &sf.org, &sf.delivery); err != nil {
		return err
	}
	if sf.timeout < 0 {
		return usageErr("--timeout must not be negative")
	}
	if sf.saveEvidence != "" {
		// Checked now, like the report's paths: the evidence is written
		// only after the whole scan.
		if err := checkWritableDir(sf.saveEvidence); err != nil {
			return usageErr("--save-evidence: %v", err)
		}
	}
	if sf.securityHub && sf.evidenceDir != "" {
		return usageErr("--securityhub imports from a live scan; it cannot be combined with --evidence")
	}
	if sf.org.org && sf.evidenceDir != "" {
		return usageErr("--org scans AWS; an evidence directory already holds its accounts")
	}
	return nil
}

func runScan(ctx context.Context, stdout, stderr io.Writer, sf scanFlags) error {
	if err := sf.validate(); err != nil {
		return err
	}
	opts := tgaws.ScanOptions{
		Evidence:     sf.evidenceDir,
		Organization: sf.org.org,
		Org:          sf.org.options(),
		Timeout:      sf.timeout,
		SaveEvidence: sf.saveEvidence,
		Provenance:   evidence.Provenance{ToolVersion: toolVersion(), CommandLine: os.Args},
		Evaluate:     sf.delivery.options(trailguard.Options{Strict: sf.out.strict}),
	}
	source, scanRegion := "aws", ""
	var liveCfg *sdkaws.Config
	var cfg sdkaws.Config
	if sf.evidenceDir != "" {
		source = "evidence:" + sf.evidenceDir
	} else {
		var err error
		sf.aws.opts.Warn = func(msg string) { fmt.Fprintln(stderr, "trailguard: warning:", msg) }
		if cfg, err = tgaws.LoadConfig(ctx, sf.aws.opts, nil); err != nil {
			return &exitError{code: 2, err: err}
		}
		scanRegion, liveCfg = cfg.Region, &cfg
	}
	parent := ctx // Ctrl-C ends it; the timeout does not
	if sf.timeout > 0 {
		// --timeout bounds the whole run, the Security Hub import
		// included; the scan itself stops at the same moment.
		var cancel context.CancelFunc
		ctx, cancel = tgaws.WithFlagTimeout(ctx, "--timeout", sf.timeout)
		defer cancel()
	}
	progress := newProgress(stderr)
	switch {
	case sf.evidenceDir != "":
	case sf.org.org:
		stopWatch := watchInterrupt(parent, stderr)
		defer stopWatch()
		opts.Org.Progress = progress.org
		progress.say("listing the organization's accounts")
	default:
		progress.say("scanning the account of the current credentials (region %s)", cfg.Region)
	}
	sc, err := tgaws.Scan(ctx, cfg, opts)
	progress.done()
	if err != nil {
		if sf.evidenceDir != "" {
			return usageErr("--evidence: %v", err)
		}
		return &exitError{code: 2, err: err}
	}
	if sf.saveEvidence != "" && sc.SaveEvidenceErr == nil {
		fmt.Fprintf(stderr, "evidence written to %s\n", sf.saveEvidence)
	}
	rep := scanReport(source, scanRegion, opts.Evaluate, sc)
	sf.out.applyMutes(stderr, rep)
	sf.out.stderr = stderr
	err = sf.out.write(stdout, rep)
	if sf.securityHub && liveCfg != nil {
		if herr := importFindings(ctx, stderr, *liveCfg, rep, opts.Org); herr != nil && err == nil {
			err = herr
		} else if herr != nil {
			fmt.Fprintln(stderr, "trailguard:", herr)
		}
	}
	if sc.SaveEvidenceErr != nil {
		// The report is still printed; the evidence failure then decides the
		// exit code unless a FAIL already did.
		code := 2
		if trailguard.ExitCode(rep.Results) == 1 {
			code = 1
		}
		return &exitError{code: code, err: fmt.Errorf("--save-evidence: %w", sc.SaveEvidenceErr)}
	}
	return err
}

// scanReport turns a scan's outcome into the report every format prints.
func scanReport(source, region string, eval trailguard.Options, sc tgaws.Outcome) *report.Report {
	rep := report.New(toolVersion(), report.Scan{
		Source: source, Region: region, Strict: eval.Strict, StartedAt: sc.StartedAt.UTC(), DurationMS: time.Since(sc.StartedAt).Milliseconds(),
		RequireDelivery: eval.RequireDelivery, MaxDeliveryAge: report.Age(eval.MaxDeliveryAge),
	}, sc.ReportResults(), sc.Calls)
	if sc.Partial != "" {
		rep.Partial = &report.Partial{Reason: sc.Partial, NotScanned: sc.NotScanned,
			ListingCutShort: sc.ListingCutShort, AccountsListed: sc.AccountsListed}
		if rep.Partial.NotScanned == nil {
			rep.Partial.NotScanned = []string{}
		}
	}
	rep.Skipped = sc.Skipped
	rep.Notices = append(rep.Notices, excludedNotFound(sc.ExcludedNotFound)...)
	rep.Notices = append(rep.Notices, sc.EvidenceNotices...)
	return rep
}

// progress prints a one-line status on stderr while work runs, only when
// stderr is a terminal that redraws (a pipe, a CI log or TERM=dumb gets
// nothing). It writes to the terminal raw, to move the cursor, so what it
// says is escaped here.
type progress struct {
	w     io.Writer
	on    bool
	start time.Time
	bar   orgBar
}

func newProgress(w io.Writer) *progress {
	return &progress{w: rawWriter(w), on: redraws(w), start: time.Now()}
}

func (p *progress) say(format string, args ...any) {
	if p.on {
		fmt.Fprint(p.w, "\r\x1b[K"+report.Escape(fmt.Sprintf(format, args...))+" …")
	}
}

// org draws the organization scan's progress bar: accounts done of those
// listed (≥ while the listing goes on), how many do not pass so far, and
// the time left at the rate so far.
func (p *progress) org(o tgaws.OrgProgress) {
	if !p.on {
		return
	}
	p.say("%s", p.bar.line(o, time.Since(p.start)))
}

// orgBar draws the organization scan's bar so that it never moves
// backwards: while the listing goes on the number of accounts is only a
// lower bound that grows page by page, so a fraction of it would shrink;
// the bar fills only once the listing is complete (the count then says
// "n/≥m"), and never below what it showed before.
type orgBar struct {
	filled int
}

const orgBarWidth = 24

func (b *orgBar) line(o tgaws.OrgProgress, elapsed time.Duration) string {
	total := max(o.Listed, o.Done, 1)
	filled := 0
	if o.ListingDone {
		filled = min(orgBarWidth*o.Done/total, orgBarWidth)
	}
	b.filled = max(b.filled, filled)
	return orgProgressLine(o, b.filled, elapsed)
}

// orgProgressLine is one state of the bar, filled cells of orgBarWidth.
func orgProgressLine(o tgaws.OrgProgress, filled int, elapsed time.Duration) string {
	total := max(o.Listed, o.Done, 1)
	bar := strings.Repeat("█", filled) + strings.Repeat("░", orgBarWidth-filled)
	of := fmt.Sprintf("%d", total)
	if !o.ListingDone {
		of = "≥" + of
	}
	line := fmt.Sprintf("%s %d/%s accounts, %d not passing", bar, o.Done, of, o.Failing)
	if o.ListingDone && o.Done > 0 && o.Done < total {
		left := time.Duration(float64(elapsed) / float64(o.Done) * float64(total-o.Done))
		line += fmt.Sprintf(", about %s left", left.Round(time.Second))
	}
	return line
}

func (p *progress) done() {
	if p.on {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}

// watchInterrupt tells the user, when ctx ends by Ctrl-C, that the scan is
// winding down: over the progress line on a terminal that redraws, as a
// plain line anywhere else. The returned func stops watching.
func watchInterrupt(ctx context.Context, stderr io.Writer) func() {
	stop := make(chan struct{})
	const msg = "interrupted: reporting the accounts finished so far (Ctrl-C again quits at once)"
	go func() {
		select {
		case <-ctx.Done():
			if redraws(stderr) {
				fmt.Fprintln(rawWriter(stderr), "\r\x1b[K"+msg)
			} else {
				fmt.Fprintln(stderr, "trailguard: "+msg)
			}
		case <-stop:
		}
	}()
	return func() { close(stop) }
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
