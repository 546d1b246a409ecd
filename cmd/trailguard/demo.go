package main

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"

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

The demo exits 0 when it ran, whatever the verdicts: they are the point.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := validateAll(&out, &delivery); err != nil {
				return err
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
		fmt.Fprintf(stderr, "demo: an AWS emulator at %s holds %d accounts; scanning each over the real AWS SDK (no AWS account used)\n\n", srv.URL, len(seeded))
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
