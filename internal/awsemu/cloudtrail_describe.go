package awsemu

import (
	"sort"
)

func (e *Emulator) getTrail(c *call, body []byte) (any, *apiError) {
	return e.withTrail(c, body, &nameIn{}, read, func(t *trail) (any, *apiError) {
		return struct {
			Trail trailOut `json:"Trail"`
		}{t.out()}, nil
	})
}

// describeTrails follows the DescribeTrails reference: with no names, the
// caller's trails of the current region plus, unless includeShadowTrails
// is false, the shadow trails (its multi-region trails homed elsewhere, and
// for a member account its organization's trails); with names, only the caller's trails of
// the current region match a name, and any visible trail its ARN. Names
// that match nothing are left out, not reported.
func (e *Emulator) describeTrails(c *call, body []byte) (any, *apiError) {
	var in struct {
		TrailNameList       []string `json:"trailNameList"`
		IncludeShadowTrails *bool    `json:"includeShadowTrails"`
	}
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	shadows := in.IncludeShadowTrails == nil || *in.IncludeShadowTrails
	e.mu.Lock()
	defer e.mu.Unlock()
	var list []*trail
	if len(in.TrailNameList) == 0 {
		for _, t := range e.trails {
			if e.visibleIn(t, c.account(), c.region) && (shadows || !isShadow(t, c)) {
				list = append(list, t)
			}
		}
	} else {
		seen := map[*trail]bool{}
		for _, n := range in.TrailNameList {
			t, err := e.findTrail(c, n, read)
			if err != nil {
				if err.Code == "TrailNotFoundException" {
					continue
				}
				return nil, err
			}
			if !seen[t] {
				seen[t] = true
				list = append(list, t)
			}
		}
	}
	sortTrails(list, c.region)
	out := make([]trailOut, 0, len(list))
	for _, t := range list {
		out = append(out, t.out())
	}
	return struct {
		TrailList []trailOut `json:"trailList"`
	}{out}, nil
}

// isShadow reports whether t is, for the caller, a shadow trail: "the
// replication in a Region of a trail that was created in a different
// Region, or in the case of an organization trail, the replication of an
// organization trail in member accounts" (DescribeTrails reference).
func isShadow(t *trail, c *call) bool {
	return t.home != c.region || t.account != c.account()
}

// sortTrails orders trails as a reader expects: those homed in region
// first, then shadows, each by ARN.
func sortTrails(list []*trail, region string) {
	sort.Slice(list, func(i, j int) bool {
		hi, hj := list[i].home == region, list[j].home == region
		if hi != hj {
			return hi
		}
		return list[i].arn < list[j].arn
	})
}

// listTrails lists every trail of the account, whatever its home region,
// plus its organization's trails, one page at a time.
func (e *Emulator) listTrails(c *call, body []byte) (any, *apiError) {
	var in struct{ NextToken *string }
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	var list []*trail
	for _, t := range e.trails {
		if t.account == c.account() || e.orgTrailReaches(t, c.account()) {
			list = append(list, t)
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].arn < list[j].arn })
	start, err := decodeToken(in.NextToken, len(list))
	if err != nil {
		return nil, err
	}
	end := min(start+e.pageSize, len(list))
	type info struct {
		TrailARN   string `json:"TrailARN"`
		Name       string `json:"Name"`
		HomeRegion string `json:"HomeRegion"`
	}
	out := struct {
		Trails    []info  `json:"Trails"`
		NextToken *string `json:"NextToken,omitempty"`
	}{Trails: []info{}}
	for _, t := range list[start:end] {
		out.Trails = append(out.Trails, info{t.arn, t.name, t.home})
	}
	if end < len(list) {
		tok := encodeToken(end)
		out.NextToken = &tok
	}
	return out, nil
}
