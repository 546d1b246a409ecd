package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/trailguard/trailguard"
)

func newExplainCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "explain",
		Short: "Explain the control: what it is, why it matters, how to fix it, gotchas",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprint(cmd.OutOrStdout(), trailguard.Explanation())
			return err
		},
	}
}
