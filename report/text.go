package report

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/trailguard/trailguard"
)

// Text writes the report for a person at a terminal: the summary first;
// then, for more than a few accounts, one line per account; then per
// account the verdict, reasons, warnings, the trails considered and which
// trail covers which region (in a long report only for the accounts that
// need attention, unless Style.Verbose).
type Text struct {
	Style Style
}

const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiDim    = "\x1b[2m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiPurple = "\x1b[35m"
)

func (t Text) paint(code, s string) string {
	if !t.Style.Color {
		return s
	}
	return code + s + ansiReset
}

func (t Text) status(s trailguard.Status) string {
	switch s {
	case trailguard.StatusPass:
		return t.paint(ansiGreen+ansiBold, string(s))
	case trailguard.StatusFail:
		return t.paint(ansiRed+ansiBold, string(s))
	case trailguard.StatusUnknown:
		return t.paint(ansiYellow+ansiBold, string(s))
	case trailguard.StatusError:
		return t.paint(ansiPurple+ansiBold, string(s))
	}
	return t.paint(ansiDim+ansiBold, string(s))
}

// compactAbove is the number of results above which the text report lists
// accounts one per line and details only those that need attention.
const compactAbove = 5

// Write implements Writer.
func (t Text) Write(w io.Writer, r *Report) error {
	// Everything below prints the escaped copy: no input reaches the
	// terminal as a control.
	r = escapedCopy(r, Escape)
	ew := &errWriter{w: w}
	ew.printf("%s  %s %s\n", t.paint(ansiBold, "trailguard"), r.Control.Benchmark, "— "+r.Control.Title)
	if r.Scan.Strict {
		ew.printf("%s\n", t.paint(ansiDim, "strict mode: trails that exclude management event sources do not count"))
	}
	if r.Scan.RequireDelivery {
		ew.printf("%s\n", t.paint(ansiDim, "require-delivery: trails whose records do not arrive (delivery error, none within "+
			trailguard.FormatAge(time.Duration(r.Scan.MaxDeliveryAge))+") do not count"))
	}
	ew.printf("\n")
	t.summary(ew, r)
	t.incomplete(ew, r)
	compact := len(r.Results) > compactAbove
	if compact {
		ew.printf("\n")
		t.table(ew, r.Results)
	}
	hidden := 0
	for _, res := range r.Results {
		if compact && !t.Style.Verbose && res.Status == trailguard.StatusPass && len(res.Warnings) == 0 {
			hidden++
			continue
		}
		ew.printf("\n")
		t.account(ew, res)
	}
	if hidden > 0 {
		ew.printf("\n%s\n", t.paint(ansiDim, fmt.Sprintf("%d passing account(s) without warnings not detailed (--verbose shows them)", hidden)))
	}
	return ew.err
}

// incomplete says what the results leave out: a scan stopped part way,
// accounts skipped for their state.
func (t Text) incomplete(ew *errWriter, r *Report) {
	if p := r.Partial; p != nil {
		ew.printf("%s %s\n", t.paint(ansiYellow+ansiBold, "PARTIAL:"), p.Reason)
		if n := len(p.NotScanned); n > 0 {
			ew.printf("  %d listed account(s) not scanned: %s\n", n, list(p.NotScanned, 10))
		}
		if s := p.CutShort(); s != "" {
			ew.printf("  %s\n", s)
		}
	}
	for _, n := range r.Notices {
		ew.printf("%s %s\n", t.paint(ansiYellow, "!"), n)
	}
	if len(r.Skipped) > 0 {
		ids := make([]string, 0, len(r.Skipped))
		for id := range r.Skipped {
			ids = append(ids, id+" ("+r.Skipped[id]+")")
		}
		sort.Strings(ids)
		ew.printf("%s\n", t.paint(ansiDim, fmt.Sprintf("skipped %d account(s) that are not ACTIVE: %s", len(ids), list(ids, 10))))
	}
}

// list joins at most n items, saying how many more there are.
func list(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return strings.Join(items[:n], ", ") + fmt.Sprintf(" and %d more", len(items)-n)
}

// table prints one line per account: id, name, verdict, uncovered regions
// and the covering trail or the first reason. It pads by hand rather than
// with tabwriter so that the coloured verdict column stays aligned.
func (t Text) table(ew *errWriter, results []trailguard.Result) {
	const statusWidth = 7
	nameWidth := len("NAME")
	for _, r := range results {
		nameWidth = max(nameWidth, len([]rune(r.AccountName)))
		if r.File != "" {
			nameWidth = max(nameWidth, len([]rune(subject(r))))
		}
	}
	nameWidth = min(nameWidth, 40)
	pad := func(s string, n int) string {
		if r := []rune(s); len(r) > n {
			return string(r[:n-1]) + "…"
		}
		return s + strings.Repeat(" ", n-len([]rune(s)))
	}
	// Accounts that need attention first, worst first; then by id.
	rank := map[trailguard.Status]int{trailguard.StatusFail: 0, trailguard.StatusError: 1, trailguard.StatusUnknown: 2, trailguard.StatusMuted: 3, trailguard.StatusPass: 4}
	results = append([]trailguard.Result(nil), results...)
	sort.SliceStable(results, func(i, j int) bool { return rank[results[i].Status] < rank[results[j].Status] })
	ew.printf("%s  %s  %s  %s  %s\n", pad("ACCOUNT", 12), pad("NAME", nameWidth), pad("STATUS", statusWidth), "UNCOVERED", "DETAIL")
	for _, r := range results {
		detail := ""
		switch {
		case r.CoveringTrail != "":
			detail = "covered by " + trailName(r.CoveringTrail)
			if n := len(r.Warnings); n > 0 {
				detail += fmt.Sprintf(" (%d warning(s))", n)
			}
		case len(r.Reasons) > 0:
			detail = r.Reasons[0]
		}
		uncovered := fmt.Sprintf("%9d", len(r.UncoveredRegions()))
		if !r.CoverageEstablished() {
			uncovered = fmt.Sprintf("%9s", "?") // coverage could not be established
		}
		acct, name := r.Account, r.AccountName
		if r.File != "" {
			name = subject(r)
		}
		ew.printf("%s  %s  %s%s  %s  %s\n", pad(acct, 12), pad(name, nameWidth),
			t.status(r.Status), strings.Repeat(" ", max(statusWidth-len(r.Status), 0)), uncovered, detail)
	}
}

// trailName is the name part of a trail ARN.
func trailName(arn string) string {
	if i := strings.LastIndex(arn, "/"); i >= 0 {
		return arn[i+1:]
	}
	return arn
}

func (t Text) account(ew *errWriter, res trailguard.Result) {
	label, name := "Account", res.Account
	if name == "" {
		name = "(unknown account)"
	}
	if res.AccountName != "" {
		name += " (" + res.AccountName + ")"
	}
	if res.File != "" {
		label, name = "Resource", subject(res)
	}
	ew.printf("%s %s  %s\n", t.paint(ansiBold, label), t.paint(ansiBold, name), t.status(res.Status))
	if res.MuteReason != "" {
		ew.printf("  muted (%s underneath): %s\n", res.Underlying, res.MuteReason)
	}
	if res.CoveringTrail != "" {
		ew.printf("  covered by  %s\n", res.CoveringTrail)
	}
	for _, s := range res.Reasons {
		ew.printf("  %s %s\n", t.paint(ansiRed, "✗"), s)
	}
	for _, s := range res.Warnings {
		ew.printf("  %s %s\n", t.paint(ansiYellow, "!"), s)
	}
	if len(res.Trails) > 0 {
		ew.printf("  %s\n", t.paint(ansiBold, "Trails"))
		tw := tabwriter.NewWriter(ew, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "    NAME\tHOME REGION\tMULTI-REGION\tORG TRAIL\tLOGGING\tMANAGEMENT EVENTS\tVERDICT")
		var open []string
		// A value the code leaves open is "?" in its column and its
		// expression under the table, so that the columns stay narrow.
		for _, v := range res.Trails {
			c := columnsOf(v, false)
			fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\t%s\t%s\t%s\n", v.Name, v.HomeRegion, c.MultiRegion, c.Organization,
				c.Logging, c.Management, t.trailVerdict(c))
			for _, o := range c.Open {
				open = append(open, v.Name+" "+o)
			}
		}
		tw.Flush()
		for _, o := range open {
			ew.printf("    %s %s\n", t.paint(ansiYellow, "?"), o)
		}
	}
	t.regions(ew, res)
}

// trailVerdict colours the verdict column. The text table keeps "does
// not satisfy" short: the reasons above say why.
func (t Text) trailVerdict(c trailColumns) string {
	switch c.Kind {
	case "pass":
		return t.paint(ansiGreen, c.Verdict)
	case "unknown":
		return t.paint(ansiYellow, c.Verdict)
	case "fail":
		return t.paint(ansiRed, "does not satisfy")
	}
	return t.paint(ansiDim, c.Verdict)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// regions prints the coverage table: one row per covering trail (and one
// for uncovered regions, one for regions not enabled), each with the
// regions it holds, so that twenty-odd regions stay readable.
func (t Text) regions(ew *errWriter, res trailguard.Result) {
	if len(res.Regions) == 0 {
		if res.File == "" && !res.CoverageEstablished() {
			ew.printf("  %s  %s\n", t.paint(ansiBold, "Regions"), t.paint(ansiYellow, "not established (the account's regions and trails were not all read)"))
		}
		return
	}
	names := map[string]string{}
	for _, v := range res.Trails {
		names[v.ARN] = v.Name
	}
	// Regions no readable trail covers in an UNKNOWN or ERROR account are
	// not established, not "not covered".
	gap, gapLabel := "\x00none", "not covered"
	if !res.CoverageEstablished() {
		gapLabel = "not established"
	}
	groups := map[string][]string{}
	var enabled, uncovered, disabled int
	for _, rc := range res.Regions {
		key := ""
		switch {
		case !rc.Enabled:
			key = "\x00disabled"
			disabled++
		case rc.CoveredBy == "":
			key = gap
			enabled++
			uncovered++
		default:
			key = rc.CoveredBy
			enabled++
		}
		label := rc.Region
		if rc.OptInStatus == "opted-in" {
			label += "*"
		}
		groups[key] = append(groups[key], label)
	}
	ew.printf("  %s  %d enabled, %d %s, %d opt-in not enabled  %s\n", t.paint(ansiBold, "Regions"), enabled, uncovered, gapLabel, disabled,
		t.paint(ansiDim, "(* opted in)"))
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	// Covering trails first, then the uncovered regions, then those not
	// enabled.
	rank := func(k string) int { return map[string]int{"\x00none": 1, "\x00disabled": 2}[k] }
	sort.Slice(keys, func(i, j int) bool {
		if rank(keys[i]) != rank(keys[j]) {
			return rank(keys[i]) < rank(keys[j])
		}
		return keys[i] < keys[j]
	})
	tw := tabwriter.NewWriter(ew, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "    COVERAGE\tREGIONS")
	for _, k := range keys {
		// Colour only the last column: tabwriter counts escape codes as width.
		label, colour := names[k], ansiGreen
		switch k {
		case gap:
			label, colour = gapLabel, ansiRed
			if !res.CoverageEstablished() {
				colour = ansiYellow
			}
		case "\x00disabled":
			label, colour = "not enabled", ansiDim
		case "":
		default:
			if label == "" {
				label = k
			}
		}
		fmt.Fprintf(tw, "    %s\t%s\n", label, t.paint(colour, wrap(groups[k], 6, "\t")))
	}
	tw.Flush()
}

// wrap joins items n per line; continuation lines start with indent
// (tab-separated so that tabwriter aligns them).
func wrap(items []string, n int, indent string) string {
	var b strings.Builder
	for i, it := range items {
		switch {
		case i == 0:
		case i%n == 0:
			b.WriteString("\n    " + indent)
		default:
			b.WriteString(" ")
		}
		b.WriteString(it)
	}
	return b.String()
}

func (t Text) summary(ew *errWriter, r *Report) {
	s := r.Summary
	noun := "account(s)"
	for _, res := range r.Results {
		if res.File != "" {
			noun = "result(s)"
			break
		}
	}
	parts := []string{
		fmt.Sprintf("%d %s", s.Total, noun),
		t.paint(ansiGreen, fmt.Sprintf("%d PASS", s.Pass)),
		t.paint(ansiRed, fmt.Sprintf("%d FAIL", s.Fail)),
		t.paint(ansiYellow, fmt.Sprintf("%d UNKNOWN", s.Unknown)),
		t.paint(ansiPurple, fmt.Sprintf("%d ERROR", s.Error)),
	}
	if s.Muted > 0 {
		parts = append(parts, fmt.Sprintf("%d MUTED", s.Muted))
	}
	regions := fmt.Sprintf("%d enabled region(s) not covered", s.UncoveredRegions)
	accounts := false // regions are a question for accounts, not code
	for _, res := range r.Results {
		accounts = accounts || res.File == ""
	}
	if s.UnestablishedResults > 0 && accounts {
		regions += fmt.Sprintf("; coverage not established in %d UNKNOWN or ERROR %s", s.UnestablishedResults, noun)
		if s.UnestablishedRegions > 0 {
			regions += fmt.Sprintf(" (%d enabled region(s) no readable trail covers)", s.UnestablishedRegions)
		}
	}
	ew.printf("%s %s; %s\n", t.paint(ansiBold, "Summary:"), strings.Join(parts, ", "), regions)
	if total := sumCalls(r.APICalls); total > 0 {
		ew.printf("%s\n", t.paint(ansiDim, fmt.Sprintf("%d API call(s) in %d ms", total, r.Scan.DurationMS)))
	}
}

func sumCalls(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// errWriter keeps the first write error so that the writers read simply.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, args ...any) {
	fmt.Fprintf(e, format, args...)
}
