package main

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"

	"github.com/spf13/cobra"

	"github.com/trailguard/trailguard"
	tgaws "github.com/trailguard/trailguard/aws"
	"github.com/trailguard/trailguard/internal/awsemu"
	"github.com/trailguard/trailguard/internal/demo"
	"github.com/trailguard/trailguard/report"
)

func newDemoCmd() *cobra.Command {
	var out outputFlags
	var saveEvidence string
	var delivery deliveryFlags
	var withHistory bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Scan a built-in emulated AWS organization: no AWS account or network needed",
		Long: `demo starts trailguard's AWS emulator in this process, on a loopback port,
seeds it with accounts in the states CIS 3.1 tells apart (compliant through an
organization trail; single-region trail only; multi-region but stopped;
read-only management events; advanced selectors with an exclusion and a
delivery error; no trail at all; a member covered by the organization trail),
scans them over HTTP with the real AWS SDK, exactly as 'scan' scans AWS, and
prints the result.

With --history it also gives the emulated accounts a past (logging stopped for
three days last month by an IAM user, a denied StopLogging, selectors narrowed
to read-only and widened back, a trail deleted and recreated) and prints what
'trailguard history --org' prints of it: who broke coverage, and when.

The demo exits 0 when it ran, whatever the verdicts: they are the point.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := validateAll(&out, &delivery); err != nil {
				return err
			}
			if withHistory {
				return runDemoHistory(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), out)
			}
			eval := delivery.options(trailguard.Options{Strict: out.strict})
			rep, err := runDemo(cmd.Context(), cmd.ErrOrStderr(), out.format == "text" && out.output == "", eval, saveEvidence)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			out.applyMutes(cmd.ErrOrStderr(), rep)
			out.stderr = cmd.ErrOrStderr()
			if err := out.write(cmd.OutOrStdout(), rep); err != nil {
				if ee, ok := err.(*exitError); ok && ee.err == nil {
					return nil // verdicts are not failures of the demo
				}
				return err
			}
			return nil
		},
	}
	out.register(cmd.Flags())
	delivery.register(cmd.Flags())
	cmd.Flags().BoolVar(&withHistory, "history", false, "seed a past into the emulated accounts and print their coverage history (text, json or html)")
	cmd.Flags().StringVar(&saveEvidence, "save-evidence", "", "also write the demo's raw API responses to `DIR` (a sample for 'scan --evidence')")
	return cmd
}

// runDemo seeds an in-process emulator and scans every demo account with
// the one scan pipeline, each account through its own keys and one scanner
// for all, the management account first, as an organization scan would.
func runDemo(ctx context.Context, stderr io.Writer, intro bool, eval trailguard.Options, saveEvidence string) (*report.Report, error) {
	emu := awsemu.New()
	srv := httptest.NewServer(emu)
	defer srv.Close()
	seeded, err := demo.Seed(emu)
	if err != nil {
		return nil, err
	}
	if intro {
		fmt.Fprintf(stderr, "demo: an AWS emulator at %s holds %d accounts; scanning each over the real AWS SDK (no AWS account used)\n", srv.URL, len(seeded))
		fmt.Fprintf(stderr, "demo: 'trailguard demo --history' shows who broke coverage, and when\n\n")
	}
	opts := tgaws.ScanOptions{SaveEvidence: saveEvidence, Evaluate: eval}
	for _, a := range seeded {
		opts.Targets = append(opts.Targets, tgaws.Target{Name: a.Name,
			Config: tgaws.StaticConfig(srv.URL, tgaws.DefaultRegion, a.Credentials.AccessKeyID, a.Credentials.SecretAccessKey, a.Credentials.SessionToken, nil)})
	}
	sc, err := tgaws.Scan(ctx, sdkaws.Config{}, opts)
	if err != nil {
		return nil, err
	}
	if sc.SaveEvidenceErr != nil {
		return nil, fmt.Errorf("--save-evidence: %w", sc.SaveEvidenceErr)
	}
	return scanReport("demo emulator", tgaws.DefaultRegion, eval, sc), nil
}

// runDemoHistory seeds the demo organization and a past consistent with
// it, reads every account's state and event history over HTTP as
// 'history --org' does (each account through its own keys, the
// management account's events applying to the members its organization
// trail covers), and prints the history.
func runDemoHistory(ctx context.Context, stdout, stderr io.Writer, out outputFlags) error {
	format := out.formats()[0]
	switch format {
	case "text", "json", "html":
	default:
		return usageErr("demo --history prints text, json or html, not %s", format)
	}
	emu := awsemu.New()
	srv := httptest.NewServer(emu)
	defer srv.Close()
	seeded, err := demo.Seed(emu)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	start := time.Now().UTC()
	if err := emu.SeedHistory(start); err != nil {
		return &exitError{code: 2, err: fmt.Errorf("seed the demo's history: %w", err)}
	}
	if format == "text" && out.output == "" {
		fmt.Fprintf(stderr, "demo: an AWS emulator at %s holds %d accounts with 90 days of event history; reading it over the real AWS SDK at CloudTrail's 2 LookupEvents a second\n\n", srv.URL, len(seeded))
	}
	opts := tgaws.ScanOptions{Evaluate: trailguard.Options{Strict: out.strict}}
	configs := map[string]sdkaws.Config{}
	for _, a := range seeded {
		c := tgaws.StaticConfig(srv.URL, tgaws.DefaultRegion, a.Credentials.AccessKeyID, a.Credentials.SecretAccessKey, a.Credentials.SessionToken, nil)
		configs[a.ID] = c
		opts.Targets = append(opts.Targets, tgaws.Target{Name: a.Name, Config: c})
	}
	sc, err := tgaws.Scan(ctx, sdkaws.Config{}, opts)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	at := time.Now().UTC()
	src := liveSource{cfg: sdkaws.Config{Region: tgaws.DefaultRegion}, mgmt: demo.Management, tps: lookupTPS,
		configFor: func(id string) (sdkaws.Config, bool) { c, ok := configs[id]; return c, ok }}
	progress := newProgress(stderr)
	h := replayAll(ctx, sc, src, at.Add(-maxWindow), at, at, trailguard.Options{Strict: out.strict}, len(seeded), func(done, total int) {
		progress.say("event history: %d/%d accounts", done, total)
	})
	progress.done()
	h.Source = "demo emulator"
	h.Tool = report.Tool{Name: "trailguard", Version: toolVersion()}
	err = writeHistory(stdout, format, out.output, h, scanReport("demo emulator", tgaws.DefaultRegion, trailguard.Options{Strict: out.strict}, sc))
	if ee, ok := err.(*exitError); ok && ee.err == nil {
		return nil // gaps are the point of the demo, not its failure
	}
	return err
}
