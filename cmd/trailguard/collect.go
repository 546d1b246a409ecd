package main

import (
	"github.com/spf13/cobra"

	"github.com/trailguard/trailguard/evidence"
)

func newCollectScriptCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "collect-script",
		Short: "Print the AWS CLI script an auditor runs to collect evidence by hand",
		Long: `collect-script prints a bash script that needs only the AWS CLI. Run with
read-only credentials, it writes the evidence directory that
'trailguard scan --evidence DIR' reads:

  trailguard collect-script > collect.sh
  AWS_PROFILE=audit bash collect.sh ./evidence
  trailguard scan --evidence ./evidence

Each account directory ends with manifest.json: the caller ARN, start and
end time, command line and the SHA-256 of every file written (sha256sum or
shasum -a 256). scan --evidence warns about every file changed, added or
removed after collection.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return evidence.CollectScript(cmd.OutOrStdout())
		},
	}
}
