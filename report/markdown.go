package report

import (
	"io"
	"strconv"
	"strings"

	"github.com/trailguard/trailguard"
)

// Markdown writes a summary and the results that need attention, short
// enough for a pull-request or ticket comment.
type Markdown struct{}

// Write implements Writer. It renders a copy of the report whose strings
// went through EscapeLines, and every value it places goes through
// mdEscape as well.
func (Markdown) Write(w io.Writer, r *Report) error {
	r = escapedCopy(r, EscapeLines)
	ew := &errWriter{w: w}
	s := r.Summary
	ew.printf("### %s — %s\n\n", r.Control.ID, mdEscape(r.Control.Title))
	ew.printf("| results | PASS | FAIL | UNKNOWN | ERROR | MUTED | regions not covered | results whose coverage is not established |\n")
	ew.printf("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	ew.printf("| %d | %d | %d | %d | %d | %d | %d | %d |\n\n", s.Total, s.Pass, s.Fail, s.Unknown, s.Error, s.Muted, s.UncoveredRegions, s.UnestablishedResults)
	if p := r.Partial; p != nil {
		ew.printf("> **Partial scan:** %s (%d listed account(s) not scanned).\n\n", mdEscape(p.Reason), len(p.NotScanned))
		if s := p.CutShort(); s != "" {
			ew.printf("> %s.\n\n", mdEscape(s))
		}
	}
	var attention []trailguard.Result
	for _, res := range r.Results {
		if res.Status != trailguard.StatusPass {
			attention = append(attention, res)
		}
	}
	if len(attention) == 0 {
		ew.printf("Every result passes.\n")
		return ew.err
	}
	ew.printf("| status | subject | why | regions not covered |\n| --- | --- | --- | ---: |\n")
	for _, res := range attention {
		// "?" for an UNKNOWN or ERROR result: its regions are not
		// established, and 0 would read as covered.
		gaps := "?"
		if res.CoverageEstablished() {
			gaps = strconv.Itoa(len(res.UncoveredRegions()))
		}
		ew.printf("| **%s** | %s | %s | %s |\n", mdEscape(string(res.Status)), mdEscape(subject(res)), mdEscape(explanation(res)), gaps)
	}
	ew.printf("\n<sub>%s %s · source %s</sub>\n", r.Tool.Name, mdEscape(r.Tool.Version), mdEscape(r.Scan.Source))
	return ew.err
}

// mdEscape keeps a value inside one table cell and free of markup: it
// backslash-escapes the characters that start Markdown syntax (\ first, so
// that an input "\|" cannot turn the escape of its pipe into a literal
// backslash and end the cell), writes < > & as HTML entities (no raw HTML,
// no entity such as &#x202e; that a renderer would decode into a control),
// and turns a line break into <br> and a tab into a space. The value has
// been through EscapeLines already, so no other control is left.
func mdEscape(s string) string {
	return mdReplacer.Replace(s)
}

var mdReplacer = strings.NewReplacer(
	`\`, `\\`, "|", `\|`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "~", `\~`, "@", `\@`, "#", `\#`, "!", `\!`,
	"<", "&lt;", ">", "&gt;", "&", "&amp;",
	"\r\n", "<br>", "\n", "<br>", "\r", "<br>", "\t", " ",
)
