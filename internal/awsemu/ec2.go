package awsemu

import (
	"encoding/xml"
	"net/http"
	"net/url"

	"sort"
	"strconv"
	"strings"

	"github.com/trailguard/trailguard/internal/wildcard"
)

const ec2Namespace = "http://ec2.amazonaws.com/doc/2016-11-15/"

// EC2 speaks its own dialect of the query protocol: lists are flattened as
// Name.N, responses are <Action>Response with a lower-case requestId and
// no Result wrapper, and errors are Response/Errors/Error.
var ec2Service = &service{
	operation: queryAction,
	writeError: func(w http.ResponseWriter, r *http.Request, c *call, err *apiError) {
		writeEC2Error(w, c.reqID, err)
	},
	serve:      (*Emulator).serveEC2,
	invalidKey: apiError{Status: http.StatusUnauthorized, Code: "AuthFailure", Message: "AWS was not able to validate the provided access credentials"},
	// Expired temporary credentials: EC2 answers RequestExpired, not
	// ExpiredToken as most other services do.
	expired:   apiError{Status: http.StatusBadRequest, Code: "RequestExpired", Message: "Request has expired."},
	throttled: apiError{Status: http.StatusServiceUnavailable, Code: "RequestLimitExceeded", Message: "Request limit exceeded."},
}

func (e *Emulator) serveEC2(w http.ResponseWriter, r *http.Request, c *call, body []byte) {
	p := queryParams(r, body)
	if p.Get("DryRun") == "true" {
		writeEC2Error(w, c.reqID, errorf(http.StatusPreconditionFailed, "DryRunOperation", "Request would have succeeded, but DryRun flag is set."))
		return
	}
	switch c.op {
	case "DescribeRegions":
		regions, err := e.describeRegions(c, p)
		if err != nil {
			writeEC2Error(w, c.reqID, err)
			return
		}
		type item struct {
			RegionName     string `xml:"regionName"`
			RegionEndpoint string `xml:"regionEndpoint"`
			OptInStatus    string `xml:"optInStatus"`
		}
		doc := struct {
			XMLName    xml.Name `xml:"DescribeRegionsResponse"`
			NS         string   `xml:"xmlns,attr"`
			RequestID  string   `xml:"requestId"`
			RegionInfo []item   `xml:"regionInfo>item"`
		}{NS: ec2Namespace, RequestID: c.reqID, RegionInfo: []item{}}
		for _, rg := range regions {
			doc.RegionInfo = append(doc.RegionInfo, item{rg.name, "ec2." + rg.name + ".amazonaws.com", rg.optIn})
		}
		writeXML(w, c.reqID, http.StatusOK, doc)
	default:
		writeEC2Error(w, c.reqID, errorf(http.StatusBadRequest, "InvalidAction", "The action %s is not valid for this web service.", c.op))
	}
}

type regionStatus struct{ name, optIn string }

// describeRegions follows the EC2 API reference: without AllRegions only
// the regions enabled for the account are listed; RegionName.N and the
// filters region-name, endpoint and opt-in-status narrow the list.
func (e *Emulator) describeRegions(c *call, p url.Values) ([]regionStatus, *apiError) {
	e.mu.Lock()
	acct := e.accounts[c.account()]
	known := allRegions()
	for r := range acct.optIn {
		if acct.regionOptIn(r) != "" && !containsString(known, r) {
			known = append(known, r)
		}
	}
	var all []regionStatus
	for _, r := range known {
		all = append(all, regionStatus{r, acct.regionOptIn(r)})
	}
	e.mu.Unlock()
	sort.Slice(all, func(i, j int) bool { return all[i].name < all[j].name })

	allRegionsFlag := strings.EqualFold(p.Get("AllRegions"), "true")
	names := listParam(p, "RegionName")
	for _, n := range names {
		found := false
		for _, rg := range all {
			found = found || rg.name == n
		}
		if !found {
			return nil, errorf(http.StatusBadRequest, "InvalidParameterValue", "Invalid region: %s", n)
		}
	}
	filters := map[string][]string{}
	for i := 1; ; i++ {
		name := p.Get("Filter." + strconv.Itoa(i) + ".Name")
		if name == "" {
			break
		}
		switch name {
		case "region-name", "endpoint", "opt-in-status":
		default:
			return nil, errorf(http.StatusBadRequest, "InvalidParameterValue", "The filter '%s' is invalid", name)
		}
		filters[name] = append(filters[name], listParam(p, "Filter."+strconv.Itoa(i)+".Value")...)
	}

	var out []regionStatus
	for _, rg := range all {
		if !allRegionsFlag && rg.optIn == NotOptedIn {
			continue
		}
		if len(names) > 0 && !containsString(names, rg.name) {
			continue
		}
		fields := map[string]string{"region-name": rg.name, "endpoint": "ec2." + rg.name + ".amazonaws.com", "opt-in-status": rg.optIn}
		ok := true
		for f, vals := range filters {
			ok = ok && matchAny(vals, fields[f])
		}
		if ok {
			out = append(out, rg)
		}
	}
	return out, nil
}

// listParam collects a flattened query list: prefix.1, prefix.2, … until
// the first gap.
func listParam(p url.Values, prefix string) []string {
	var out []string
	for i := 1; ; i++ {
		k := prefix + "." + strconv.Itoa(i)
		if !p.Has(k) {
			return out
		}
		out = append(out, p.Get(k))
	}
}

// matchAny reports whether s matches one of the EC2 filter values: * is
// any run of characters, ? exactly one, and a backslash escapes the next
// character (\*amazon\? is the literal *amazon?, DescribeRegions
// reference); anything else, [ included, is literal, and case counts.
func matchAny(patterns []string, s string) bool {
	for _, pat := range patterns {
		if p, ok := unescapeFilter(pat); ok && wildcard.Match(p, s) {
			return true
		}
	}
	return false
}

// unescapeFilter drops the escapes of an EC2 filter value so that
// wildcard.Match, which has none, can match it. The values filtered here
// (region names, opt-in statuses) never hold *, ? or \, so a value that
// asks for one of them literally — or ends in a lone backslash — matches
// nothing (ok false); an escaped ordinary character stands for itself.
func unescapeFilter(p string) (string, bool) {
	if !strings.Contains(p, `\`) {
		return p, true
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] == '\\' {
			i++
			if i == len(p) || strings.IndexByte(`*?\`, p[i]) >= 0 {
				return "", false
			}
		}
		b.WriteByte(p[i])
	}
	return b.String(), true
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
