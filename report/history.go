package report

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/trailguard/trailguard"
	"github.com/trailguard/trailguard/history"
)

// History is what `trailguard history` reports: for each account, the
// window's coverage events with their effect, and the periods the
// account was not (or not provably) covered.
type History struct {
	Tool  Tool      `json:"tool"`
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
	// Source is "aws" or "evidence:DIR".
	Source   string           `json:"source"`
	Accounts []HistoryAccount `json:"accounts"`
	// Calls counts the LookupEvents requests sent, retries included;
	// APICalls the reads of the state now, per "service:Operation", as
	// the scan's report counts them.
	Calls    int            `json:"calls"`
	APICalls map[string]int `json:"api_calls,omitempty"`
	Notices  []string       `json:"notices,omitempty"`
}

// HistoryAccount is one account's replayed window.
type HistoryAccount struct {
	Account string `json:"account"`
	// StatusNow is the scan's verdict on the state the replay started
	// from.
	StatusNow trailguard.Status `json:"status_now"`
	Events    []HistoryEvent    `json:"events"`
	Uncovered []HistoryInterval `json:"uncovered"`
	// Regions are those whose event history was read; Errors say which
	// could not be, and why (each makes the window uncertain).
	Regions []string `json:"regions_read"`
	Errors  []string `json:"errors,omitempty"`
	// Notes say why parts of the window are uncertain.
	Notes []string `json:"notes,omitempty"`
}

// HistoryEvent is one coverage event in the JSON form the issue names.
type HistoryEvent struct {
	Time      time.Time `json:"time"`
	Event     string    `json:"event"`
	Trail     string    `json:"trail"`
	Actor     string    `json:"actor"`
	ActorType string    `json:"actor_type,omitempty"`
	Session   string    `json:"session,omitempty"`
	SourceIP  string    `json:"source_ip"`
	UserAgent string    `json:"user_agent"`
	ErrorCode string    `json:"error_code"`
	Effect    string    `json:"effect"`
	// Account and Region are where the call was recorded: the management
	// account's, for a change to an organization trail.
	Account string `json:"recorded_in_account,omitempty"`
	Region  string `json:"region,omitempty"`
}

// HistoryInterval is a period not covered (Certain) or not provably
// covered; To is exclusive.
type HistoryInterval struct {
	From    time.Time `json:"from"`
	To      time.Time `json:"to"`
	Certain bool      `json:"certain"`
}

// NewHistoryAccount turns a replay into its report form.
func NewHistoryAccount(tl history.Timeline, now trailguard.Status, regions, errs []string) HistoryAccount {
	a := HistoryAccount{Account: tl.Account, StatusNow: now, Regions: regions, Errors: errs, Notes: tl.Notes,
		Events: []HistoryEvent{}, Uncovered: []HistoryInterval{}}
	if a.Regions == nil {
		a.Regions = []string{}
	}
	for _, c := range tl.Changes {
		trail := c.TrailARN
		if trail == "" {
			trail = c.TrailName
		}
		a.Events = append(a.Events, HistoryEvent{Time: c.Time.UTC(), Event: c.Name, Trail: trail, Actor: c.Actor, ActorType: c.ActorType,
			Session: c.Session, SourceIP: c.SourceIP, UserAgent: c.UserAgent, ErrorCode: c.ErrorCode, Effect: c.Effect, Account: c.Account, Region: c.Region})
	}
	for _, u := range tl.Uncovered {
		a.Uncovered = append(a.Uncovered, HistoryInterval{From: u.From.UTC(), To: u.To.UTC(), Certain: u.Certain})
	}
	return a
}

// ExitCode is the history's exit code, read as scan's: 0 every account
// proven covered through the window, 1 a period certainly not covered,
// 2 none certain but some period not proven covered (or an account that
// could not be read).
func (h *History) ExitCode() int {
	code := 0
	for _, n := range h.Notices {
		if strings.HasPrefix(n, "partial:") {
			code = 2 // the accounts not read prove nothing
		}
	}
	for _, a := range h.Accounts {
		for _, u := range a.Uncovered {
			if u.Certain {
				return 1
			}
			code = 2
		}
		if len(a.Errors) > 0 {
			code = 2
		}
	}
	return code
}

// WriteHistoryJSON writes the history as one JSON object, characters a
// terminal would obey written as \u escapes.
func WriteHistoryJSON(w io.Writer, h *History) error {
	return encodeJSON(w, h)
}

const historyTime = "2006-01-02 15:04:05"

// maxAgent is how much of a user agent the text timeline shows.
const maxAgent = 48

// WriteHistoryText writes a timeline per account, the gaps first. Every
// value from the events (actor, user agent, trail) is escaped: it is
// whatever a caller sent to AWS.
func WriteHistoryText(w io.Writer, h *History) error {
	var b strings.Builder
	fmt.Fprintf(&b, "CIS 3.1 coverage history, %s → %s UTC (%d LookupEvents call(s))\n", h.Since.UTC().Format(historyTime), h.Until.UTC().Format(historyTime), h.Calls)
	for _, n := range h.Notices {
		fmt.Fprintf(&b, "note: %s\n", Escape(n))
	}
	for _, a := range h.Accounts {
		fmt.Fprintf(&b, "\nAccount %s (now: %s)\n", Escape(a.Account), a.StatusNow)
		if len(a.Uncovered) == 0 {
			b.WriteString("  Covered through the whole window.\n")
		} else {
			b.WriteString("  Not covered:\n")
			for _, u := range a.Uncovered {
				what := "certain"
				if !u.Certain {
					what = "uncertain: the history cannot prove it was covered"
				}
				fmt.Fprintf(&b, "    %s → %s  (%s)  %s\n", u.From.Format(historyTime), u.To.Format(historyTime), span(u.To.Sub(u.From)), what)
			}
		}
		if len(a.Events) > 0 {
			b.WriteString("  Events:\n")
			for _, e := range a.Events {
				fmt.Fprintf(&b, "    %s  %-17s %s\n", e.Time.Format(historyTime), Escape(e.Event), Escape(e.Effect))
				who := e.Actor
				if who == "" {
					who = "unknown caller"
				}
				if e.ActorType != "" {
					who += " (" + e.ActorType + ")"
				}
				if e.Session != "" {
					who += " session " + e.Session
				}
				fmt.Fprintf(&b, "        trail %s\n        by %s from %s", Escape(orDash(e.Trail)), Escape(who), Escape(orDash(e.SourceIP)))
				if e.UserAgent != "" {
					// The JSON keeps the whole user agent; a timeline shows
					// its start, which names the tool.
					ua := e.UserAgent
					if r := []rune(ua); len(r) > maxAgent {
						ua = string(r[:maxAgent]) + "…"
					}
					fmt.Fprintf(&b, " [%s]", Escape(ua))
				}
				b.WriteString("\n")
				if e.ErrorCode != "" {
					fmt.Fprintf(&b, "        FAILED: %s (changed nothing)\n", Escape(e.ErrorCode))
				}
			}
		} else {
			b.WriteString("  No coverage events in the window.\n")
		}
		for _, n := range a.Notes {
			fmt.Fprintf(&b, "  note: %s\n", Escape(n))
		}
		for _, e := range a.Errors {
			fmt.Fprintf(&b, "  error: %s\n", Escape(e))
		}
		switch n := len(a.Regions); {
		case n > 4:
			fmt.Fprintf(&b, "  Event history read in %d regions (%s, …)\n", n, Escape(strings.Join(a.Regions[:3], ", ")))
		case n > 0:
			fmt.Fprintf(&b, "  Event history read in: %s\n", Escape(strings.Join(a.Regions, ", ")))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// span prints a duration in days and hours (or minutes, when short).
func span(d time.Duration) string {
	if d < time.Hour {
		return d.Round(time.Second).String()
	}
	days := int(d / (24 * time.Hour))
	hours := int(d%(24*time.Hour)) / int(time.Hour)
	if days == 0 {
		return fmt.Sprintf("%dh%02dm", hours, int(d%time.Hour)/int(time.Minute))
	}
	return fmt.Sprintf("%dd %dh", days, hours)
}

// strip is one account's timeline as the HTML report draws it: segments
// whose widths are their share of the window.
type strip struct {
	Segments []stripSegment
	Events   []HistoryEvent
	Gaps     []HistoryInterval
}

type stripSegment struct {
	Class, Title string
	// Percent is the segment's width, in hundredths of a percent.
	Percent string
}

// stripOf lays out an account's window: covered where no interval is,
// "gap" where certainly not covered, "unsure" where not proven.
func stripOf(h *History, a HistoryAccount) strip {
	s := strip{Events: a.Events, Gaps: a.Uncovered}
	total := h.Until.Sub(h.Since)
	if total <= 0 {
		return s
	}
	add := func(from, to time.Time, class, title string) {
		if !to.After(from) {
			return
		}
		s.Segments = append(s.Segments, stripSegment{Class: class, Title: title + ": " + from.UTC().Format(historyTime) + " → " + to.UTC().Format(historyTime),
			Percent: fmt.Sprintf("%.3f", 100*float64(to.Sub(from))/float64(total))})
	}
	at := h.Since
	for _, u := range a.Uncovered {
		add(at, u.From, "cov", "covered")
		if u.Certain {
			add(u.From, u.To, "gap", "not covered")
		} else {
			add(u.From, u.To, "unsure", "not proven covered")
		}
		at = u.To
	}
	add(at, h.Until, "cov", "covered")
	return s
}
