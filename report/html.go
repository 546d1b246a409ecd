package report

import (
	_ "embed"
	"html/template"
	"io"
	"sort"
	"strings"

	"github.com/trailguard/trailguard"
)

// HTML writes one self-contained page (no scripts, fonts or requests) for
// a person or an auditor: the summary, an accounts × regions coverage
// grid, each account's detail, the control's explanation and how the scan
// ran. It prints to PDF as it shows.
type HTML struct{}

//go:embed html.tmpl
var htmlSource string

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"lower":     func(s trailguard.Status) string { return strings.ToLower(string(s)) },
	"trailName": trailName,
	"join":      strings.Join,
	"columns":   func(v trailguard.TrailVerdict) trailColumns { return columnsOf(v, true) },
}).Parse(htmlSource))

type htmlView struct {
	*Report
	Regions  []string
	Accounts []htmlAccount
	IaC      []trailguard.Result
	Explain  string
	Calls    int
}

type htmlAccount struct {
	trailguard.Result
	Cells []htmlCell
	// Strip is the account's coverage timeline, with a history.
	Strip *strip
}

// htmlCell is one account × region square of the grid.
type htmlCell struct {
	Region, Class, Mark, Title string
}

// Write implements Writer. html/template escapes every value for its
// context (text, attribute, URL); the values come from a copy of the
// report passed through EscapeLines first, so a bidi override or a control
// in a name is shown, not obeyed, by the browser or by a terminal the file
// is printed to.
func (HTML) Write(w io.Writer, r *Report) error {
	r = escapedCopy(r, EscapeLines)
	v := htmlView{Report: r, Explain: trailguard.Explanation(), Calls: sumCalls(r.APICalls)}
	seen := map[string]bool{}
	for _, res := range r.Results {
		for _, rc := range res.Regions {
			seen[rc.Region] = true
		}
	}
	for name := range seen {
		v.Regions = append(v.Regions, name)
	}
	sort.Strings(v.Regions)
	for _, res := range r.Results {
		if res.File != "" {
			v.IaC = append(v.IaC, res)
			continue
		}
		a := htmlAccount{Result: res}
		if r.History != nil {
			for _, ha := range r.History.Accounts {
				if ha.Account == res.Account {
					st := stripOf(r.History, ha)
					a.Strip = &st
				}
			}
		}
		if len(res.Regions) > 0 {
			by := map[string]trailguard.RegionCoverage{}
			for _, rc := range res.Regions {
				by[rc.Region] = rc
			}
			for _, name := range v.Regions {
				a.Cells = append(a.Cells, cell(name, by[name], len(by[name].Region) > 0, res.CoverageEstablished()))
			}
		}
		v.Accounts = append(v.Accounts, a)
	}
	return htmlTemplate.Execute(w, v)
}

// cell marks one region of one account. A region no readable trail covers
// in an UNKNOWN or ERROR account (established false) is "?", not a gap.
func cell(region string, rc trailguard.RegionCoverage, listed, established bool) htmlCell {
	c := htmlCell{Region: region}
	switch {
	case !listed:
		c.Class, c.Mark, c.Title = "na", "", region+": not listed for this account"
	case rc.OptInStatus == trailguard.OptInNotRead:
		c.Class, c.Mark, c.Title = "nr", "·", region+": opt-in region, status not read"
	case !rc.Enabled:
		c.Class, c.Mark, c.Title = "off", "–", region+": opt-in region not enabled"
	case rc.CoveredBy != "":
		c.Class, c.Mark, c.Title = "ok", "✓", region+": covered by "+rc.CoveredBy
	case !established:
		c.Class, c.Mark, c.Title = "unest", "?", region+": not established (a trail could not be read)"
	default:
		c.Class, c.Mark, c.Title = "gap", "✗", region+": not covered"
	}
	return c
}
