package trailguard

import (
	"math/rand"
	"reflect"
	"strings"
	"testing"
)

// The questions other packages ask are the evaluator's own answers: a
// source asking Passes, or a planner asking RecordsAllManagementEvents,
// never disagrees with the verdict Evaluate gives.
func TestRecordsAllManagementEvents(t *testing.T) {
	all := EventSelector{ReadWriteType: "All", IncludeManagementEvents: true}
	s3data := []DataResource{{Type: "AWS::S3::Object", Values: []string{"arn:aws:s3:::b/"}}}
	eq := func(field string, v ...string) FieldSelector { return FieldSelector{Field: field, Equals: v} }
	mgmt := eq("eventCategory", "Management")
	tests := []struct {
		name         string
		sels         EventSelectors
		want, strict bool
	}{
		{name: "basic_all_read_and_write", sels: EventSelectors{Basic: []EventSelector{all}}, want: true, strict: true},
		{name: "basic_default_read_write_type", sels: EventSelectors{Basic: []EventSelector{{IncludeManagementEvents: true}}}, want: true, strict: true},
		{name: "basic_read_only", sels: EventSelectors{Basic: []EventSelector{{ReadWriteType: "ReadOnly", IncludeManagementEvents: true}}}},
		{name: "basic_reads_and_writes_in_two_selectors", sels: EventSelectors{Basic: []EventSelector{
			{ReadWriteType: "ReadOnly", IncludeManagementEvents: true}, {ReadWriteType: "WriteOnly", IncludeManagementEvents: true}}}},
		{name: "basic_data_events_only", sels: EventSelectors{Basic: []EventSelector{{ReadWriteType: "All", DataResources: s3data}}}},
		{name: "basic_management_beside_data_selector", sels: EventSelectors{Basic: []EventSelector{{ReadWriteType: "ReadOnly", DataResources: s3data}, all}}, want: true, strict: true},
		{name: "basic_excludes_kms_counts_but_not_strict", sels: EventSelectors{Basic: []EventSelector{{ReadWriteType: "All", IncludeManagementEvents: true, ExcludeManagementEventSources: []string{"kms.amazonaws.com"}}}}, want: true},
		{name: "basic_excludes_a_source_aws_rejects", sels: EventSelectors{Basic: []EventSelector{{ReadWriteType: "All", IncludeManagementEvents: true, ExcludeManagementEventSources: []string{"s3.amazonaws.com"}}}}},
		{name: "basic_read_write_type_aws_rejects", sels: EventSelectors{Basic: []EventSelector{{ReadWriteType: "Everything", IncludeManagementEvents: true}}}},
		{name: "no_selectors_record_nothing", sels: EventSelectors{}},
		{name: "advanced_management", sels: EventSelectors{Advanced: []AdvancedEventSelector{{FieldSelectors: []FieldSelector{mgmt}}}}, want: true, strict: true},
		{name: "advanced_writes_only", sels: EventSelectors{Advanced: []AdvancedEventSelector{{FieldSelectors: []FieldSelector{mgmt, eq("readOnly", "false")}}}}},
		{name: "advanced_excludes_kms_counts_but_not_strict", sels: EventSelectors{Advanced: []AdvancedEventSelector{{FieldSelectors: []FieldSelector{mgmt, {Field: "eventSource", NotEquals: []string{"kms.amazonaws.com"}}}}}}, want: true},
		{name: "advanced_event_source_equals_aws_rejects", sels: EventSelectors{Advanced: []AdvancedEventSelector{{FieldSelectors: []FieldSelector{mgmt, eq("eventSource", "s3.amazonaws.com")}}}}},
		{name: "advanced_data_events_only", sels: EventSelectors{Advanced: []AdvancedEventSelector{{FieldSelectors: []FieldSelector{eq("eventCategory", "Data"), eq("resources.type", "AWS::S3::Object")}}}}},
		{name: "basic_and_advanced_together_aws_rejects", sels: EventSelectors{Basic: []EventSelector{all}, Advanced: []AdvancedEventSelector{{FieldSelectors: []FieldSelector{mgmt}}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, strict := range []bool{false, true} {
				want := tc.want && (!strict || tc.strict)
				opts := Options{Strict: strict}
				if got := tc.sels.RecordsAllManagementEvents(opts); got != want {
					t.Errorf("strict=%t: RecordsAllManagementEvents = %t, want %t", strict, got, want)
				}
				// The evaluator agrees: a trail that only these selectors
				// could fail passes exactly when they record everything.
				tr := trail("t", func(tr *Trail) { s := tc.sels; tr.Selectors = &s })
				if got := Evaluate(Account{ID: acctID, Trails: []Trail{tr}}, opts).Status == StatusPass; got != want {
					t.Errorf("strict=%t: Evaluate passes = %t, want %t", strict, got, want)
				}
			}
		})
	}
}

// One selector must satisfy the condition on its own; the per-selector
// questions answer for that one selector.
func TestSelectorQuestions(t *testing.T) {
	mgmt := FieldSelector{Field: "eventCategory", Equals: []string{"Management"}}
	tests := []struct {
		name              string
		basic             *EventSelector
		adv               *AdvancedEventSelector
		selects, recordsA bool
	}{
		{name: "basic_all", basic: &EventSelector{ReadWriteType: "All", IncludeManagementEvents: true}, recordsA: true},
		{name: "basic_write_only", basic: &EventSelector{ReadWriteType: "WriteOnly", IncludeManagementEvents: true}},
		{name: "basic_management_off", basic: &EventSelector{ReadWriteType: "All"}},
		{name: "advanced_management", adv: &AdvancedEventSelector{FieldSelectors: []FieldSelector{mgmt}}, selects: true, recordsA: true},
		{name: "advanced_management_read_only", adv: &AdvancedEventSelector{FieldSelectors: []FieldSelector{mgmt, {Field: "readOnly", Equals: []string{"true"}}}}, selects: true},
		{name: "advanced_data", adv: &AdvancedEventSelector{FieldSelectors: []FieldSelector{{Field: "eventCategory", Equals: []string{"Data"}}, {Field: "resources.type", Equals: []string{"AWS::S3::Object"}}}}},
		{name: "advanced_without_event_category", adv: &AdvancedEventSelector{FieldSelectors: []FieldSelector{{Field: "readOnly", Equals: []string{"true"}}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.basic != nil {
				if got := tc.basic.RecordsAllManagementEvents(Options{}); got != tc.recordsA {
					t.Errorf("RecordsAllManagementEvents = %t, want %t", got, tc.recordsA)
				}
				return
			}
			if got := tc.adv.SelectsManagementEvents(); got != tc.selects {
				t.Errorf("SelectsManagementEvents = %t, want %t", got, tc.selects)
			}
			if got := tc.adv.RecordsAllManagementEvents(Options{}); got != tc.recordsA {
				t.Errorf("RecordsAllManagementEvents = %t, want %t", got, tc.recordsA)
			}
		})
	}
}

// Property: for any accounts, Passes is Evaluate's PASS and
// SatisfiesControl is each trail verdict's Satisfies, with and without
// --strict.
func TestQuestions_property_agree_with_Evaluate(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	ids := []string{"111111111111", "222222222222"}
	selectors := []*EventSelectors{
		nil,
		DefaultSelectors(),
		{Basic: []EventSelector{{ReadWriteType: "ReadOnly", IncludeManagementEvents: true}}},
		{Basic: []EventSelector{{ReadWriteType: "All", IncludeManagementEvents: true, ExcludeManagementEventSources: []string{"kms.amazonaws.com"}}}},
		{Basic: []EventSelector{{ReadWriteType: "All", IncludeManagementEvents: true, ExcludeManagementEventSources: []string{"s3.amazonaws.com"}}}},
		{Advanced: []AdvancedEventSelector{mgmtAdvanced}},
		{Advanced: []AdvancedEventSelector{{FieldSelectors: []FieldSelector{{Field: "eventCategory", Equals: []string{"Management"}}, {Field: "readOnly", Equals: []string{"false"}}}}}},
		{},
	}
	for iter := 0; iter < 3000; iter++ {
		a := Account{ID: ids[rng.Intn(2)]}
		if rng.Intn(8) == 0 {
			a.Error = "AccessDenied"
		}
		for k := rng.Intn(4); k > 0; k-- {
			owner := ids[rng.Intn(2)]
			name := []string{"a", "b"}[rng.Intn(2)]
			tr := trail(name, func(tr *Trail) { tr.ARN = arnOf(owner, "us-east-1", name) })
			tr.IsOrganizationTrail = rng.Intn(3) == 0
			tr.IsMultiRegion = rng.Intn(4) > 0
			tr.IncludeGlobalServiceEvents = rng.Intn(6) > 0
			switch rng.Intn(4) {
			case 0:
				tr.Status, tr.StatusError = nil, "denied"
			case 1:
				tr.Status = &TrailStatus{IsLogging: false}
			}
			tr.Selectors = selectors[rng.Intn(len(selectors))]
			if rng.Intn(10) == 0 {
				tr.Conflict = "sources disagree"
			}
			a.Trails = append(a.Trails, tr)
		}
		for _, opts := range []Options{{}, {Strict: true}} {
			res := Evaluate(a, opts)
			if got, want := Passes(a, opts), res.Status == StatusPass; got != want {
				t.Fatalf("iteration %d strict=%t: Passes = %t, Evaluate says %s\naccount: %+v", iter, opts.Strict, got, res.Status, a)
			}
			for _, v := range res.Trails {
				if got := SatisfiesControl(a.ID, v.Trail, opts); got != v.Satisfies {
					t.Fatalf("iteration %d strict=%t: SatisfiesControl(%s) = %t, verdict says %t (%s)", iter, opts.Strict, v.ARN, got, v.Satisfies, strings.Join(v.Problems, "; "))
				}
			}
		}
	}
}

// EvaluateAll shares facts on a copy: the accounts it is given are what
// their sources read, before and after (so they can still be saved as
// evidence, or evaluated again with the same result).
func TestEvaluateAll_does_not_change_its_input(t *testing.T) {
	const mgmt = "999999999999"
	tests := []struct {
		name     string
		accounts []Account
		want     []Status
	}{
		{
			name: "organization_trail_facts_lent_to_member",
			accounts: []Account{
				{ID: mgmt, Trails: []Trail{trail("org", orgTrail(mgmt))}},
				{ID: acctID, Trails: []Trail{trail("org", orgTrail(mgmt), statusUnreadable, selectorsUnreadable)}},
			},
			want: []Status{StatusPass, StatusPass},
		},
		{
			name: "members_disagree_without_the_owner",
			accounts: []Account{
				{ID: "222222222222", Trails: []Trail{trail("org", orgTrail(mgmt))}},
				{ID: acctID, Trails: []Trail{trail("org", orgTrail(mgmt), notLogging)}},
			},
			want: []Status{StatusUnknown, StatusUnknown},
		},
		{
			name: "owner_listing_lost",
			accounts: []Account{
				{ID: mgmt, Error: "describe-trails.json not found", ListingLost: true},
				{ID: acctID, Trails: []Trail{trail("org", orgTrail(mgmt))}},
			},
			want: []Status{StatusError, StatusUnknown},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := deepCopy(tc.accounts)
			results := EvaluateAll(tc.accounts, Options{})
			if !reflect.DeepEqual(before, tc.accounts) {
				t.Errorf("EvaluateAll changed its input:\nbefore %+v\nafter  %+v", before, tc.accounts)
			}
			for i, r := range results {
				if r.Status != tc.want[i] {
					t.Errorf("%s: %s, want %s (%q)", r.Account, r.Status, tc.want[i], r.Reasons)
				}
			}
			again := EvaluateAll(tc.accounts, Options{})
			if !reflect.DeepEqual(results, again) {
				t.Errorf("a second evaluation of the same accounts differs:\n%+v\n%+v", results, again)
			}
		})
	}
}

func deepCopy(in []Account) []Account {
	out := make([]Account, len(in))
	for i, a := range in {
		a.Trails = append([]Trail(nil), a.Trails...)
		for j := range a.Trails {
			tr := &a.Trails[j]
			if tr.Status != nil {
				s := *tr.Status
				tr.Status = &s
			}
			if tr.Selectors != nil {
				s := *tr.Selectors
				tr.Selectors = &s
			}
		}
		out[i] = a
	}
	return out
}
