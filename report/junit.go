package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/trailguard/trailguard"
)

// JUnit writes JUnit XML for CI systems: one test case per account (or
// IaC resource). FAIL is a failure, UNKNOWN and ERROR are errors (the
// check could not decide), MUTED is skipped with its reason.
type JUnit struct{}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr,omitempty"`
	Cases     []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Line      int           `xml:"line,attr,omitempty"`
	Failure   *junitProblem `xml:"failure"`
	Error     *junitProblem `xml:"error"`
	Skipped   *junitProblem `xml:"skipped"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

// Write implements Writer. encoding/xml replaces the characters XML 1.0
// forbids (most C0 controls) with U+FFFD but writes C1 controls and bidi
// overrides as they are, which a CI log or a terminal would obey; the
// report is rendered from a copy passed through EscapeLines, so every
// control shows as \xNN and the file always parses.
func (JUnit) Write(w io.Writer, r *Report) error {
	r = escapedCopy(r, EscapeLines)
	secs := fmt.Sprintf("%.3f", float64(r.Scan.DurationMS)/1000)
	suite := junitSuite{Name: r.Control.ID + " " + r.Control.Title, Time: secs}
	if !r.Scan.StartedAt.IsZero() {
		suite.Timestamp = r.Scan.StartedAt.UTC().Format("2006-01-02T15:04:05")
	}
	for _, res := range r.Results {
		c := junitCase{Name: subject(res), Classname: "trailguard." + r.Control.ID, File: res.File, Line: res.Line}
		first := ""
		if len(res.Reasons) > 0 {
			first = res.Reasons[0]
		}
		lines := append(append([]string{}, res.Reasons...), res.Warnings...)
		if c := coverage(res); c != "" {
			lines = append(lines, c)
		}
		body := strings.Join(lines, "\n")
		switch res.Status {
		case trailguard.StatusFail:
			c.Failure = &junitProblem{Message: first, Type: string(res.Status), Text: body}
			suite.Failures++
		case trailguard.StatusUnknown, trailguard.StatusError:
			c.Error = &junitProblem{Message: first, Type: string(res.Status), Text: body}
			suite.Errors++
		case trailguard.StatusMuted:
			c.Skipped = &junitProblem{Message: res.MuteReason, Text: body}
			suite.Skipped++
		default:
			c.SystemOut = explanation(res)
			if len(res.Warnings) > 0 {
				c.SystemOut += "\n" + strings.Join(res.Warnings, "\n")
			}
		}
		suite.Cases = append(suite.Cases, c)
		suite.Tests++
	}
	doc := junitSuites{Name: "trailguard", Tests: suite.Tests, Failures: suite.Failures, Errors: suite.Errors,
		Skipped: suite.Skipped, Time: secs, Suites: []junitSuite{suite}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
