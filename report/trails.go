package report

import (
	"strings"

	"github.com/trailguard/trailguard"
)

// trailColumns are the values every trail table shows for one trail (text,
// HTML), in one place so that the formats cannot disagree. A value the
// code leaves open (a trail in code whose is_multi_region_trail is a
// variable without a value, say) shows as "?" with the expression: the
// verdict was judged at a worst case, and printing that case's "no"
// would read as what the code says.
type trailColumns struct {
	MultiRegion, Organization, Logging, Management string
	// Verdict is the trail's verdict in words; Kind is "pass", "unknown",
	// "fail" or "single" for colour and CSS.
	Verdict, Kind string
	// Open names each value shown as "?" with its expression
	// ("multi-region: is_multi_region_trail = var.multi_region ..."), for
	// a format that keeps its columns narrow and says it under the table.
	Open []string
}

// columnsOf fills the columns of one trail; with inline, an open value is
// "? (expression)" in its cell (HTML, where a cell wraps), else "?" with
// the expression in Open (text, whose columns must stay narrow).
func columnsOf(v trailguard.TrailVerdict, inline bool) trailColumns {
	unknownValue := func(expr string) string {
		if inline {
			return "? (" + expr + ")"
		}
		return "?"
	}
	c := trailColumns{
		MultiRegion:  yesNo(v.IsMultiRegion),
		Organization: yesNo(v.IsOrganizationTrail),
		Logging:      "unknown",
		Management:   v.Management,
	}
	if v.Status != nil {
		c.Logging = yesNo(v.Status.IsLogging)
	}
	open := v.UnknownMultiRegion != "" || v.UnknownLogging != "" || v.UnknownSelectors != ""
	if v.UnknownMultiRegion != "" {
		c.MultiRegion = unknownValue(v.UnknownMultiRegion)
		c.Open = append(c.Open, "multi-region: "+v.UnknownMultiRegion)
	}
	if v.UnknownLogging != "" {
		c.Logging = unknownValue(v.UnknownLogging)
		c.Open = append(c.Open, "logging: "+v.UnknownLogging)
	}
	if v.UnknownSelectors != "" {
		c.Management = unknownValue(v.UnknownSelectors)
		c.Open = append(c.Open, "management events: "+v.UnknownSelectors)
	}
	switch {
	case v.Satisfies:
		c.Verdict, c.Kind = "satisfies 3.1", "pass"
	case open:
		c.Verdict, c.Kind = "cannot be resolved statically", "unknown"
	case v.Candidate && !v.Readable:
		c.Verdict, c.Kind = "not readable", "unknown"
	case v.Candidate:
		c.Verdict, c.Kind = "does not satisfy", "fail"
		if len(v.Problems) > 0 {
			c.Verdict = strings.Join(v.Problems, "; ")
		}
	default:
		c.Verdict, c.Kind = "single-region", "single"
	}
	return c
}
