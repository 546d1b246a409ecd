package trailguard

import _ "embed"

// explanation is the text of `trailguard explain`: what CIS AWS 3.1 asks,
// why it matters, how to fix it and where it bites. It lives in explain.md
// so that it reads well both in a terminal and on the repository page.
//
//go:embed explain.md
var explanation string

// Explanation returns the rationale, risks, trade-offs, remediation steps
// and gotchas of the control, written for a terminal 80 columns wide.
func Explanation() string {
	return explanation
}
