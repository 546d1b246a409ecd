// Command awsemu serves trailguard's AWS emulator on a TCP address, with a
// generated organization, so that a person or a script can point the
// trailguard CLI (or the AWS CLI) at it:
//
//	./awsemu --accounts 1000 --latency 50ms --seed 1 > emu.env & pid=$!
//	while kill -0 $pid 2>/dev/null && ! grep -q '^# expected' emu.env; do sleep 0.2; done
//	grep -q '^# expected' emu.env && . ./emu.env && trailguard scan --org
//
// It listens first, on a free port unless --listen names one (4566, the
// port LocalStack and many local tools take, is left alone), so that a
// taken or invalid address fails at once, with the address in the message
// and exit code 1, before the organization is built and before anything is
// printed on standard output: a script waiting for the lines below sees
// the process end instead of waiting forever.
//
// Once listening it prints shell lines to source: AWS_ENDPOINT_URL with
// the address actually bound, the management account's keys, AWS_REGION
// and AWS_DEFAULT_REGION (the AWS CLI v1 reads only the latter), and a
// comment with the verdicts the organization is built to give when no
// fault is injected. It stops cleanly on SIGTERM or SIGINT (exit code 0).
//
// Two flags reproduce what a least-privilege or failing account looks
// like to a client, for every caller:
//
//	--deny s3:GetBucketPolicy,kms:GetKeyPolicy   AccessDenied on those IAM actions (wildcards allowed)
//	--fail GetBucketPolicy=ServiceUnavailable    that operation answers that error code
//
// (both repeatable or comma-separated).
//
// AWS Config custom rules invoke their function over HTTP:
//
//	--lambda-endpoint URL     where every rule's function is invoked (an HTTP POST of AWS Config's event)
//	--config-period DURATION  periodic rules run once each DURATION (default: only on StartConfigRulesEvaluation)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/trailguard/trailguard/internal/awsemu"
	"github.com/trailguard/trailguard/internal/demo"
	"github.com/trailguard/trailguard/report"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// defaultListen lets the system pick a free port on the loopback
// interface: a fixed default (LocalStack's 4566, say) is often taken, and
// the address bound is printed in AWS_ENDPOINT_URL anyway.
const defaultListen = "127.0.0.1:0"

type options struct {
	deny     listFlag
	fail     listFlag
	listen   string
	accounts int
	net      demo.Conditions
	empty    bool
	roleName string
	lambdas  listFlag
	// configPeriod: how often periodic AWS Config rules run.
	configPeriod time.Duration
	// history: how far back the seeded past of the accounts reaches (0:
	// none).
	history time.Duration
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o options
	fs := flag.NewFlagSet("awsemu", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.listen, "listen", defaultListen, "`address` to serve on (port 0 picks a free one; the one bound is printed in AWS_ENDPOINT_URL)")
	fs.IntVar(&o.accounts, "accounts", 10, "accounts in the organization, the management account included")
	o.net.RegisterFlags(fs)
	fs.BoolVar(&o.empty, "empty", false, "build the accounts, organization and member roles, but no trails")
	fs.StringVar(&o.roleName, "role-name", demo.DefaultRoleName, "role `name` created in member accounts")
	fs.Var(&o.deny, "deny", "IAM `ACTIONS` (comma separated, repeatable; wildcards * and ?) that get AccessDenied for every caller,\ne.g. s3:GetBucketPolicy,kms:GetKeyPolicy")
	fs.Var(&o.fail, "fail", "`OPERATION=CODE` (comma separated, repeatable): that operation answers with that error code\nand the HTTP status AWS gives it, e.g. GetBucketPolicy=ServiceUnavailable; SERVICE:OPERATION=CODE narrows it to one service")
	fs.Var(&o.lambdas, "lambda-endpoint", "`URL` or FUNCTION_ARN=URL (repeatable): where EventBridge rules deliver events for Lambda targets,\nthe invoke URL of a Lambda runtime interface emulator (http://HOST:PORT/2015-03-31/functions/function/invocations);\na bare URL serves every function without one of its own")
	fs.DurationVar(&o.configPeriod, "config-period", 0, "run every periodic AWS Config rule once each `DURATION` (0: only when StartConfigRulesEvaluation asks);\nthe rules' functions are invoked at --lambda-endpoint")
	fs.DurationVar(&o.history, "history", 0, "seed each account with a past in CloudTrail event history reaching `DURATION` back (e.g. 2160h, the 90 days\nLookupEvents keeps, the most it holds): logging stopped and started, selectors narrowed and widened, trails deleted,\nconsistent with the trails now; and the log and signed digest files the trails with log file validation delivered\nin that time (the last 24h of it at most), delivering on every 5 minutes while serving (0: no past, no deliveries)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: awsemu [flags]\n\nServes an emulated AWS organization for trailguard and the AWS CLI.\nPrints shell lines to eval, then serves until SIGTERM or SIGINT.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "awsemu: unexpected argument %q (see --help)\n", fs.Arg(0))
		return 2
	}
	if o.accounts < 1 {
		fmt.Fprintf(stderr, "awsemu: --accounts must be at least 1\n")
		return 2
	}
	if o.net.FaultRate < 0 || o.net.FaultRate > 1 {
		fmt.Fprintf(stderr, "awsemu: --fault-rate must be between 0 and 1\n")
		return 2
	}

	if o.configPeriod < 0 {
		fmt.Fprintf(stderr, "awsemu: --config-period must not be negative\n")
		return 2
	}
	if o.history < 0 {
		fmt.Fprintf(stderr, "awsemu: --history must not be negative\n")
		return 2
	}

	var faults []awsemu.Fault
	for _, f := range o.fail {
		fault, err := awsemu.ParseFault(f)
		if err != nil {
			fmt.Fprintf(stderr, "awsemu: --fail %v\n", err)
			return 2
		}
		faults = append(faults, fault)
	}
	for _, d := range o.deny {
		if err := awsemu.ValidAction(d); err != nil {
			fmt.Fprintf(stderr, "awsemu: --deny %v\n", err)
			return 2
		}
	}

	lambdas, err := parseLambdaEndpoints(o.lambdas)
	if err != nil {
		fmt.Fprintf(stderr, "awsemu: --lambda-endpoint %s\n", report.Escape(err.Error()))
		return 2
	}

	// Listen before the organization is built (seconds for thousands of
	// accounts): a taken port fails at once, and nothing is printed on
	// standard output that a waiting script could take for a server.
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		// net.OpError repeats the address; say it once, quoted, as given.
		reason := err
		var op *net.OpError
		if errors.As(err, &op) && op.Err != nil {
			reason = op.Err
		}
		hint := "give --listen as host:port; port 0 picks a free one"
		if errors.Is(err, syscall.EADDRINUSE) {
			hint = "another process holds that port; choose another --listen address, or port 0 for a free one"
		}
		// The reason may repeat what was typed: escaped, as every line on
		// standard error is.
		fmt.Fprintf(stderr, "awsemu: cannot listen on %q: %s (%s)\n", o.listen, report.Escape(reason.Error()), hint)
		return 1
	}
	emu := awsemu.New()
	org, err := demo.BuildOrg(emu, demo.OrgSpec{Accounts: o.accounts, Seed: o.net.Seed, Empty: o.empty, RoleName: o.roleName})
	if err != nil {
		ln.Close()
		fmt.Fprintf(stderr, "awsemu: %v\n", err)
		return 1
	}
	if o.history > 0 {
		// Before the denials and faults: the past is seeded directly.
		if err := emu.SeedHistoryWithin(time.Now(), o.history); err != nil {
			ln.Close()
			fmt.Fprintf(stderr, "awsemu: --history: %v\n", err)
			return 1
		}
		// The delivered files: the demo's trails name buckets that the
		// seeding did not create.
		emu.EnsureTrailBuckets()
		now := time.Now()
		if err := emu.SeedDeliveries(now.Add(-min(o.history, deliveryHistory)), now, deliveryLogFilesPerHour); err != nil {
			ln.Close()
			fmt.Fprintf(stderr, "awsemu: --history: %v\n", err)
			return 1
		}
		go runDeliveries(ctx, emu, deliveryInterval)
	}
	o.net.Apply(emu)
	// The organization is built; from here on the denials and faults
	// apply to every client.
	emu.Deny(o.deny...)
	for arn, u := range lambdas {
		emu.SetLambdaEndpoint(arn, u)
	}
	for _, f := range faults {
		emu.InjectFault(f)
	}
	go runConfigSchedule(ctx, emu, o.configPeriod)

	srv := &http.Server{Handler: emu, ReadHeaderTimeout: 10 * time.Second}
	m := org.Management
	fmt.Fprintf(stdout, "export AWS_ENDPOINT_URL=http://%s\n", ln.Addr())
	fmt.Fprintf(stdout, "export AWS_ACCESS_KEY_ID=%s\n", m.AccessKeyID)
	fmt.Fprintf(stdout, "export AWS_SECRET_ACCESS_KEY=%s\n", m.SecretAccessKey)
	fmt.Fprintf(stdout, "export AWS_REGION=us-east-1\n")
	fmt.Fprintf(stdout, "export AWS_DEFAULT_REGION=us-east-1\n")
	fmt.Fprintf(stdout, "# management account %s, %d accounts, member role %s\n", m.AccountID, o.accounts, o.roleName)
	e := org.Expected
	fmt.Fprintf(stdout, "# expected: PASS=%d FAIL=%d UNKNOWN=%d ERROR=%d\n", e["PASS"], e["FAIL"], e["UNKNOWN"], e["ERROR"])
	if f, ok := stdout.(*os.File); ok {
		f.Sync()
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		fmt.Fprintf(stderr, "awsemu: %v\n", err)
		return 1
	case <-ctx.Done():
	}
	// In-flight requests get a moment to finish; connections a client
	// opened and never used would hold Shutdown for seconds, so whatever
	// is left then is closed.
	shutdown, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		srv.Close()
	}
	return 0
}

// deliveryHistory bounds the delivered past --history seeds: every
// account and region of a trail has a signed digest an hour, and signing
// 90 days of them for an organization would take minutes at start-up; 24
// hours is what log validation reads by default.
const deliveryHistory = 24 * time.Hour

// deliveryLogFilesPerHour is how many log files each account and region
// of the seeded past has an hour.
const deliveryLogFilesPerHour = 2

// deliveryInterval is how often the serving emulator delivers, about as
// often as CloudTrail delivers log files.
const deliveryInterval = 5 * time.Minute

// runDeliveries makes the trails deliver every interval until ctx ends.
func runDeliveries(ctx context.Context, emu *awsemu.Emulator, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			emu.DeliverLogs(now) // errors are signing failures, retried at the next tick
		}
	}
}

// listFlag is a flag that may be repeated and whose values may be comma
// separated; empty items are dropped.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			*l = append(*l, item)
		}
	}
	return nil
}
