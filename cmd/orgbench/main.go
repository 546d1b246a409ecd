// Command orgbench measures 'trailguard scan --org' against an emulated
// organization: it serves a generated organization (internal/demo) from
// an in-process emulator with a set latency per call, runs the real
// trailguard binary as a separate process against it, and reports wall
// time against the latency bound, API calls per member account by
// operation, and the scan's peak RSS (the child process's alone, the
// emulator is not in it). It also checks the verdicts against the ones the
// organization was built to give.
//
//	go run ./cmd/orgbench --accounts 1000 --latency 50ms
//
// With --history it measures 'trailguard history --org' instead, with
// the emulator holding LookupEvents to CloudTrail's quota of 2 requests
// per second per account and region: wall time against the quota bound
// and LookupEvents calls per account.
//
//	go run ./cmd/orgbench --history --accounts 1000 --latency 50ms --concurrency 64
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	tgaws "github.com/trailguard/trailguard/aws"
	"github.com/trailguard/trailguard/history"
	"github.com/trailguard/trailguard/internal/awsemu"
	"github.com/trailguard/trailguard/internal/benchproc"
	"github.com/trailguard/trailguard/internal/demo"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

type options struct {
	accounts    int
	net         demo.Conditions
	concurrency int
	trailguard  string
	runs        int
	history     bool
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o options
	fs := flag.NewFlagSet("orgbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.accounts, "accounts", 1000, "accounts in the organization")
	o.net.Latency = 50 * time.Millisecond
	o.net.RegisterFlags(fs)
	fs.IntVar(&o.concurrency, "concurrency", tgaws.DefaultConcurrency, "trailguard --concurrency")
	fs.StringVar(&o.trailguard, "trailguard", "", "trailguard binary to measure (default: built from this module into a temporary directory)")
	fs.IntVar(&o.runs, "runs", 1, "scans to run; each is reported")
	fs.BoolVar(&o.history, "history", false, "measure 'trailguard history --org' (LookupEvents held to 2 per second per account and region)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if err := bench(ctx, o, stdout); err != nil {
		fmt.Fprintln(stderr, "orgbench:", err)
		return 1
	}
	return 0
}

func bench(ctx context.Context, o options, stdout io.Writer) error {
	bin, cleanup, err := benchproc.Trailguard(ctx, o.trailguard, "orgbench")
	if err != nil {
		return err
	}
	defer cleanup()

	emu := awsemu.New()
	org, err := demo.BuildOrg(emu, demo.OrgSpec{Accounts: o.accounts, Seed: o.net.Seed})
	if err != nil {
		return err
	}
	o.net.Apply(emu)
	if o.history {
		emu.SetLookupEventsQuota(tgaws.LookupEventsQuota)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: emu}
	go srv.Serve(ln)
	defer srv.Close()

	fmt.Fprintf(stdout, "organization: %d accounts (seed %d), latency %s, concurrency %d, fault rate %g, throttle %g/s\n",
		o.accounts, o.net.Seed, o.net.Latency, o.concurrency, o.net.FaultRate, o.net.ThrottleTPS)
	fmt.Fprintf(stdout, "built to give: PASS=%d FAIL=%d UNKNOWN=%d ERROR=%d\n",
		org.Expected["PASS"], org.Expected["FAIL"], org.Expected["UNKNOWN"], org.Expected["ERROR"])
	for i := range o.runs {
		emu.ResetCalls()
		if o.history {
			if err := historyOnce(ctx, o, bin, "http://"+ln.Addr().String(), emu, org, stdout); err != nil {
				return fmt.Errorf("run %d: %w", i+1, err)
			}
			continue
		}
		if err := once(ctx, o, bin, "http://"+ln.Addr().String(), emu, org, stdout); err != nil {
			return fmt.Errorf("run %d: %w", i+1, err)
		}
	}
	return nil
}

func once(ctx context.Context, o options, bin, endpoint string, emu *awsemu.Emulator, org demo.Org, stdout io.Writer) error {
	r, err := runJSON(ctx, bin, endpoint, org, "scan", "--org", "--concurrency", strconv.Itoa(o.concurrency))
	if err != nil {
		return err
	}
	wall, polled := r.wall, r.polled
	var rep struct {
		Summary struct{ Pass, Fail, Unknown, Error int }
		Partial *struct{ Reason string }
	}
	if err := json.Unmarshal(r.out, &rep); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	rss := r.rusage

	// Dependent calls of a covered member: AssumeRole, then DescribeTrails.
	const dependent = 2
	bound := time.Duration(float64(o.accounts*dependent) * float64(o.net.Latency) / float64(o.concurrency))
	fmt.Fprintf(stdout, "\nwall %s, latency bound %s (%d accounts × %d dependent calls × %s ÷ %d), ratio %.2f\n",
		wall.Round(time.Millisecond), bound.Round(time.Millisecond), o.accounts, dependent, o.net.Latency, o.concurrency, float64(wall)/float64(bound))
	fmt.Fprintf(stdout, "verdicts: PASS=%d FAIL=%d UNKNOWN=%d ERROR=%d", rep.Summary.Pass, rep.Summary.Fail, rep.Summary.Unknown, rep.Summary.Error)
	if rep.Summary.Pass == org.Expected["PASS"] && rep.Summary.Fail == org.Expected["FAIL"] &&
		rep.Summary.Unknown == org.Expected["UNKNOWN"] && rep.Summary.Error == org.Expected["ERROR"] {
		fmt.Fprintf(stdout, " (as built)\n")
	} else {
		fmt.Fprintf(stdout, " (NOT as built)\n")
	}
	if rep.Partial != nil {
		fmt.Fprintf(stdout, "partial: %s\n", rep.Partial.Reason)
	}
	fmt.Fprintf(stdout, "peak RSS of the scan: %.1f MB (rusage), %.1f MB (VmHWM polled)\n", float64(rss)/1e6, float64(polled)/1e6)
	fmt.Fprintf(stdout, "transient faults injected: %d\n", emu.FaultsDrawn())
	report(stdout, emu, org)
	return nil
}

// report prints API calls per member account by operation: the calls made
// with the member's own (assumed) keys, plus its AssumeRole, which the
// management account makes.
func report(w io.Writer, emu *awsemu.Emulator, org demo.Org) {
	mgmt := emu.AccountCalls(demo.OrgManagement)
	members := org.Accounts[1:]
	if len(members) == 0 {
		return
	}
	perOp := map[string]int{"sts:AssumeRole": mgmt["sts:AssumeRole"]}
	coveredCalls, covered := 0, 0
	for _, a := range members {
		calls := emu.AccountCalls(a.ID)
		n := 1 // its AssumeRole
		for op, c := range calls {
			perOp[op] += c
			n += c
		}
		if strings.HasSuffix(a.Name, "(covered by the organization trail)") {
			coveredCalls += n
			covered++
		}
	}
	ops := make([]string, 0, len(perOp))
	total := 0
	for op, n := range perOp {
		ops = append(ops, op)
		total += n
	}
	sort.Strings(ops)
	fmt.Fprintf(w, "API calls per member account (%d members): %.2f\n", len(members), float64(total)/float64(len(members)))
	for _, op := range ops {
		fmt.Fprintf(w, "  %-32s %.3f\n", op, float64(perOp[op])/float64(len(members)))
	}
	if covered > 0 {
		fmt.Fprintf(w, "API calls per member covered only by the organization trail (%d): %.2f\n", covered, float64(coveredCalls)/float64(covered))
	}
	fmt.Fprintf(w, "management account's own calls: %v\n", mgmt)
}

// historyOnce runs 'trailguard history --org' once and reports its wall
// time against the quota bound, its LookupEvents calls, and what the
// emulator throttled.
func historyOnce(ctx context.Context, o options, bin, endpoint string, emu *awsemu.Emulator, org demo.Org, stdout io.Writer) error {
	r, err := runJSON(ctx, bin, endpoint, org, "history", "--org", "--concurrency", strconv.Itoa(o.concurrency), "--since", "90d")
	if err != nil {
		return err
	}
	wall, polled := r.wall, r.polled
	var rep struct {
		Accounts []struct {
			Account string
			Regions []string `json:"regions_read"`
			Errors  []string `json:"errors"`
		}
		Calls int
	}
	if err := json.Unmarshal(r.out, &rep); err != nil {
		return fmt.Errorf("history: %w", err)
	}
	regions, withErrors := 0, 0
	for _, a := range rep.Accounts {
		regions += len(a.Regions)
		if len(a.Errors) > 0 {
			withErrors++
		}
	}
	calls := emu.Calls()
	// Each account reads its regions at once, each region at the quota:
	// one EventName lookup per coverage event, so len(CoverageEvents)
	// calls a region take at least that many ÷ 2 seconds (the first is
	// free), accounts --concurrency at a time.
	perAccount := time.Duration(float64(len(history.CoverageEvents)-1) / tgaws.LookupEventsQuota * float64(time.Second))
	bound := time.Duration(float64(o.accounts) * float64(perAccount) / float64(o.concurrency))
	fmt.Fprintf(stdout, "\nhistory --org: wall %s, quota bound %s (%d accounts × %s per account at 2 LookupEvents/s per region ÷ %d), ratio %.2f\n",
		wall.Round(time.Millisecond), bound.Round(time.Millisecond), o.accounts, perAccount, o.concurrency, float64(wall)/float64(bound))
	fmt.Fprintf(stdout, "accounts in the history: %d (%d with an error: members without a role to assume), regions read: %.1f per account\n",
		len(rep.Accounts), withErrors, float64(regions)/float64(max(len(rep.Accounts), 1)))
	fmt.Fprintf(stdout, "LookupEvents calls: %d counted by trailguard, %d served by the emulator (%.2f per account)\n",
		rep.Calls, calls["cloudtrail:LookupEvents"], float64(calls["cloudtrail:LookupEvents"])/float64(max(len(rep.Accounts), 1)))
	fmt.Fprintf(stdout, "peak RSS of history: %.1f MB (VmHWM polled)\n", float64(polled)/1e6)
	ops := make([]string, 0, len(calls))
	for op := range calls {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	for _, op := range ops {
		fmt.Fprintf(stdout, "  %-32s %d\n", op, calls[op])
	}
	return nil
}

// runResult is one trailguard run: its JSON output, wall time, and peak
// memory as polled (VmHWM) and as the kernel reports it (max RSS).
type runResult struct {
	out            []byte
	wall           time.Duration
	polled, rusage int64
}

// runJSON runs trailguard with args against the emulator as the
// management account, asking for JSON in a file, and measures the run. A
// non-zero exit is a verdict, not a failure.
func runJSON(ctx context.Context, bin, endpoint string, org demo.Org, args ...string) (runResult, error) {
	out, err := os.CreateTemp("", "orgbench-*.json")
	if err != nil {
		return runResult{}, err
	}
	out.Close()
	defer os.Remove(out.Name())
	cmd := exec.CommandContext(ctx, bin, append(args, "--format", "json", "--output", out.Name(), "--endpoint-url", endpoint)...)
	cmd.Env = append(benchproc.WithoutAWS(os.Environ()),
		"AWS_ACCESS_KEY_ID="+org.Management.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+org.Management.SecretAccessKey,
		"AWS_REGION=us-east-1", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true")
	cmd.Stderr = os.Stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return runResult{}, err
	}
	hwm := benchproc.WatchHWM(cmd.Process.Pid)
	runErr := cmd.Wait()
	r := runResult{wall: time.Since(start), polled: <-hwm}
	var exit *exec.ExitError
	if runErr != nil && !errors.As(runErr, &exit) {
		return r, runErr
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.rusage = ru.Maxrss * 1024 // kilobytes on Linux
	}
	if r.out, err = os.ReadFile(out.Name()); err != nil {
		return r, err
	}
	return r, nil
}
