package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"

	"github.com/trailguard/trailguard"
	tgaws "github.com/trailguard/trailguard/aws"
	"github.com/trailguard/trailguard/history"
	"github.com/trailguard/trailguard/report"
)

// lookupTPS is CloudTrail's LookupEvents quota: 2 requests per second
// per account and region.
const lookupTPS = 2

// maxWindow is as far back as CloudTrail event history keeps events.
const maxWindow = 90 * 24 * time.Hour

type historyFlags struct {
	aws         awsFlags
	org         orgFlags
	evidenceDir string
	since       string
	until       string
	format      string
	output      string
	strict      bool
	tps         float64

	// from, to are since and until as parsed by validate.
	from, to time.Time
	untilSet bool
}

func newHistoryCmd() *cobra.Command {
	hf := historyFlags{
		aws: awsFlags{regionUsage: "region to ask DescribeTrails, DescribeRegions and LookupEvents in (default: AWS_REGION, profile, or " + tgaws.DefaultRegion + ")"},
		org: orgFlags{orgUsage: "read the history of every ACTIVE account of the organization (from the management account), several at once"},
	}
	cmd := &cobra.Command{
		Use:   "history",
		Short: "Who broke CIS 3.1 coverage, and when: replay CloudTrail event history over the last 90 days",
		Long: `history answers "was CloudTrail on when it mattered, and who turned it off?".

It reads the account's trails now, as 'scan' does, then CloudTrail event history
(LookupEvents, which keeps 90 days of management events per region whether or
not a trail exists) for the calls that can change coverage: CreateTrail,
DeleteTrail, UpdateTrail, StartLogging, StopLogging and PutEventSelectors,
failed attempts included (a denied StopLogging is a signal too). It replays
them backwards from the state read now, and forwards from what the window's
own calls set, judging every moment with the scan's own rules, and prints:

  - the periods the account was not covered ("certain"), or may not have been
    ("uncertain": the history cannot prove it was covered — for example before
    a StopLogging with no earlier StartLogging in the window, or a trail created
    before the window whose settings the window never shows);
  - each call with who (user or role ARN, session), when, source IP, user agent,
    the trail, and its effect (covered → not covered, not covered → covered,
    no change, uncertain).

Event history is read in the scan region and in every region the account has
enabled (each multi-region trail's calls are recorded in its home region), one
EventName lookup per call name, at most --lookup-tps requests per second per
account and region (CloudTrail's quota is 2), retried when throttled.

With --org, run from the management account: the organization trails' changes
are read there and applied to every member they cover; members run
concurrently (--concurrency). With --evidence DIR, the saved lookup-events
output of each account (see 'trailguard collect-script') is read instead, with
the trails saved beside it; --until defaults to when the evidence was
collected.

Exit codes: 0 every account proven covered through the window, 1 a period
certainly not covered, 2 a period not proven covered, an account or region
that could not be read, or a usage error.`,
		Example: `  trailguard history
  trailguard history --since 30d --format json --output history.json
  trailguard history --since 2026-01-01 --until 2026-02-01
  trailguard history --org --concurrency 16 --format html --output history.html
  trailguard history --evidence ./evidence`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runHistory(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), &hf)
		},
	}
	f := cmd.Flags()
	f.StringVar(&hf.since, "since", "90d", "start of the window: a date (2006-01-02), an RFC 3339 time, or an age (90d, 36h)")
	f.StringVar(&hf.until, "until", "", "end of the window, as --since (default: now, or when the evidence was collected)")
	f.StringVarP(&hf.format, "format", "f", "text", "output format: text, json or html")
	f.StringVarP(&hf.output, "output", "o", "", "write the report to `FILE` instead of standard output")
	f.BoolVar(&hf.strict, "strict", false, "judge each moment as 'scan --strict' does: a trail that excludes management event sources does not count")
	f.Float64Var(&hf.tps, "lookup-tps", lookupTPS, "LookupEvents requests per second per account and region (CloudTrail's quota is 2)")
	f.StringVar(&hf.evidenceDir, "evidence", "", "read the saved trails and lookup-events output in `DIR` instead of calling AWS")
	hf.aws.register(f)
	hf.org.register(f)
	return cmd
}

// parseWhen reads a --since/--until value: a date, an RFC 3339 time, or
// an age before now ("90d", "36h", "15m").
func parseWhen(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t.UTC(), nil
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		if d, err := strconv.Atoi(n); err == nil && d >= 0 {
			return now.Add(-time.Duration(d) * 24 * time.Hour), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a date (2006-01-02), an RFC 3339 time or an age (90d, 36h)", s)
}

func (hf *historyFlags) validate(now time.Time) error {
	switch hf.format {
	case "text", "json", "html":
	default:
		return usageErr("--format must be text, json or html, not %q", hf.format)
	}
	if hf.output != "" {
		if err := checkWritableFile(hf.output); err != nil {
			return usageErr("--output: %v", err)
		}
	}
	if hf.evidenceDir != "" && (hf.aws.opts.Profile != "" || hf.aws.opts.EndpointURL != "" || hf.org.org) {
		return usageErr("--evidence reads a directory offline: it cannot be combined with --profile, --endpoint-url or --org")
	}
	if err := validateAll(&hf.aws, &hf.org); err != nil {
		return err
	}
	if !(hf.tps > 0) || hf.tps > lookupTPS {
		return usageErr("--lookup-tps must be above 0 and at most %d (CloudTrail's LookupEvents quota per account and region)", lookupTPS)
	}
	var err error
	if hf.from, err = parseWhen(hf.since, now); err != nil {
		return usageErr("--since: %v", err)
	}
	hf.to, hf.untilSet = now, hf.until != ""
	if hf.untilSet {
		if hf.to, err = parseWhen(hf.until, now); err != nil {
			return usageErr("--until: %v", err)
		}
	}
	if !hf.from.Before(hf.to) {
		return usageErr("--since (%s) must be before --until (%s)", hf.from.Format(time.RFC3339), hf.to.Format(time.RFC3339))
	}
	if hf.evidenceDir == "" && hf.from.Before(now.Add(-maxWindow-time.Hour)) {
		return usageErr("--since %s is more than 90 days ago: CloudTrail event history keeps 90 days", hf.since)
	}
	return nil
}

// accountEvents is what one account's event history read gave.
type accountEvents struct {
	events  []history.Event
	regions []string
	errs    []string
	calls   int
	read    bool // the read ran (even if some region failed)
}

func runHistory(ctx context.Context, stdout, stderr io.Writer, hf *historyFlags) error {
	now := time.Now().UTC()
	if err := hf.validate(now); err != nil {
		return err
	}
	opts := trailguard.Options{Strict: hf.strict}
	var h *report.History
	var rep *report.Report
	if hf.evidenceDir != "" {
		var err error
		if h, rep, err = evidenceHistory(hf, opts); err != nil {
			return err
		}
	} else {
		hf.aws.opts.Warn = func(msg string) { fmt.Fprintln(stderr, "trailguard: warning:", msg) }
		cfg, err := tgaws.LoadConfig(ctx, hf.aws.opts, nil)
		if err != nil {
			return &exitError{code: 2, err: err}
		}
		progress := newProgress(stderr)
		if hf.org.org {
			stopWatch := watchInterrupt(ctx, stderr)
			defer stopWatch()
			progress.say("listing the organization's accounts and reading their trails")
		} else {
			progress.say("reading the account's trails (region %s)", cfg.Region)
		}
		// The event history of each member is read with the credentials
		// the scan assumed for it: one AssumeRole per member, not two.
		orgOpts := hf.org.options()
		orgOpts.Credentials = &tgaws.MemberCredentials{}
		so := tgaws.ScanOptions{Organization: hf.org.org, Org: orgOpts, Evaluate: opts}
		sc, err := tgaws.Scan(ctx, cfg, so)
		if err != nil {
			progress.done()
			return &exitError{code: 2, err: err}
		}
		at := time.Now().UTC()
		if !hf.untilSet {
			hf.to = at
		}
		mgmt := ""
		if hf.org.org {
			if _, mgmt, err = tgaws.Organization(ctx, cfg); err != nil {
				fmt.Fprintln(stderr, "trailguard: warning: the management account could not be found, so organization trails' changes are not read:", err)
			}
		}
		src := liveSource{cfg: cfg, org: hf.org.org, mgmt: mgmt, orgOpts: orgOpts, tps: hf.tps}
		h = replayAll(ctx, sc, src, hf.from, hf.to, at, opts, hf.org.opts.Concurrency, func(done, total int) {
			progress.say("event history: %d/%d accounts", done, total)
		})
		progress.done()
		h.Source = "aws"
		h.APICalls = sc.Calls
		if sc.Partial != "" {
			h.Notices = append(h.Notices, fmt.Sprintf("partial: %s; %d listed account(s) not read", sc.Partial, len(sc.NotScanned)))
		}
		h.Notices = append(h.Notices, excludedNotFound(sc.ExcludedNotFound)...)
		rep = scanReport("aws", cfg.Region, trailguard.Options{Strict: hf.strict}, sc)
	}
	h.Tool = report.Tool{Name: "trailguard", Version: toolVersion()}
	return writeHistory(stdout, hf.format, hf.output, h, rep)
}

// writeHistory prints the history in its format and returns its exit code.
func writeHistory(stdout io.Writer, format, output string, h *report.History, rep *report.Report) error {
	w := stdout
	var f *os.File
	if output != "" {
		var err error
		if f, err = os.Create(output); err != nil {
			return &exitError{code: 2, err: fmt.Errorf("--output: %w", err)}
		}
		w = f
	}
	var err error
	switch format {
	case "json":
		err = report.WriteHistoryJSON(w, h)
	case "html":
		rep.History = h
		err = report.HTML{}.Write(w, rep)
	default:
		err = report.WriteHistoryText(w, h)
	}
	if f != nil {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("write history: %w", err)}
	}
	if code := h.ExitCode(); code != 0 {
		return &exitError{code: code}
	}
	return nil
}

// eventSource reads one account's coverage events over the window.
type eventSource interface {
	// lookup reads account id's events in regions.
	lookup(ctx context.Context, id string, regions []string, since, until time.Time) accountEvents
	// management is the account whose events on organization trails
	// answer for every member ("" when not known).
	management() string
}

// liveSource reads event history with LookupEvents.
type liveSource struct {
	cfg     sdkaws.Config
	org     bool
	mgmt    string
	orgOpts tgaws.OrgOptions
	tps     float64
	// configFor, when set, gives the config of an account (the demo's
	// emulator accounts, each with its own keys).
	configFor func(id string) (sdkaws.Config, bool)
	// self is the caller's account.
	self string
}

func (s liveSource) management() string { return s.mgmt }

func (s liveSource) lookup(ctx context.Context, id string, regions []string, since, until time.Time) accountEvents {
	cfg := s.cfg
	switch {
	case s.configFor != nil:
		c, ok := s.configFor(id)
		if !ok {
			return accountEvents{errs: []string{"no credentials for account " + id}}
		}
		cfg = c
	case s.org && id != s.mgmt && id != s.self:
		cfg = tgaws.MemberConfig(s.cfg, id, s.orgOpts)
	}
	out, err := tgaws.LookupHistory(ctx, cfg, tgaws.HistoryOptions{Regions: regions, Since: since, Until: until, PerRegionTPS: s.tps})
	ae := accountEvents{events: out.Events, regions: out.Regions, calls: out.Calls, read: err == nil}
	for _, r := range sortedKeys(out.Errors) {
		ae.errs = append(ae.errs, r+": "+out.Errors[r])
	}
	if err != nil {
		ae.errs = append(ae.errs, "event history could not be read: "+err.Error())
	}
	return ae
}

// historyRegions are the regions whose event history can hold the
// account's coverage events: the scan region, every region the account
// has enabled (a trail deleted in the window is listed nowhere now; its
// calls are in its home region), and every listed trail's home region.
func historyRegions(a trailguard.Account, scanRegion string) []string {
	if len(a.Regions) == 0 {
		return nil // LookupHistory lists the enabled regions itself
	}
	for _, r := range a.Regions {
		if r.OptInStatus == trailguard.OptInNotRead {
			return nil
		}
	}
	set := map[string]bool{}
	if scanRegion != "" {
		set[scanRegion] = true
	}
	for _, r := range a.Regions {
		if r.Enabled() {
			set[r.Name] = true
		}
	}
	for _, t := range a.Trails {
		if t.HomeRegion != "" {
			set[t.HomeRegion] = true
		} else if r := trailguard.ARNRegion(t.ARN); r != "" {
			set[r] = true
		}
	}
	out := make([]string, 0, len(set))
	for r := range set {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// replayAll reads every scanned account's event history (the management
// account's first, since its organization trails answer for the
// members), at most concurrency accounts at once, and replays each.
func replayAll(ctx context.Context, sc tgaws.Outcome, src eventSource, since, until, at time.Time, opts trailguard.Options, concurrency int, progress func(done, total int)) *report.History {
	h := &report.History{Since: since, Until: until}
	scanRegion := ""
	if ls, ok := src.(liveSource); ok {
		scanRegion = ls.cfg.Region
	}
	n := len(sc.Accounts)
	got := make([]accountEvents, n)
	mgmt := src.management()
	mi := -1
	for i, a := range sc.Accounts {
		if a.ID != "" && a.ID == mgmt {
			mi = i
		}
	}
	// The window read reaches to the moment the state was read: calls
	// after --until still changed the state the replay starts from.
	read := func(i int) {
		a := sc.Accounts[i]
		if a.Error != "" {
			got[i] = accountEvents{errs: []string{"the account could not be read: " + a.Error}}
			return
		}
		got[i] = src.lookup(ctx, a.ID, historyRegions(a, scanRegion), since, at)
	}
	done := 0
	var mu sync.Mutex
	tick := func() {
		mu.Lock()
		done++
		if progress != nil {
			progress(done, n)
		}
		mu.Unlock()
	}
	if mi >= 0 {
		read(mi)
		tick()
	}
	sem := make(chan struct{}, max(concurrency, 1))
	var wg sync.WaitGroup
	for i := range sc.Accounts {
		if i == mi {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			read(i)
			tick()
		}()
	}
	wg.Wait()
	for i, a := range sc.Accounts {
		ae := got[i]
		h.Calls += ae.calls
		in := history.Input{Now: a, At: at, Since: since, Until: until, Events: ae.events, Options: opts, Incomplete: ae.errs}
		if mi >= 0 && i != mi {
			in.Events = append(append([]history.Event(nil), ae.events...), got[mi].events...)
			in.OrgEventsRead = got[mi].read && len(got[mi].errs) == 0
		}
		if i == mi || mgmt == "" {
			// The management account's own organization trails are its
			// own; a lone account's organization trails are not.
			in.OrgEventsRead = i == mi
		}
		tl := history.Replay(in)
		status := trailguard.StatusUnknown
		if i < len(sc.Results) {
			status = sc.Results[i].Status
		}
		h.Accounts = append(h.Accounts, report.NewHistoryAccount(tl, status, ae.regions, ae.errs))
	}
	return h
}
