package terraform

import (
	"bytes"
	"encoding/json"
	"regexp"
	"unicode/utf8"

	"github.com/trailguard/trailguard"
	"github.com/trailguard/trailguard/internal/textpos"
)

// Plan JSON is decoded with encoding/json, which keeps no positions, so
// the places of a trail and of its deciding attributes are found in the
// text: the resource's first "address" entry, and within it (up to the
// next "address") its values ("after" in a change, "values" in the
// planned values), where each attribute is a key.
var (
	planAddressKey = regexp.MustCompile(`"address"\s*:\s*`)
	planValuesKey  = regexp.MustCompile(`"(?:after|values)"\s*:`)
	planAttrKeys   = map[string]*regexp.Regexp{}
)

func init() {
	for _, k := range []string{"is_multi_region_trail", "enable_logging", "include_global_service_events", "event_selector", "advanced_event_selector"} {
		planAttrKeys[k] = regexp.MustCompile(`"` + k + `"\s*:`)
	}
}

// planIndex is where each address first appears in a plan's text,
// built once per plan so that placing many trails stays linear.
type planIndex struct {
	b      []byte
	starts []int          // offsets of every "address" key
	first  map[string]int // quoted address → index in starts of its first entry
}

func newPlanIndex(b []byte) *planIndex {
	x := &planIndex{b: b, first: map[string]int{}}
	for _, m := range planAddressKey.FindAllIndex(b, -1) {
		x.starts = append(x.starts, m[0])
		if m[1] >= len(b) || b[m[1]] != '"' {
			continue
		}
		i := m[1] + 1
		for i < len(b) && b[i] != '"' {
			if b[i] == '\\' {
				i++
			}
			i++
		}
		if i < len(b) {
			if _, seen := x.first[string(b[m[1]:i+1])]; !seen {
				x.first[string(b[m[1]:i+1])] = len(x.starts) - 1
			}
		}
	}
	return x
}

// positions are where the plan shows the trail at address and its
// deciding attributes; a zero Position for what it does not show.
func (x *planIndex) positions(file, address string) trailguard.IaCPositions {
	var p trailguard.IaCPositions
	quoted, _ := json.Marshal(address)
	k, ok := x.first[string(quoted)]
	if !ok {
		return p
	}
	b := x.b
	start, end := x.starts[k], len(b)
	if k+1 < len(x.starts) {
		end = x.starts[k+1]
	}
	at := func(off int) trailguard.Position { return offsetPos(file, b, off) }
	p.Resource = at(start)
	seg := b[start:end]
	v := planValuesKey.FindIndex(seg)
	if v == nil {
		return p
	}
	find := func(key string) trailguard.Position {
		if m := planAttrKeys[key].FindIndex(seg[v[1]:]); m != nil {
			return at(start + v[1] + m[0])
		}
		return trailguard.Position{}
	}
	p.MultiRegion = find("is_multi_region_trail")
	p.Logging = find("enable_logging")
	p.GlobalEvents = find("include_global_service_events")
	p.Selectors = first(find("event_selector"), find("advanced_event_selector"))
	return p
}

// offsetPos is the position of byte offset off in b: its 1-based line and
// its column in characters. The one offset-to-position helper of the
// package: JSON decoders report offsets, people and SARIF read lines and
// columns.
func offsetPos(file string, b []byte, off int) trailguard.Position {
	off = max(0, min(off, len(b)))
	lineStart := bytes.LastIndexByte(b[:off], '\n') + 1
	// Columns count characters, as HCL's do.
	return trailguard.Position{File: file, Line: textpos.Line(b, int64(off)), Column: utf8.RuneCount(b[lineStart:off]) + 1}
}
