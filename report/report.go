// Package report writes scan results in the formats people and their tools
// read. Each format is one file behind the Writer interface.
//
// Input never controls the terminal, the spreadsheet or the process
// (principle 5). Every string in a report may come from hostile input —
// trail names, ARNs, account names, AWS error messages, file contents and
// paths, mute reasons — so each writer escapes at its own boundary and
// the model keeps the exact values:
//   - text, Markdown, CSV, HTML and JUnit render a copy in which every
//     string went through Escape (or EscapeLines where a value may span
//     lines): controls, DEL, C1 controls, bidi overrides and invalid UTF-8
//     show as visible escapes such as \x1b and \u202e;
//   - Markdown also escapes \ | ` * _ [ ] ~ @ # ! and < > &, and turns a line
//     break in a cell into <br>;
//   - CSV prefixes a single quote to a cell that starts with = + - @ tab
//     or CR, so a spreadsheet never runs it as a formula;
//   - HTML relies on html/template's contextual escaping (text, attributes,
//     URLs);
//   - JSON, SARIF, ASFF and OCSF keep every value exact: encoding/json
//     escapes C0 controls and the rest a terminal would obey is written as
//     \u escapes.
//
// Escape is also what the command line uses for its own error, warning and
// progress lines.
package report

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/trailguard/trailguard"
)

// Report is everything a format may show about one run.
type Report struct {
	Tool    Tool    `json:"tool"`
	Control Control `json:"control"`
	Scan    Scan    `json:"scan"`
	// Summary comes before Results so that a person paging through the
	// JSON of a thousand accounts sees the counts first.
	Summary trailguard.Summary  `json:"summary"`
	Results []trailguard.Result `json:"results"`
	// APICalls counts requests per "service:Operation"; empty for offline
	// sources.
	APICalls map[string]int `json:"api_calls"`
	// Partial is set when the scan stopped before every account was read
	// (Ctrl-C, the overall timeout, a failed listing).
	Partial *Partial `json:"partial,omitempty"`
	// Skipped names organization accounts not scanned because they are
	// not ACTIVE, with their state.
	Skipped map[string]string `json:"skipped_accounts,omitempty"`
	// Notices are things the reader should know that are not results: a
	// mutelist entry that expired, for one.
	Notices []string `json:"notices,omitempty"`
	// History, when set, adds each account's coverage timeline to the
	// HTML report (trailguard history --format html).
	History *History `json:"-"`
}

// Partial says why a scan's results are incomplete and which listed
// accounts were not scanned.
type Partial struct {
	Reason     string   `json:"reason"`
	NotScanned []string `json:"not_scanned"`
	// ListingCutShort says the organization's account listing stopped
	// before its end: accounts it had not yet listed are neither in the
	// results nor in NotScanned. AccountsListed is how many accounts the
	// organization had reported by then (Organizations gives no total up
	// front, so how many are missing is not known).
	ListingCutShort bool `json:"listing_cut_short,omitempty"`
	AccountsListed  int  `json:"accounts_listed,omitempty"`
}

// CutShort says, in words, what a listing cut short leaves out; "" when
// the listing finished.
func (p *Partial) CutShort() string {
	if p == nil || !p.ListingCutShort {
		return ""
	}
	return fmt.Sprintf("the account listing was cut short after the organization reported %d account(s); "+
		"accounts it had not listed yet were neither scanned nor named here, and how many there are is not known", p.AccountsListed)
}

// Tool names the program that wrote the report.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Control names the control the results are about.
type Control struct {
	ID        string `json:"id"`
	Title     string `json:"title"`
	Benchmark string `json:"benchmark"`
}

// Scan says how the results were obtained.
type Scan struct {
	Source string `json:"source"` // "aws" or "evidence:<dir>"
	// Region is where the scan asked its account-wide questions; Security
	// Hub findings are filed there.
	Region string `json:"region,omitempty"`
	Strict bool   `json:"strict"`
	// RequireDelivery and MaxDeliveryAge are how delivery health was
	// judged (--require-delivery, --max-delivery-age); absent from code
	// scans, which have no delivery.
	RequireDelivery bool      `json:"require_delivery,omitempty"`
	MaxDeliveryAge  Age       `json:"max_delivery_age,omitempty"`
	StartedAt       time.Time `json:"started_at"`
	// DurationMS is the wall time of the scan in milliseconds.
	DurationMS int64 `json:"duration_ms"`
}

// New builds a report with the summary filled in.
func New(version string, scan Scan, results []trailguard.Result, calls map[string]int) *Report {
	if calls == nil {
		calls = map[string]int{}
	}
	if results == nil {
		results = []trailguard.Result{}
	}
	return &Report{
		Tool: Tool{Name: "trailguard", Version: version},
		Control: Control{
			ID:        trailguard.ControlID,
			Title:     trailguard.ControlTitle,
			Benchmark: "CIS Amazon Web Services Foundations Benchmark v3.0.0, recommendation 3.1",
		},
		Scan:     scan,
		Results:  results,
		Summary:  trailguard.Summarize(results),
		APICalls: calls,
	}
}

// Writer writes a report in one format.
type Writer interface {
	Write(w io.Writer, r *Report) error
}

// Style tunes human-readable formats.
type Style struct {
	Color bool
	// Verbose shows every account's detail, passing ones included, even in
	// a long report.
	Verbose bool
	// SARIFBase is the repository root SARIF URIs are relative to (see
	// SARIF.Base).
	SARIFBase string
}

// Formats lists the format names ForFormat knows, sorted.
func Formats() []string {
	names := []string{"json", "text", "csv", "markdown", "junit", "sarif", "asff", "ocsf", "html"}
	sort.Strings(names)
	return names
}

// ForFormat returns the writer for a format name.
func ForFormat(name string, style Style) (Writer, error) {
	switch strings.ToLower(name) {
	case "text", "":
		return Text{Style: style}, nil
	case "json":
		return JSON{}, nil
	case "csv":
		return CSV{}, nil
	case "markdown", "md":
		return Markdown{}, nil
	case "junit":
		return JUnit{}, nil
	case "sarif":
		return SARIF{Base: style.SARIFBase}, nil
	case "asff":
		return ASFF{}, nil
	case "ocsf":
		return OCSF{}, nil
	case "html":
		return HTML{}, nil
	}
	return nil, fmt.Errorf("unknown format %q (choose one of: %s)", name, strings.Join(Formats(), ", "))
}

// Age is a duration that JSON writes as Go writes it ("24h0m0s"), which
// people read and time.ParseDuration reads back.
type Age time.Duration

// MarshalText implements encoding.TextMarshaler.
func (a Age) MarshalText() ([]byte, error) {
	return []byte(time.Duration(a).String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (a *Age) UnmarshalText(b []byte) error {
	d, err := time.ParseDuration(string(b))
	*a = Age(d)
	return err
}
