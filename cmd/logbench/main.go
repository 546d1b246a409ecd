// Command logbench measures `trailguard validate-logs` against AWS's own
// `aws cloudtrail validate-logs` on the same emulated bucket, side by side
// in one run: an in-process emulator delivers days × regions of hourly
// signed digests and the log files they list (awsemu.SeedDeliveries);
// then, run after run, interleaved, it times the real trailguard binary
// (one run, every region of the multi-region trail) and the AWS CLI (one
// run per region, as it works, times added up), each as a separate
// process, and reads each one's CPU time (rusage) and peak RSS (VmHWM,
// polled from /proc; for the AWS CLI the largest of its runs). Both must call every
// file valid, with the same counts, or the figures are not printed as
// results.
//
//	go run ./cmd/logbench                       # 7 days × 17 regions, 19,992 log files, 3 runs each
//	go run ./cmd/logbench --days 1 --logs-per-hour 2 --runs 1
//
// The AWS CLI is found as the tests find it (internal/awsvalidate.Find: a
// CLI whose every client honours AWS_ENDPOINT_URL), or named by --aws.
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
	"strings"
	"time"

	"github.com/trailguard/trailguard/internal/awsemu"
	"github.com/trailguard/trailguard/internal/awsvalidate"
	"github.com/trailguard/trailguard/internal/benchproc"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

type options struct {
	days       int
	perHour    int
	runs       int
	latency    time.Duration
	trailguard string
	aws        string
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o options
	fs := flag.NewFlagSet("logbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.days, "days", 7, "days of hourly digests")
	fs.IntVar(&o.perHour, "logs-per-hour", 7, "log files an hour in each region (7 × 24 h × 7 days × 17 regions = 19,992)")
	fs.IntVar(&o.runs, "runs", 3, "runs of each tool, interleaved")
	fs.DurationVar(&o.latency, "latency", 0, "delay the emulator adds to every request")
	fs.StringVar(&o.trailguard, "trailguard", "", "trailguard binary to measure (default: built from this module into a temporary directory)")
	fs.StringVar(&o.aws, "aws", "", "AWS CLI to measure (default: the first that honours AWS_ENDPOINT_URL for every service, as the tests find it)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if o.days < 1 || o.perHour < 0 || o.runs < 1 {
		fmt.Fprintln(stderr, "logbench: --days and --runs must be at least 1, --logs-per-hour at least 0")
		return 2
	}
	if err := bench(ctx, o, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "logbench:", err)
		return 1
	}
	return 0
}

// sample is one timed run of a tool (for the AWS CLI: all its per-region
// runs, added up).
type sample struct {
	wall    time.Duration
	cpu     time.Duration // user + system time of the child process(es)
	peakRSS int64         // bytes
	digests int           // valid digest files reported
	logs    int           // valid log files reported
	invalid int           // files reported invalid
}

func bench(ctx context.Context, o options, stdout, progress io.Writer) error {
	cli := awsvalidate.CLI{Path: o.aws}
	if o.aws == "" {
		c, err := awsvalidate.Find()
		if err != nil {
			return err
		}
		cli = c
	}
	bin, cleanup, err := benchproc.Trailguard(ctx, o.trailguard, "logbench")
	if err != nil {
		return err
	}
	defer cleanup()

	setupStart := time.Now()
	b, err := seed(o)
	if err != nil {
		return fmt.Errorf("seed the bucket: %w", err)
	}
	b.emu.SetLatency(o.latency)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: b.emu}
	go srv.Serve(ln)
	defer srv.Close()
	endpoint := "http://" + ln.Addr().String()

	fmt.Fprintf(stdout, "bucket: %d days × %d regions: %d digest files, %d log files (seeded in %s); latency %s; %s at %s; trailguard %s\n",
		o.days, len(b.regions), b.digests, b.logs, time.Since(setupStart).Round(time.Millisecond), o.latency, cli.Version, cli.Path, bin)
	fmt.Fprintf(stdout, "\n%-4s %-11s %-11s %-10s | %-13s %-11s %-10s\n", "run", "trailguard", "CPU", "peak RSS", "aws CLI (sum)", "CPU", "peak RSS")
	var tg, aws []sample
	for i := range o.runs {
		// Interleaved, and the order alternates, so that whatever else
		// the machine does falls on both tools alike.
		first, second := "trailguard", "aws"
		if i%2 == 1 {
			first, second = second, first
		}
		var t, a sample
		for _, tool := range []string{first, second} {
			var err error
			if tool == "trailguard" {
				t, err = runTrailguard(ctx, bin, endpoint, b)
			} else {
				a, err = runAWS(ctx, cli, endpoint, b)
			}
			if err != nil {
				return fmt.Errorf("run %d, %s: %w", i+1, tool, err)
			}
			fmt.Fprintf(progress, "logbench: run %d, %s done at %s\n", i+1, tool, time.Now().UTC().Format(time.TimeOnly))
		}
		for _, s := range []struct {
			name string
			s    sample
		}{{"trailguard", t}, {"aws cloudtrail validate-logs", a}} {
			if s.s.invalid != 0 || s.s.digests != b.digests || s.s.logs != b.logs {
				return fmt.Errorf("run %d: %s found %d digests and %d log files valid, %d invalid; the bucket holds %d and %d, all valid",
					i+1, s.name, s.s.digests, s.s.logs, s.s.invalid, b.digests, b.logs)
			}
		}
		tg, aws = append(tg, t), append(aws, a)
		fmt.Fprintf(stdout, "%-4d %-11s %-11s %-10s | %-13s %-11s %-10s\n", i+1, t.wall.Round(time.Millisecond), t.cpu.Round(time.Millisecond), mb(t.peakRSS),
			a.wall.Round(time.Millisecond), a.cpu.Round(time.Millisecond), mb(a.peakRSS))
	}
	tw, tc, tr := stats(tg)
	aw, ac, ar := stats(aws)
	fmt.Fprintf(stdout, "\nmedian (spread) over %d runs:\n", o.runs)
	fmt.Fprintf(stdout, "  trailguard validate-logs, 1 run:                   wall %s (%s–%s), CPU %s (%s–%s), peak RSS %s (%s–%s)\n",
		ms(tw[1]), ms(tw[0]), ms(tw[2]), ms(tc[1]), ms(tc[0]), ms(tc[2]), mb(tr[1]), mb(tr[0]), mb(tr[2]))
	fmt.Fprintf(stdout, "  aws cloudtrail validate-logs, %2d runs (1/region): wall %s (%s–%s), CPU %s (%s–%s), peak RSS %s (%s–%s)\n",
		len(b.regions), ms(aw[1]), ms(aw[0]), ms(aw[2]), ms(ac[1]), ms(ac[0]), ms(ac[2]), mb(ar[1]), mb(ar[0]), mb(ar[2]))
	fmt.Fprintf(stdout, "  trailguard is %.1f× faster in wall time and uses %.1f× less CPU (median against median); both found all %d digests and %d log files valid\n",
		float64(aw[1])/float64(tw[1]), float64(ac[1])/float64(tc[1]), b.digests, b.logs)
	return nil
}

// stats returns min, median and max of wall times, of CPU times and of
// peak RSS.
func stats(s []sample) ([3]time.Duration, [3]time.Duration, [3]int64) {
	w := make([]time.Duration, len(s))
	c := make([]time.Duration, len(s))
	r := make([]int64, len(s))
	for i, x := range s {
		w[i], c[i], r[i] = x.wall, x.cpu, x.peakRSS
	}
	sort.Slice(w, func(i, j int) bool { return w[i] < w[j] })
	sort.Slice(c, func(i, j int) bool { return c[i] < c[j] })
	sort.Slice(r, func(i, j int) bool { return r[i] < r[j] })
	return [3]time.Duration{w[0], median(w), w[len(w)-1]}, [3]time.Duration{c[0], median(c), c[len(c)-1]}, [3]int64{r[0], median(r), r[len(r)-1]}
}

// median of sorted values (the lower middle one of an even count).
func median[T any](sorted []T) T { return sorted[(len(sorted)-1)/2] }

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }

func ms(d time.Duration) string { return d.Round(time.Millisecond).String() }

// timed runs cmd and returns its wall time, CPU time and peak RSS. The
// peak is the child's VmHWM, polled from /proc while it runs: the rusage
// maxrss of a child the Go runtime starts counts the parent's resident
// set (the child shares the parent's memory until exec), and the parent
// here holds the emulator and the whole bucket.
func timed(cmd *exec.Cmd) (time.Duration, time.Duration, int64, error) {
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, 0, err
	}
	hwm := benchproc.WatchHWM(cmd.Process.Pid)
	err := cmd.Wait()
	wall := time.Since(start)
	peak := <-hwm
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return 0, 0, 0, err
	}
	if peak == 0 {
		return 0, 0, 0, fmt.Errorf("%s: its peak resident set could not be read from /proc", cmd.Path)
	}
	return wall, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), peak, nil
}

func runAWS(ctx context.Context, cli awsvalidate.CLI, endpoint string, b *bucket) (sample, error) {
	var s sample
	for _, region := range b.regions {
		cmd := cli.Command(ctx, awsvalidate.Run{
			Endpoint: endpoint, AccessKeyID: b.creds.AccessKeyID, SecretAccessKey: b.creds.SecretAccessKey, SessionToken: b.creds.SessionToken,
			Region: region, TrailARN: b.trailARN, Start: b.start, End: b.end, Verbose: true,
		})
		out, err := os.CreateTemp("", "logbench-aws-*.out")
		if err != nil {
			return s, err
		}
		defer os.Remove(out.Name())
		var errOut strings.Builder
		cmd.Stdout, cmd.Stderr = out, &errOut
		wall, cpu, rss, err := timed(cmd)
		out.Close()
		if err != nil {
			return s, err
		}
		if code := cmd.ProcessState.ExitCode(); code != 0 && code != 1 {
			return s, fmt.Errorf("region %s: exit %d: %s", region, code, errOut.String())
		}
		f, err := os.Open(out.Name())
		if err != nil {
			return s, err
		}
		rep, err := awsvalidate.Parse(f, strings.NewReader(errOut.String()))
		f.Close()
		if err != nil {
			return s, err
		}
		if len(rep.Unrecognized) > 0 {
			return s, fmt.Errorf("region %s: output not understood: %q", region, rep.Unrecognized)
		}
		s.wall += wall
		s.cpu += cpu
		s.peakRSS = max(s.peakRSS, rss)
		s.digests += rep.Digests.Valid + rep.Backfill.Valid
		s.logs += rep.Logs.Valid
		s.invalid += len(rep.Invalid())
	}
	return s, nil
}

func runTrailguard(ctx context.Context, bin, endpoint string, b *bucket) (sample, error) {
	out, err := os.CreateTemp("", "logbench-tg-*.json")
	if err != nil {
		return sample{}, err
	}
	out.Close()
	defer os.Remove(out.Name())
	cmd := exec.CommandContext(ctx, bin, "validate-logs", "--trail-arn", b.trailARN,
		"--start-time", b.start.Format(time.RFC3339), "--end-time", b.end.Format(time.RFC3339),
		"--format", "json", "--output", out.Name(), "--endpoint-url", endpoint)
	cmd.Env = append(benchproc.WithoutAWS(os.Environ()),
		"AWS_ACCESS_KEY_ID="+b.creds.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+b.creds.SecretAccessKey, "AWS_SESSION_TOKEN="+b.creds.SessionToken,
		"AWS_REGION="+b.home, "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true")
	var errOut strings.Builder
	cmd.Stderr = &errOut
	wall, cpu, rss, err := timed(cmd)
	if err != nil {
		return sample{}, err
	}
	if code := cmd.ProcessState.ExitCode(); code != 0 && code != 1 {
		return sample{}, fmt.Errorf("exit %d: %s", code, errOut.String())
	}
	raw, err := os.ReadFile(out.Name())
	if err != nil {
		return sample{}, err
	}
	d, l, inv, err := countTrailguard(raw)
	if err != nil {
		return sample{}, err
	}
	return sample{wall: wall, cpu: cpu, peakRSS: rss, digests: d, logs: l, invalid: inv}, nil
}

// countTrailguard reads the valid and invalid counts of trailguard's JSON.
func countTrailguard(raw []byte) (digests, logs, invalid int, err error) {
	var rep tgReport
	if err := json.Unmarshal(raw, &rep); err != nil {
		return 0, 0, 0, fmt.Errorf("trailguard's JSON: %w", err)
	}
	for _, t := range rep.Trails {
		if t.Error != "" {
			return 0, 0, 0, fmt.Errorf("trailguard could not check %s: %s", t.Trail, t.Error)
		}
	}
	for _, r := range rep.regions() {
		if r.Error != "" {
			return 0, 0, 0, fmt.Errorf("trailguard could not check %s: %s", r.Region, r.Error)
		}
		digests += r.Digests.Valid
		logs += r.LogFiles.Valid
		invalid += r.Digests.Invalid + r.LogFiles.Invalid + r.Digests.Unreadable + r.LogFiles.Unreadable
	}
	return digests, logs, invalid, nil
}

// tgReport is the part of `trailguard validate-logs --format json` the
// benchmark reads.
type tgReport struct {
	Trails []struct {
		Trail   string `json:"trail"`
		Error   string `json:"error"`
		Regions []tgRegion
	} `json:"trails"`
}

type tgCounts struct {
	Checked, Valid, Invalid, Unreadable int
}

type tgRegion struct {
	Region   string   `json:"region"`
	Digests  tgCounts `json:"digests"`
	LogFiles tgCounts `json:"log_files"`
	Error    string   `json:"error"`
}

func (r tgReport) regions() []tgRegion {
	var out []tgRegion
	for _, t := range r.Trails {
		out = append(out, t.Regions...)
	}
	return out
}

// benchAcct owns the trail and its bucket.
const benchAcct = "777788889999"

// bucket is the seeded bucket and what both tools are asked about it.
type bucket struct {
	emu           *awsemu.Emulator
	creds         awsemu.Credentials
	trailARN      string
	home          string
	regions       []string
	start, end    time.Time
	digests, logs int
}

// seed builds the emulator with one multi-region trail with log file
// validation and its delivered past: o.days of hourly digests in every
// enabled region, o.perHour log files an hour in each.
func seed(o options) (*bucket, error) {
	emu := awsemu.New()
	b := &bucket{emu: emu, creds: emu.AddAccount(benchAcct), home: "us-east-1"}
	arn, err := emu.PutTrail(benchAcct, awsemu.TrailSpec{Name: "audit", HomeRegion: b.home, S3BucketName: "logbench-trail-logs",
		IsMultiRegion: true, IncludeGlobalServiceEvents: true, LogFileValidation: true, Logging: true})
	if err != nil {
		return nil, err
	}
	b.trailARN = arn
	emu.EnsureTrailBuckets()
	b.end = time.Now().UTC().Truncate(time.Hour)
	b.start = b.end.Add(-time.Duration(o.days) * 24 * time.Hour)
	if err := emu.SeedDeliveries(b.start, b.end, o.perHour); err != nil {
		return nil, err
	}
	regions := map[string]bool{}
	digestPrefix := "AWSLogs/" + benchAcct + "/CloudTrail-Digest/"
	for _, k := range emu.DeliveredObjects("logbench-trail-logs", digestPrefix) {
		r, _, _ := strings.Cut(strings.TrimPrefix(k, digestPrefix), "/")
		regions[r] = true
		b.digests++
	}
	b.logs = len(emu.DeliveredObjects("logbench-trail-logs", "AWSLogs/"+benchAcct+"/CloudTrail/"))
	for r := range regions {
		b.regions = append(b.regions, r)
	}
	sort.Strings(b.regions)
	if b.digests == 0 {
		return nil, errors.New("nothing was delivered")
	}
	return b, nil
}
