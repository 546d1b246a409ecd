package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
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

type scanFlags struct {
	out            outputFlags
	aws            tgaws.ConfigOptions
	evidenceDir    string
	saveEvidence   string
	timeout        time.Duration
	accountTimeout time.Duration
	org            bool
	orgOpts        tgaws.OrgOptions
	accountsFile   string
	securityHub    bool
}

func newScanCmd() *cobra.Command {
	var sf scanFlags
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
  trailguard scan --org --concurrency 32 --exclude-accounts 111111111111
  trailguard scan --org --accounts-file accounts.txt --role-name AuditRole --external-id ...`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runScan(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), sf)
		},
	}
	sf.out.register(cmd)
	f := cmd.Flags()
	f.StringVar(&sf.aws.Profile, "profile", "", "AWS shared-config profile `NAME` (default: AWS_PROFILE, else default)")
	f.StringVar(&sf.aws.Region, "region", "", "region to ask DescribeTrails and DescribeRegions in (default: AWS_REGION, profile, or "+tgaws.DefaultRegion+")")
	f.StringVar(&sf.aws.EndpointURL, "endpoint-url", "", "send every AWS request to this `URL` (default: AWS_ENDPOINT_URL)")
	f.StringVar(&sf.evidenceDir, "evidence", "", "evaluate the evidence directory `DIR` offline instead of calling AWS")
	f.StringVar(&sf.saveEvidence, "save-evidence", "", "also write the raw API responses to `DIR` in the evidence layout")
	f.DurationVar(&sf.timeout, "timeout", 0, "stop the whole scan after this long and report what finished, marked partial (0: no limit)")
	f.DurationVar(&sf.accountTimeout, "account-timeout", tgaws.DefaultAccountTimeout, "give up one account after this long (it is then ERROR with the reason)")
	f.IntVar(&sf.aws.MaxAttempts, "max-attempts", tgaws.DefaultMaxAttempts, "tries per AWS call, retries of throttled and failed calls included")
	f.BoolVar(&sf.org, "org", false, "scan every ACTIVE account of the organization (from the management account or a delegated administrator)")
	f.StringVar(&sf.orgOpts.RoleName, "role-name", tgaws.DefaultRoleName, "with --org: role `NAME` assumed in each member account")
	f.StringVar(&sf.orgOpts.ExternalID, "external-id", "", "with --org: external `ID` for AssumeRole")
	f.IntVar(&sf.orgOpts.Concurrency, "concurrency", tgaws.DefaultConcurrency, "with --org: member accounts scanned at once")
	f.StringSliceVar(&sf.orgOpts.Include, "accounts", nil, "with --org: scan only these account `IDS` (comma-separated)")
	f.StringVar(&sf.accountsFile, "accounts-file", "", "with --org: scan only the account ids in `FILE` (one per line, # comments)")
	f.StringSliceVar(&sf.orgOpts.Exclude, "exclude-accounts", nil, "with --org: leave these account `IDS` out")
	f.BoolVar(&sf.securityHub, "securityhub", false, "also import the findings into AWS Security Hub (BatchImportFindings, in --region);\nwith --org each member's through its role, which then needs securityhub:BatchImportFindings")
	f.BoolVar(&sf.orgOpts.MemberRegions, "member-regions", false, "with --org: ask every member for its enabled regions, even when it passes\n(by default a passing member's opt-in regions are listed as not read)")
	return cmd
}

func runScan(ctx context.Context, stdout, stderr io.Writer, sf scanFlags) error {
	if err := sf.out.validate(); err != nil {
		return err
	}
	if sf.evidenceDir != "" && (sf.aws.Profile != "" || sf.aws.EndpointURL != "") {
		return usageErr("--evidence reads a directory offline: it cannot be combined with --profile or --endpoint-url")
	}
	if !sf.org && (len(sf.orgOpts.Include) > 0 || len(sf.orgOpts.Exclude) > 0 || sf.accountsFile != "") {
		return usageErr("--accounts, --accounts-file and --exclude-accounts go with --org")
	}
	if sf.orgOpts.Concurrency < 1 {
		return usageErr("--concurrency must be at least 1")
	}
	if sf.accountTimeout <= 0 || sf.timeout < 0 {
		return usageErr("--account-timeout must be positive and --timeout not negative")
	}
	for _, id := range append(append([]string(nil), sf.orgOpts.Include...), sf.orgOpts.Exclude...) {
		if !evidence.IsAccountID(id) {
			return usageErr("%q is not an account id (12 digits)", id)
		}
	}
	if sf.accountsFile != "" {
		ids, err := readAccountsFile(sf.accountsFile)
		if err != nil {
			return usageErr("--accounts-file: %v", err)
		}
		sf.orgOpts.Include = append(sf.orgOpts.Include, ids...)
	}
	sf.orgOpts.AccountTimeout = sf.accountTimeout
	if sf.securityHub && sf.evidenceDir != "" {
		return usageErr("--securityhub imports from a live scan; it cannot be combined with --evidence")
	}
	if sf.org && sf.evidenceDir != "" {
		return usageErr("--org scans AWS; an evidence directory already holds its accounts")
	}
	started := time.Now()
	var partial *report.Partial
	scanRegion := ""
	var liveCfg *sdkaws.Config
	var skipped map[string]string
	var notInOrg []string
	var notices []string
	var accounts []trailguard.Account
	var calls map[string]int
	source := "aws"
	if sf.evidenceDir != "" {
		source = "evidence:" + sf.evidenceDir
		var err error
		accounts, err = evidence.Read(sf.evidenceDir)
		if err != nil {
			return usageErr("--evidence: %v", err)
		}
	} else {
		parent := ctx
		if sf.timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, sf.timeout)
			defer cancel()
		}
		counter := tgaws.NewCallCounter()
		cfg, err := tgaws.LoadConfig(ctx, sf.aws, counter)
		if err != nil {
			return &exitError{code: 2, err: err}
		}
		scanRegion = cfg.Region
		liveCfg = &cfg
		progress := newProgress(stderr)
		if sf.org {
			stopWatch := watchInterrupt(parent, stderr)
			defer stopWatch()
			sf.orgOpts.Progress = progress.org
			progress.say("listing the organization's accounts")
			org, err := tgaws.NewScanner().ScanOrganization(ctx, cfg, sf.orgOpts)
			progress.done()
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			accounts = org.Accounts
			skipped = org.Skipped
			notInOrg = org.NotInOrganization
			for _, id := range org.ExcludedNotFound {
				notices = append(notices, "--exclude-accounts "+id+": no such account in the organization (Organizations ListAccounts does not list it)")
			}
			if org.Partial != "" {
				partial = &report.Partial{Reason: org.Partial, NotScanned: org.NotScanned}
				if partial.NotScanned == nil {
					partial.NotScanned = []string{}
				}
			}
		} else {
			progress.say("scanning the account of the current credentials (region %s)", cfg.Region)
			actx, cancel := context.WithTimeout(ctx, sf.accountTimeout)
			accounts = []trailguard.Account{tgaws.NewScanner().ScanAccount(actx, cfg)}
			cancel()
			progress.done()
		}
		calls = counter.Counts()
	}
	var saveErr error
	if sf.saveEvidence != "" {
		// Written before the evaluation shares facts between accounts, so the
		// files hold what each account itself answered.
		if saveErr = evidence.Write(sf.saveEvidence, accounts); saveErr == nil {
			fmt.Fprintf(stderr, "evidence written to %s\n", sf.saveEvidence)
		}
	}
	results := trailguard.EvaluateAll(accounts, trailguard.Options{Strict: sf.out.strict})
	if len(notInOrg) > 0 {
		results = append(results, notInOrganization(notInOrg)...)
		sort.SliceStable(results, func(i, j int) bool { return results[i].Account < results[j].Account })
	}
	rep := report.New(toolVersion(), report.Scan{
		Source: source, Region: scanRegion, Strict: sf.out.strict, StartedAt: started.UTC(), DurationMS: time.Since(started).Milliseconds(),
	}, results, calls)
	rep.Partial, rep.Skipped = partial, skipped
	rep.Notices = append(rep.Notices, notices...)
	sf.out.applyMutes(stderr, rep)
	err := sf.out.write(stdout, rep)
	if sf.securityHub && liveCfg != nil {
		if herr := importFindings(ctx, stderr, *liveCfg, rep, sf.orgOpts); herr != nil && err == nil {
			err = herr
		} else if herr != nil {
			fmt.Fprintln(stderr, "trailguard:", herr)
		}
	}
	if saveErr != nil {
		// The report is still printed; the evidence failure then decides the
		// exit code unless a FAIL already did.
		code := 2
		if trailguard.ExitCode(results) == 1 {
			code = 1
		}
		return &exitError{code: code, err: fmt.Errorf("--save-evidence: %w", saveErr)}
	}
	return err
}

// progress prints a one-line status on stderr while work runs, only when
// stderr is a terminal (a pipe or a CI log gets nothing). It writes to the
// terminal raw, to move the cursor, so what it says is escaped here.
type progress struct {
	w     io.Writer
	on    bool
	start time.Time
}

func newProgress(w io.Writer) *progress {
	return &progress{w: rawWriter(w), on: isTerminal(w), start: time.Now()}
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
	p.say("%s", orgProgressLine(o, time.Since(p.start)))
}

func orgProgressLine(o tgaws.OrgProgress, elapsed time.Duration) string {
	const width = 24
	total := max(o.Listed, o.Done, 1)
	filled := min(width*o.Done/total, width)
	bar := strings.Repeat("█", filled) + strings.Repeat("░", width-filled)
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
// winding down. The returned func stops watching.
func watchInterrupt(ctx context.Context, stderr io.Writer) func() {
	stop := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			fmt.Fprintln(rawWriter(stderr), "\r\x1b[Kinterrupted: reporting the accounts finished so far (Ctrl-C again quits at once)")
		case <-stop:
		}
	}()
	return func() { close(stop) }
}

// notInOrganization is the ERROR result of each account asked for by
// --accounts or --accounts-file that the organization's complete listing
// does not hold: a requested account that is not found is reported (and
// makes the exit code 2), never dropped from a clean-looking report.
func notInOrganization(ids []string) []trailguard.Result {
	out := make([]trailguard.Result, 0, len(ids))
	for _, id := range ids {
		out = append(out, trailguard.Result{
			Account: id,
			Status:  trailguard.StatusError,
			Reasons: []string{"not in the organization: account " + id + " was asked for (--accounts or --accounts-file) but Organizations ListAccounts does not list it"},
		})
	}
	return out
}

// maxAccountsFile bounds --accounts-file: a million bytes hold some
// eighty thousand account ids, more than an organization may have.
const maxAccountsFile = 1 << 20

// readAccountsFile reads account ids, one per line; blank lines and text
// after # are ignored. Only a regular file is read (a FIFO would block, a
// device never end), and at most maxAccountsFile bytes.
func readAccountsFile(path string) ([]string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file (%s)", path, fileKind(fi.Mode()))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxAccountsFile+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(b) > maxAccountsFile {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxAccountsFile)
	}
	var ids []string
	for i, line := range strings.Split(string(b), "\n") {
		if j := strings.IndexByte(line, '#'); j >= 0 {
			line = line[:j]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if !evidence.IsAccountID(line) {
			return nil, fmt.Errorf("%s:%d: %q is not an account id (12 digits)", path, i+1, line)
		}
		ids = append(ids, line)
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("%s: no account ids", path)
	}
	return ids, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// fileKind names what a file that is not a regular one is, for an error.
func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "mode " + m.String()
}
