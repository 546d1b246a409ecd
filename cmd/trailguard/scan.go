package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/trailguard/trailguard"
	tgaws "github.com/trailguard/trailguard/aws"
	"github.com/trailguard/trailguard/evidence"
	"github.com/trailguard/trailguard/report"
)

// outputFlags are shared by every command that prints results.
type outputFlags struct {
	format string
	output string
	color  string
	strict bool
}

func (o *outputFlags) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVarP(&o.format, "format", "f", "text", "output format: "+strings.Join(report.Formats(), ", "))
	f.StringVarP(&o.output, "output", "o", "", "write the report to `FILE` instead of standard output")
	f.StringVar(&o.color, "color", "auto", "colour: auto (terminal and NO_COLOR unset), always, never")
	f.BoolVar(&o.strict, "strict", false, "a trail that excludes management event sources (KMS, RDS Data API) does not count,\nas in AWS Config multi-region-cloudtrail-enabled and Security Hub CloudTrail.1")
}

func (o *outputFlags) validate() error {
	if _, err := report.ForFormat(o.format, report.Style{}); err != nil {
		return usageErr("--format: %v", err)
	}
	switch o.color {
	case "auto", "always", "never":
	default:
		return usageErr("--color must be auto, always or never, not %q", o.color)
	}
	return nil
}

// write renders the report and returns the exit code the results call for.
func (o *outputFlags) write(stdout io.Writer, rep *report.Report) error {
	var w io.Writer = stdout
	colour := o.color == "always"
	if o.output != "" {
		f, err := os.Create(o.output)
		if err != nil {
			return &exitError{code: 2, err: fmt.Errorf("--output: %w", err)}
		}
		defer f.Close()
		w = f
	} else if o.color == "auto" {
		colour = isTerminal(stdout) && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
	}
	wr, err := report.ForFormat(o.format, report.Style{Color: colour})
	if err != nil {
		return usageErr("--format: %v", err)
	}
	if err := wr.Write(w, rep); err != nil {
		return &exitError{code: 2, err: fmt.Errorf("write report: %w", err)}
	}
	if f, ok := w.(*os.File); ok && o.output != "" {
		if err := f.Close(); err != nil {
			return &exitError{code: 2, err: fmt.Errorf("--output: %w", err)}
		}
	}
	if code := trailguard.ExitCode(rep.Results); code != 0 {
		return &exitError{code: code}
	}
	return nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

type scanFlags struct {
	out          outputFlags
	aws          tgaws.ConfigOptions
	evidenceDir  string
	saveEvidence string
	timeout      time.Duration
	org          bool
	orgOpts      tgaws.OrgOptions
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

Exit codes: 0 PASS, 1 FAIL, 2 UNKNOWN, ERROR or a usage error.`,
		Example: `  trailguard scan
  trailguard scan --profile audit --format json --output report.json
  trailguard scan --save-evidence ./evidence
  trailguard scan --evidence ./evidence --strict`,
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
	f.DurationVar(&sf.timeout, "timeout", 2*time.Minute, "give up the scan after this long")
	f.BoolVar(&sf.org, "org", false, "scan every ACTIVE account of the organization (from the management account or a delegated administrator)")
	f.StringVar(&sf.orgOpts.RoleName, "role-name", tgaws.DefaultRoleName, "with --org: role `NAME` assumed in each member account")
	f.StringVar(&sf.orgOpts.ExternalID, "external-id", "", "with --org: external `ID` for AssumeRole")
	f.IntVar(&sf.orgOpts.Concurrency, "concurrency", 8, "with --org: member accounts scanned at once")
	f.StringSliceVar(&sf.orgOpts.Include, "accounts", nil, "with --org: scan only these account `IDS` (comma-separated)")
	f.StringSliceVar(&sf.orgOpts.Exclude, "exclude-accounts", nil, "with --org: leave these account `IDS` out")
	return cmd
}

func runScan(ctx context.Context, stdout, stderr io.Writer, sf scanFlags) error {
	if err := sf.out.validate(); err != nil {
		return err
	}
	if sf.evidenceDir != "" && (sf.aws.Profile != "" || sf.aws.EndpointURL != "") {
		return usageErr("--evidence reads a directory offline: it cannot be combined with --profile or --endpoint-url")
	}
	if !sf.org && (len(sf.orgOpts.Include) > 0 || len(sf.orgOpts.Exclude) > 0) {
		return usageErr("--accounts and --exclude-accounts go with --org")
	}
	if sf.org && sf.evidenceDir != "" {
		return usageErr("--org scans AWS; an evidence directory already holds its accounts")
	}
	started := time.Now()
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
		ctx, cancel := context.WithTimeout(ctx, sf.timeout)
		defer cancel()
		counter := tgaws.NewCallCounter()
		cfg, err := tgaws.LoadConfig(ctx, sf.aws, counter)
		if err != nil {
			return &exitError{code: 2, err: err}
		}
		progress := newProgress(stderr)
		if sf.org {
			sf.orgOpts.Progress = func(done, total int) { progress.say("scanned %d of %d accounts", done, total) }
			progress.say("listing the organization's accounts")
			org, err := tgaws.NewScanner().ScanOrganization(ctx, cfg, sf.orgOpts)
			progress.done()
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			for _, id := range sortedKeys(org.Skipped) {
				fmt.Fprintf(stderr, "skipped account %s: %s\n", id, org.Skipped[id])
			}
			accounts = org.Accounts
		} else {
			progress.say("scanning the account of the current credentials (region %s)", cfg.Region)
			accounts = []trailguard.Account{tgaws.NewScanner().ScanAccount(ctx, cfg)}
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
	rep := report.New(toolVersion(), report.Scan{
		Source: source, Strict: sf.out.strict, StartedAt: started.UTC(), DurationMS: time.Since(started).Milliseconds(),
	}, results, calls)
	err := sf.out.write(stdout, rep)
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
// stderr is a terminal (a pipe or a CI log gets nothing).
type progress struct {
	w  io.Writer
	on bool
}

func newProgress(w io.Writer) *progress {
	return &progress{w: w, on: isTerminal(w)}
}

func (p *progress) say(format string, args ...any) {
	if p.on {
		fmt.Fprintf(p.w, "\r\x1b[K"+format+" …", args...)
	}
}

func (p *progress) done() {
	if p.on {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
