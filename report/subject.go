package report

import (
	"fmt"
	"strings"

	"github.com/trailguard/trailguard"
)

// subject names what a result is about: the account (with its name), or
// for an IaC result the resource and where it stands.
func subject(r trailguard.Result) string {
	if r.File != "" {
		return fmt.Sprintf("%s (%s:%d)", r.Resource, r.File, r.Line)
	}
	if r.AccountName != "" {
		return r.Account + " (" + r.AccountName + ")"
	}
	if r.Account == "" {
		return "(unknown account)"
	}
	return r.Account
}

// explanation says in one line why a result is what it is: the covering
// trail for a PASS, the mute reason, else the reasons.
func explanation(r trailguard.Result) string {
	switch {
	case r.Status == trailguard.StatusMuted:
		return fmt.Sprintf("muted (%s underneath): %s", r.Underlying, r.MuteReason)
	case r.Status == trailguard.StatusPass && r.CoveringTrail != "":
		return "covered by " + r.CoveringTrail
	case r.Status == trailguard.StatusPass:
		return "satisfies CIS 3.1"
	}
	return strings.Join(r.Reasons, "; ")
}

// coverage says in words what an account result tells of its regions:
// "" for code, for a result without gaps; "not established" for UNKNOWN
// and ERROR (never "not covered", never a count that reads as covered).
func coverage(r trailguard.Result) string {
	switch {
	case r.File != "":
		return ""
	case !r.CoverageEstablished():
		return "coverage of the account's regions not established"
	case len(r.UncoveredRegions()) > 0:
		return fmt.Sprintf("%d enabled region(s) not covered", len(r.UncoveredRegions()))
	}
	return ""
}
