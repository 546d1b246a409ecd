package report

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"

	"github.com/trailguard/trailguard"
)

// CSV writes one row per account and region, for spreadsheets: the
// account's verdict repeated on each of its regions, with the trail that
// covers the region and the coverage in words (covered, not covered, not
// established, not enabled). A result without regions (an account that could not
// be read, an IaC resource) has one row with the region empty.
type CSV struct{}

var csvHeader = []string{
	"account", "account_name", "status", "underlying_status", "region", "opt_in_status", "region_enabled",
	"covered_by", "coverage", "covering_trail", "reasons", "warnings", "mute_reason", "file", "line", "resource",
}

// Write implements Writer. Every value is escaped (EscapeLines: a cell may
// span lines; other controls show as \xNN) and every cell is neutralised
// as a formula (see csvCell).
func (CSV) Write(w io.Writer, r *Report) error {
	r = escapedCopy(r, EscapeLines)
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	for _, res := range r.Results {
		line := ""
		if res.Line > 0 {
			line = strconv.Itoa(res.Line)
		}
		row := func(region, optIn, enabled, coveredBy, coverage string) []string {
			cells := []string{
				res.Account, res.AccountName, string(res.Status), string(res.Underlying), region, optIn, enabled,
				coveredBy, coverage, res.CoveringTrail, strings.Join(res.Reasons, "; "), strings.Join(res.Warnings, "; "),
				res.MuteReason, res.File, line, res.Resource,
			}
			for i := range cells {
				cells[i] = csvCell(cells[i])
			}
			return cells
		}
		if len(res.Regions) == 0 {
			coverage := ""
			if res.File == "" && !res.CoverageEstablished() {
				coverage = "not established"
			}
			if err := cw.Write(row("", "", "", "", coverage)); err != nil {
				return err
			}
			continue
		}
		for _, rc := range res.Regions {
			if err := cw.Write(row(rc.Region, rc.OptInStatus, strconv.FormatBool(rc.Enabled), rc.CoveredBy, csvCoverage(res, rc))); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// csvCell neutralises a value a spreadsheet would run as a formula: one that
// begins with =, +, -, @, tab or carriage return ("=HYPERLINK(...)" in a
// trail or account name) gets a leading single quote, as the OWASP CSV
// injection guidance recommends. Every cell goes through it, not only the
// names: any of them can carry input.
func csvCell(s string) string {
	if s != "" && strings.IndexByte("=+-@\t\r", s[0]) >= 0 {
		return "'" + s
	}
	return s
}

// csvCoverage says in words what an empty covered_by means, so that a
// spreadsheet filter on it cannot count a region of an UNKNOWN or ERROR
// account as not covered.
func csvCoverage(res trailguard.Result, rc trailguard.RegionCoverage) string {
	switch {
	case !rc.Enabled:
		return "not enabled"
	case rc.CoveredBy != "":
		return "covered"
	case !res.CoverageEstablished():
		return "not established"
	}
	return "not covered"
}
