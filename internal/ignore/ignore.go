// Package ignore is the one rule for trailguard:ignore comments, shared by
// every infrastructure-code reader (Terraform, CloudFormation): a comment
//
//	trailguard:ignore cis-aws-3.1 <reason>
//
// on a resource's line, or in the block of whole-line comments right above
// it, mutes that resource's result with the reason. Each reader finds the
// comments with its own language's parser (so that text inside a string or
// a heredoc that looks like a comment is not one) and hands them over as
// Comment values; this package decides which directive applies.
package ignore

import (
	"regexp"
	"strings"
)

// Rule is the id a directive names: the control's SARIF rule id.
const Rule = "cis-aws-3.1"

// Comment is the text of a comment on one source line. A comment that
// spans lines (/* ... */) is one Comment per line.
type Comment struct {
	Line int    // 1-based
	Text string // with or without its markers (#, //, /*, *, */)
	// Alone says the line holds nothing but comments: only such lines
	// form the block above a resource.
	Alone bool
}

// directive is a directive after the comment markers are removed. The
// reason is required: a mute says why.
var directive = regexp.MustCompile(`^trailguard:ignore\s+` + regexp.QuoteMeta(Rule) + `\s+(\S.*?)\s*$`)

// Parse returns the reason of the directive in one comment line's text.
func Parse(text string) (reason string, ok bool) {
	s := strings.TrimSpace(text)
	for _, marker := range []string{"#", "//", "/*", "*"} {
		if strings.HasPrefix(s, marker) {
			s = strings.TrimPrefix(s, marker)
			break
		}
	}
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "*/"))
	m := directive.FindStringSubmatch(s)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// Find returns the reason of the directive that applies to a resource
// declared at line: one in a comment on that line, else one in the
// whole-line comments right above it (a blank line or code ends the
// block). "" when none applies.
func Find(comments []Comment, line int) string {
	byLine := map[int][]Comment{}
	for _, c := range comments {
		if c.Line <= line {
			byLine[c.Line] = append(byLine[c.Line], c)
		}
	}
	for _, c := range byLine[line] {
		if r, ok := Parse(c.Text); ok {
			return r
		}
	}
	for l := line - 1; l >= 1; l-- {
		cs := byLine[l]
		alone := len(cs) > 0
		for _, c := range cs {
			alone = alone && c.Alone
		}
		if !alone {
			return ""
		}
		for _, c := range cs {
			if r, ok := Parse(c.Text); ok {
				return r
			}
		}
	}
	return ""
}
