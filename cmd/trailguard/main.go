// Command trailguard proves, fixes and keeps true CIS AWS Foundations
// v3.0.0 recommendation 3.1: CloudTrail records every management API call
// in every region of every account.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = ""

// toolVersion says which build this is, so that a report can be traced to
// the code that made it: the release version stamped at build time, else
// the module version (go install ...@vX, or the pseudo-version Go derives
// from the commit), else "dev" with the commit it was built from.
func toolVersion() string {
	bi, _ := debug.ReadBuildInfo()
	return versionOf(version, bi)
}

func versionOf(stamped string, bi *debug.BuildInfo) string {
	if stamped != "" {
		return stamped
	}
	if bi == nil {
		return "dev (commit unknown: no build information)"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev == "" {
		return "dev (commit unknown: built without version control information, as go run does)"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if modified == "true" {
		rev += "-dirty"
	}
	return "dev+" + rev
}

// exitError carries an exit code out of a command: 1 a FAIL, 2 UNKNOWN,
// ERROR or a usage error (DESIGN section 4).
type exitError struct {
	code int
	err  error // nil when the results already said it all
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// usageErr marks an error as the user's input being wrong: exit code 2.
func usageErr(format string, args ...any) error {
	return &exitError{code: 2, err: fmt.Errorf(format, args...)}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first Ctrl-C asks the running command to wind down and report;
	// once it is seen, the default handling returns, so a second one quits.
	context.AfterFunc(ctx, stop)
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the CLI and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	// Every line a command prints on standard error — errors that embed
	// AWS messages, file paths and contents, warnings, notices — goes
	// through one escaping writer; only the progress line reaches the
	// terminal raw (rawWriter), with its own input escaped.
	root.SetErr(escapingWriter{w: stderr})
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(root.ErrOrStderr(), "trailguard:", ee.err)
		}
		return ee.code
	}
	// Cobra's own errors (unknown flag or command, bad value) are usage errors.
	fmt.Fprintln(root.ErrOrStderr(), "trailguard:", err)
	fmt.Fprintln(root.ErrOrStderr(), "Run 'trailguard --help' for usage.")
	return 2
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "trailguard",
		Short: "Prove that CloudTrail records every management API call in every region (CIS AWS 3.1)",
		Long: `trailguard checks CIS AWS Foundations Benchmark v3.0.0 recommendation 3.1,
"Ensure CloudTrail is enabled in all regions": at least one multi-region trail
that is logging and records all management events, read and write.

Start with 'trailguard demo' (no AWS account needed), then 'trailguard scan'.
Exit codes: 0 all PASS, 1 a FAIL, 2 UNKNOWN/ERROR or a usage error.`,
		Version:       toolVersion(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newScanCmd(), newDemoCmd(), newExplainCmd(), newCollectScriptCmd(), newIAMPolicyCmd(), newIaCCmd(), newFixCmd(), newDeployCmd(), newValidateLogsCmd())
	return root
}
