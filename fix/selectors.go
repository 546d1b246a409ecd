package fix

import (
	"fmt"
	"slices"

	"github.com/trailguard/trailguard"
	"github.com/trailguard/trailguard/awscli"
)

// repair makes an existing multi-region trail satisfy 3.1: its selectors
// first (so that starting it records the right events), then logging.
// Both read in this run by the scan: the undo puts back the selectors read.
func repair(t trailguard.Trail, o Options) ([]Step, error) {
	var steps []Step
	home := t.HomeRegion
	sel, changed, err := widen(*t.Selectors, o.Strict)
	if err != nil {
		return nil, fmt.Errorf("trail %s: %w", t.Name, err)
	}
	if changed {
		flag, doc := awscli.PutEventSelectorsOf(t.ARN, sel).Arg()
		beforeFlag, before := awscli.PutEventSelectorsOf(t.ARN, *t.Selectors).Arg()
		undo := fmt.Sprintf("aws cloudtrail put-event-selectors --trail-name %s %s %s --region %s", sh(t.ARN), beforeFlag, sh(before), sh(home))
		if len(t.Selectors.Basic) == 0 && len(t.Selectors.Advanced) == 0 {
			undo = "" // no selectors were read to put back
		}
		steps = append(steps, Step{
			Action: ActionRecordAllManagementEvents, Region: home, Trail: t.ARN, Selectors: &sel,
			Why:  fmt.Sprintf("trail %s does not record all management events, read and write; every data-event selector is kept", t.Name),
			API:  "cloudtrail:PutEventSelectors",
			CLI:  fmt.Sprintf("aws cloudtrail put-event-selectors --trail-name %s %s %s --region %s", sh(t.ARN), flag, sh(doc), sh(home)),
			Undo: undo,
		})
	}
	if t.Status == nil || !t.Status.IsLogging {
		steps = append(steps, Step{
			Action: ActionStartLogging, Region: home, Trail: t.ARN,
			Why: fmt.Sprintf("trail %s is not logging: nothing is recorded until it is started", t.Name),
			API: "cloudtrail:StartLogging", CLI: fmt.Sprintf("aws cloudtrail start-logging --name %s --region %s", sh(t.ARN), sh(home)),
			Undo: fmt.Sprintf("aws cloudtrail stop-logging --name %s --region %s", sh(t.ARN), sh(home)),
		})
	}
	return steps, nil
}

// Limits of PutEventSelectors (the CloudTrail API reference,
// InvalidEventSelectorsException): 1 to 5 basic selectors per trail, at
// most 250 data resources across them; advanced selectors at most 500
// values across all conditions of all selectors.
const (
	maxBasicSelectors = 5
	maxAdvancedValues = 500
)

// widen returns selectors that record all management events, read and
// write, changing as little as it can and staying within the limits AWS
// accepts:
//   - basic: a selector that records some management events and no data
//     events is set to All (and loses its exclusions under strict); else a
//     management selector is added while there is room for one (a data
//     selector that also asked for some management events leaves them to
//     it); with five selectors already, a ReadWriteType All selector gets
//     the management events (its data events stay as they are), else two
//     data selectors of the same ReadWriteType are merged into one to make
//     room;
//   - advanced: every data-event selector is kept; restricted management
//     selectors give way to one that records them all.
//
// It fails only when no change within the limits records everything.
func widen(s trailguard.EventSelectors, strict bool) (trailguard.EventSelectors, bool, error) {
	if s.RecordsAllManagementEvents(trailguard.Options{Strict: strict}) {
		return s, false, nil
	}
	if len(s.Advanced) > 0 {
		var out trailguard.EventSelectors
		for _, a := range s.Advanced {
			if !a.SelectsManagementEvents() {
				out.Advanced = append(out.Advanced, a)
			}
		}
		out.Advanced = append(out.Advanced, trailguard.AdvancedEventSelector{Name: "All management events",
			FieldSelectors: []trailguard.FieldSelector{{Field: "eventCategory", Equals: []string{"Management"}}}})
		if n := advancedValues(out); n > maxAdvancedValues {
			return s, false, fmt.Errorf("recording all management events needs %d advanced selector values, more than the %d AWS accepts", n, maxAdvancedValues)
		}
		return out, true, nil
	}
	out := trailguard.EventSelectors{Basic: copyBasic(s.Basic)}
	all := func(b *trailguard.EventSelector) {
		b.ReadWriteType, b.IncludeManagementEvents = "All", true
		if strict {
			b.ExcludeManagementEventSources = nil
		}
	}
	for i := range out.Basic {
		if b := &out.Basic[i]; b.IncludeManagementEvents && len(b.DataResources) == 0 {
			all(b)
			return out, true, nil
		}
	}
	if len(out.Basic) >= maxBasicSelectors {
		for i := range out.Basic {
			if b := &out.Basic[i]; b.ReadWriteType == "All" {
				all(b)
				return out, true, nil
			}
		}
		merged, ok := mergeSameType(out.Basic)
		if !ok {
			return s, false, fmt.Errorf("the trail has %d basic event selectors, the most AWS accepts, and none can record all management events", len(out.Basic))
		}
		out.Basic = merged
	}
	// A data selector that also asked for some management events now
	// leaves them to the new selector.
	for i := range out.Basic {
		if out.Basic[i].IncludeManagementEvents && len(out.Basic[i].DataResources) > 0 {
			out.Basic[i].IncludeManagementEvents = false
			out.Basic[i].ExcludeManagementEventSources = nil
		}
	}
	out.Basic = append(out.Basic, trailguard.EventSelector{ReadWriteType: "All", IncludeManagementEvents: true})
	return out, true, nil
}

func copyBasic(in []trailguard.EventSelector) []trailguard.EventSelector {
	out := make([]trailguard.EventSelector, len(in))
	for i, b := range in {
		b.ExcludeManagementEventSources = append([]string(nil), b.ExcludeManagementEventSources...)
		b.DataResources = append([]trailguard.DataResource(nil), b.DataResources...)
		out[i] = b
	}
	return out
}

// mergeSameType joins the data resources of the first two basic selectors
// with the same ReadWriteType into one, which records exactly the same
// data events. Values of one resource type are joined in one data
// resource, keeping their order and dropping repeats.
func mergeSameType(in []trailguard.EventSelector) ([]trailguard.EventSelector, bool) {
	for i := range in {
		for j := i + 1; j < len(in); j++ {
			if in[i].ReadWriteType != in[j].ReadWriteType {
				continue
			}
			m := in[i]
			m.IncludeManagementEvents, m.ExcludeManagementEventSources = false, nil
			m.DataResources = nil
			index := map[string]int{}
			for _, d := range append(append([]trailguard.DataResource(nil), in[i].DataResources...), in[j].DataResources...) {
				k, ok := index[d.Type]
				if !ok {
					index[d.Type] = len(m.DataResources)
					m.DataResources = append(m.DataResources, trailguard.DataResource{Type: d.Type})
					k = len(m.DataResources) - 1
				}
				for _, v := range d.Values {
					if !slices.Contains(m.DataResources[k].Values, v) {
						m.DataResources[k].Values = append(m.DataResources[k].Values, v)
					}
				}
			}
			out := append([]trailguard.EventSelector(nil), in[:j]...)
			out[i] = m
			return append(out, in[j+1:]...), true
		}
	}
	return nil, false
}

func advancedValues(s trailguard.EventSelectors) int {
	n := 0
	for _, a := range s.Advanced {
		for _, f := range a.FieldSelectors {
			n += len(f.Equals) + len(f.NotEquals) + len(f.StartsWith) + len(f.NotStartsWith) + len(f.EndsWith) + len(f.NotEndsWith)
		}
	}
	return n
}
