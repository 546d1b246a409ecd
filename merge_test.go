package trailguard

import (
	"reflect"
	"strings"
	"testing"
)

// FoldTrails is the one fold of a listing by ARN, used by every source and
// by the evaluator: shadow copies become one trail, entries without a real
// ARN stay apart, copies that disagree are Conflict, and the listing given
// is left as it was.
func TestFoldTrails(t *testing.T) {
	main := trail("main")
	tests := []struct {
		name     string
		in       []Trail
		names    []string // the folded trails, in order
		conflict string   // substring of the first trail's Conflict
		status   bool     // the first trail has a status after folding
	}{
		{name: "shadow_copies_are_one_trail", in: []Trail{main, trail("other", singleRegion("eu-west-1")), main}, names: []string{"main", "other"}, status: true},
		{name: "copy_lends_the_status_it_has", in: []Trail{trail("main", statusUnreadable), main}, names: []string{"main"}, status: true},
		{name: "entries_without_arn_stay_apart", in: []Trail{trail("a", func(tr *Trail) { tr.ARN = "" }), trail("a", func(tr *Trail) { tr.ARN = "" })}, names: []string{"a", "a"}, status: true},
		{name: "malformed_arn_is_no_key", in: []Trail{trail("a", func(tr *Trail) { tr.ARN = "a" }), trail("a", func(tr *Trail) { tr.ARN = "a"; tr.Status = nil })}, names: []string{"a", "a"}, status: true},
		{name: "copies_that_disagree_are_conflict", in: []Trail{main, trail("main", func(tr *Trail) { tr.IsMultiRegion = false })}, names: []string{"main"}, conflict: "IsMultiRegionTrail is true", status: true},
		{name: "copies_with_different_status_are_conflict", in: []Trail{main, trail("main", notLogging)}, names: []string{"main"}, conflict: "it is not logging", status: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := deepCopy([]Account{{Trails: tc.in}})[0].Trails
			got := FoldTrails(tc.in)
			if !reflect.DeepEqual(before, tc.in) {
				t.Errorf("FoldTrails changed its input")
			}
			var names []string
			for _, tr := range got {
				names = append(names, tr.Name)
			}
			if !reflect.DeepEqual(names, tc.names) {
				t.Fatalf("folded to %q, want %q", names, tc.names)
			}
			if c := got[0].Conflict; (tc.conflict == "") != (c == "") || !strings.Contains(c, tc.conflict) {
				t.Errorf("conflict %q, want %q", c, tc.conflict)
			}
			if (got[0].Status != nil) != tc.status {
				t.Errorf("status %v, want present=%t", got[0].Status, tc.status)
			}
		})
	}
}
