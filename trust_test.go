package trailguard

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"
)

// Facts belong to exactly one trail: they are shared only under a real
// ARN, only by trails that count for the account listing them, and two
// sources that disagree make every copy Conflict.
func TestShareTrailFacts(t *testing.T) {
	const mgmt = "999999999999"
	noARN := func(tr *Trail) { tr.ARN = "" }
	tests := []struct {
		name     string
		accounts []Account
		// check looks at accounts[1].Trails[0] after sharing, the receiver.
		wantStatus    bool // the receiver got a status
		wantSelectors bool
		conflictHas   []string // "" slice: no conflict expected
		// bothConflict: accounts[0] is Conflict too (no owner's read is
		// the authority); else it keeps its own facts.
		bothConflict bool
	}{
		{
			name: "organization_trail_facts_read_in_management_answer_for_member",
			accounts: []Account{
				{ID: mgmt, Trails: []Trail{trail("org", orgTrail(mgmt))}},
				{ID: acctID, Trails: []Trail{trail("org", orgTrail(mgmt), statusUnreadable, selectorsUnreadable)}},
			},
			wantStatus: true, wantSelectors: true,
		},
		{
			name: "trail_without_arn_receives_nothing_from_another_without_arn",
			accounts: []Account{
				{ID: acctID, Trails: []Trail{trail("local", noARN, singleRegion("us-east-1"))}},
				{ID: "222222222222", Trails: []Trail{trail("multi", noARN, statusUnreadable, selectorsUnreadable)}},
			},
		},
		{
			name: "trail_without_arn_receives_nothing_even_as_organization_trail",
			accounts: []Account{
				{ID: mgmt, Trails: []Trail{trail("org", orgTrail(mgmt), noARN)}},
				{ID: acctID, Trails: []Trail{trail("org", orgTrail(mgmt), noARN, statusUnreadable, selectorsUnreadable)}},
			},
		},
		{
			name: "malformed_arn_is_no_key",
			accounts: []Account{
				{ID: mgmt, Trails: []Trail{trail("org", orgTrail(mgmt), func(tr *Trail) { tr.ARN = "org" })}},
				{ID: acctID, Trails: []Trail{trail("org", orgTrail(mgmt), func(tr *Trail) { tr.ARN = "org" }, statusUnreadable, selectorsUnreadable)}},
			},
		},
		{
			name: "ordinary_trail_of_another_account_lends_nothing",
			accounts: []Account{
				// 222... lists 111...'s ordinary trail with facts it cannot
				// have read; 111... itself could not read them.
				{ID: "222222222222", Trails: []Trail{trail("main")}},
				{ID: acctID, Trails: []Trail{trail("main", statusUnreadable, selectorsUnreadable)}},
			},
		},
		{
			name: "management_and_member_disagree_on_logging",
			accounts: []Account{
				{ID: mgmt, Trails: []Trail{trail("org", orgTrail(mgmt), notLogging, func(tr *Trail) { tr.StatusSource = "mgmt/get-trail-status.json" })}},
				{ID: acctID, Trails: []Trail{trail("org", orgTrail(mgmt), func(tr *Trail) { tr.StatusSource = "member/get-trail-status.json" })}},
			},
			wantStatus: true, wantSelectors: true,
			conflictHas: []string{"mgmt/get-trail-status.json (account " + mgmt + ") says it is not logging", "member/get-trail-status.json (account " + acctID + ") says it is logging"},
		},
		{
			name: "management_and_member_disagree_on_selectors",
			accounts: []Account{
				{ID: mgmt, Trails: []Trail{trail("org", orgTrail(mgmt), basic(EventSelector{ReadWriteType: "WriteOnly", IncludeManagementEvents: true}))}},
				{ID: acctID, Trails: []Trail{trail("org", orgTrail(mgmt))}},
			},
			wantStatus: true, wantSelectors: true,
			conflictHas: []string{"account " + mgmt, "account " + acctID, "write-only", "all (read and write)"},
		},
		{
			name: "listings_disagree_on_multi_region",
			accounts: []Account{
				{ID: mgmt, Trails: []Trail{trail("org", orgTrail(mgmt), func(tr *Trail) { tr.IsMultiRegion = false })}},
				{ID: acctID, Trails: []Trail{trail("org", orgTrail(mgmt))}},
			},
			wantStatus: true, wantSelectors: true,
			conflictHas: []string{"IsMultiRegionTrail is false as account " + mgmt + " lists it but true as account " + acctID + " lists it"},
		},
		{
			name: "two_members_disagree_without_the_owner_in_the_scan",
			accounts: []Account{
				{ID: "222222222222", Trails: []Trail{trail("org", orgTrail(mgmt), notLogging)}},
				{ID: acctID, Trails: []Trail{trail("org", orgTrail(mgmt))}},
			},
			wantStatus: true, wantSelectors: true, bothConflict: true,
			conflictHas: []string{"account 222222222222 says it is not logging", "account " + acctID + " says it is logging"},
		},
		{
			name: "member_whose_status_file_is_lost_receives_nothing",
			accounts: []Account{
				{ID: mgmt, Trails: []Trail{trail("org", orgTrail(mgmt))}},
				{ID: acctID, Trails: []Trail{trail("org", orgTrail(mgmt), statusUnreadable, func(tr *Trail) { tr.StatusLost = true })}},
			},
			wantSelectors: true,
		},
		{
			name: "owner_status_lost_members_own_read_not_trusted",
			accounts: []Account{
				{ID: mgmt, Trails: []Trail{trail("org", orgTrail(mgmt), statusUnreadable, func(tr *Trail) { tr.StatusLost = true })}},
				{ID: acctID, Trails: []Trail{trail("org", orgTrail(mgmt))}},
			},
			wantSelectors: true,
		},
		{
			name: "owner_listing_lost_members_own_reads_not_trusted",
			accounts: []Account{
				{ID: mgmt, Error: "describe-trails.json not found", ListingLost: true},
				{ID: acctID, Trails: []Trail{trail("org", orgTrail(mgmt))}},
			},
		},
		{
			name: "another_members_listing_lost_withdraws_peer_reads_of_the_organization_trail",
			accounts: []Account{
				{ID: "333333333333", Error: "describe-trails.json not found", ListingLost: true},
				{ID: acctID, Trails: []Trail{trail("org", orgTrail(mgmt))}},
			},
		},
		{
			name: "owner_listing_refused_members_own_reads_count",
			accounts: []Account{
				{ID: mgmt, Error: "AccessDenied"},
				{ID: acctID, Trails: []Trail{trail("org", orgTrail(mgmt))}},
			},
			wantStatus: true, wantSelectors: true,
		},
		{
			name: "same_facts_twice_is_no_conflict",
			accounts: []Account{
				{ID: mgmt, Trails: []Trail{trail("org", orgTrail(mgmt), basic(EventSelector{ReadWriteType: "All", IncludeManagementEvents: true, DataResources: []DataResource{{Type: "AWS::S3::Object"}}}))}},
				{ID: acctID, Trails: []Trail{trail("org", orgTrail(mgmt))}},
			},
			wantStatus: true, wantSelectors: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ShareTrailFacts(tc.accounts)
			got := tc.accounts[1].Trails[0]
			if len(tc.accounts[0].Trails) == 0 {
				tc.accounts[0].Trails = []Trail{{}}
			}
			if (got.Status != nil) != tc.wantStatus || (got.Selectors != nil) != tc.wantSelectors {
				t.Errorf("receiver status %v selectors %v, want %v %v", got.Status != nil, got.Selectors != nil, tc.wantStatus, tc.wantSelectors)
			}
			if len(tc.conflictHas) == 0 {
				for _, a := range tc.accounts {
					if a.Trails[0].Conflict != "" {
						t.Errorf("%s: unexpected conflict %q", a.ID, a.Trails[0].Conflict)
					}
				}
				return
			}
			for i, a := range tc.accounts {
				if i == 0 && !tc.bothConflict {
					if a.Trails[0].Conflict != "" {
						t.Errorf("%s owns the trail and read it: its read is the authority, yet conflict %q", a.ID, a.Trails[0].Conflict)
					}
					continue
				}
				for _, s := range tc.conflictHas {
					if !strings.Contains(a.Trails[0].Conflict, s) {
						t.Errorf("%s: conflict %q lacks %q", a.ID, a.Trails[0].Conflict, s)
					}
				}
			}
		})
	}
}

// The situations of issue 10 seen through EvaluateAll: none of them may
// pass.
func TestEvaluateAll_facts_belong_to_one_trail(t *testing.T) {
	const mgmt = "999999999999"
	noARN := func(tr *Trail) { tr.ARN = "" }
	tests := []struct {
		name      string
		accounts  []Account
		want      Status // of the last account
		reasonHas []string
	}{
		{
			name: "multi_region_trail_without_arn_borrows_nothing_from_single_region_trail",
			accounts: []Account{{ID: acctID, Trails: []Trail{
				trail("local", noARN, singleRegion("us-east-1")),
				trail("multi", noARN, statusUnreadable, selectorsUnreadable),
			}}},
			want: StatusUnknown, reasonHas: []string{"multi-region trail multi: logging status could not be read"},
		},
		{
			name:     "ordinary_trail_of_another_account_does_not_count",
			accounts: []Account{{ID: "222222222222", Trails: []Trail{trail("main")}}},
			want:     StatusFail, reasonHas: []string{"trail of account " + acctID + " and not an organization trail"},
		},
		{
			name:     "organization_trail_of_another_account_counts",
			accounts: []Account{{ID: "222222222222", Trails: []Trail{trail("org", orgTrail(mgmt))}}},
			want:     StatusPass,
		},
		{
			name: "member_says_logging_management_says_not",
			accounts: []Account{
				{ID: mgmt, Trails: []Trail{trail("org", orgTrail(mgmt), notLogging)}},
				{ID: acctID, Trails: []Trail{trail("org", orgTrail(mgmt))}},
			},
			want: StatusUnknown, reasonHas: []string{"sources disagree about trail " + arnOf(mgmt, "us-east-1", "org"), "account " + mgmt, "account " + acctID},
		},
		{
			name: "member_says_not_logging_management_says_logging",
			accounts: []Account{
				{ID: mgmt, Trails: []Trail{trail("org", orgTrail(mgmt))}},
				{ID: acctID, Trails: []Trail{trail("org", orgTrail(mgmt), notLogging)}},
			},
			want: StatusUnknown, reasonHas: []string{"sources disagree about trail " + arnOf(mgmt, "us-east-1", "org")},
		},
		{
			name:     "one_account_lists_one_arn_twice_with_different_status",
			accounts: []Account{{ID: acctID, Trails: []Trail{trail("main"), trail("main", notLogging)}}},
			want:     StatusUnknown, reasonHas: []string{"sources disagree about trail " + arnOf(acctID, "us-east-1", "main")},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for i := range tc.accounts {
				tc.accounts[i].Regions = []Region{}
			}
			results := EvaluateAll(tc.accounts, Options{})
			got := results[len(results)-1]
			if got.Status != tc.want {
				t.Fatalf("status %s, want %s; reasons %q", got.Status, tc.want, got.Reasons)
			}
			all := strings.Join(got.Reasons, "\n")
			for _, s := range tc.reasonHas {
				if !strings.Contains(all, s) {
					t.Errorf("reasons %q lack %q", got.Reasons, s)
				}
			}
		})
	}
}

// A configuration AWS rejects cannot be what runs in an account: FAIL with
// the rule broken. Configurations AWS accepts keep their verdict.
func TestEvaluate_configuration_aws_rejects(t *testing.T) {
	mgmt := func(fs ...FieldSelector) AdvancedEventSelector {
		return AdvancedEventSelector{FieldSelectors: append([]FieldSelector{{Field: "eventCategory", Equals: []string{"Management"}}}, fs...)}
	}
	tests := []struct {
		name   string
		trail  Trail
		reject string // "" when AWS accepts it
		want   Status
	}{
		{name: "multi_region_without_global_service_events", trail: trail("t", func(t *Trail) { t.IncludeGlobalServiceEvents = false }), reject: "must include global service events"},
		{name: "advanced_event_source_equals", trail: trail("t", advanced(mgmt(FieldSelector{Field: "eventSource", Equals: []string{"s3.amazonaws.com"}}))), reject: "eventSource takes only NotEquals"},
		{name: "advanced_event_source_not_starts_with", trail: trail("t", advanced(mgmt(FieldSelector{Field: "eventSource", NotStartsWith: []string{"kms"}}))), reject: "eventSource takes only NotEquals"},
		{name: "advanced_event_source_not_equals_other_service", trail: trail("t", advanced(mgmt(FieldSelector{Field: "eventSource", NotEquals: []string{"iam.amazonaws.com"}}))), reject: `NotEquals "iam.amazonaws.com"`},
		{name: "advanced_event_category_two_values", trail: trail("t", advanced(AdvancedEventSelector{FieldSelectors: []FieldSelector{{Field: "eventCategory", Equals: []string{"Management", "Data"}}}})), reject: "eventCategory must use Equals with exactly one value"},
		{name: "advanced_event_category_with_second_operator", trail: trail("t", advanced(AdvancedEventSelector{FieldSelectors: []FieldSelector{{Field: "eventCategory", Equals: []string{"Management"}, NotEquals: []string{"Data"}}}})), reject: "eventCategory must use Equals"},
		{name: "advanced_field_twice", trail: trail("t", advanced(mgmt(FieldSelector{Field: "eventCategory", Equals: []string{"Management"}}))), reject: `field "eventCategory" appears more than once`},
		{name: "advanced_read_only_not_boolean", trail: trail("t", advanced(mgmt(FieldSelector{Field: "readOnly", Equals: []string{"maybe"}}))), reject: `readOnly Equals "maybe" is not true or false`},
		{name: "advanced_read_only_not_equals", trail: trail("t", advanced(mgmt(FieldSelector{Field: "readOnly", NotEquals: []string{"true"}}))), reject: "readOnly takes only Equals"},
		{name: "advanced_unknown_field_for_management", trail: trail("t", advanced(mgmt(FieldSelector{Field: "eventName", NotEquals: []string{"Decrypt"}}))), reject: `field "eventName" is not supported for management events`},
		{name: "basic_excludes_other_service", trail: trail("t", basic(EventSelector{ReadWriteType: "All", IncludeManagementEvents: true, ExcludeManagementEventSources: []string{"s3.amazonaws.com"}})), reject: `ExcludeManagementEventSources "s3.amazonaws.com"`},
		{name: "basic_read_write_type_unknown", trail: trail("t", basic(EventSelector{ReadWriteType: "Everything", IncludeManagementEvents: true})), reject: `ReadWriteType "Everything"`},
		{name: "basic_and_advanced_together", trail: trail("t", func(t *Trail) {
			t.Selectors = &EventSelectors{Basic: []EventSelector{{ReadWriteType: "All", IncludeManagementEvents: true}}, Advanced: []AdvancedEventSelector{mgmt()}}
		}), reject: "basic and advanced event selectors"},
		{name: "advanced_event_category_not_equals", trail: trail("t", advanced(AdvancedEventSelector{FieldSelectors: []FieldSelector{{Field: "eventCategory", NotEquals: []string{"Data"}}}})), reject: "eventCategory must use Equals"},
		{name: "advanced_event_category_starts_with", trail: trail("t", advanced(AdvancedEventSelector{FieldSelectors: []FieldSelector{{Field: "eventCategory", StartsWith: []string{"Manage"}}}})), reject: "eventCategory must use Equals"},
		{name: "advanced_selector_without_event_category", trail: trail("t", advanced(mgmt(), AdvancedEventSelector{FieldSelectors: []FieldSelector{{Field: "readOnly", Equals: []string{"false"}}}})), reject: "has no eventCategory field"},
		{name: "rejected_even_when_status_unreadable", trail: trail("t", statusUnreadable, func(t *Trail) { t.IncludeGlobalServiceEvents = false }), reject: "must include global service events"},

		{name: "advanced_excludes_kms_and_rds_data", trail: trail("t", advanced(mgmt(FieldSelector{Field: "eventSource", NotEquals: []string{"kms.amazonaws.com", "rdsdata.amazonaws.com"}}))), want: StatusPass},
		{name: "basic_excludes_kms", trail: trail("t", basic(EventSelector{ReadWriteType: "All", IncludeManagementEvents: true, ExcludeManagementEventSources: []string{"kms.amazonaws.com"}})), want: StatusPass},
		{name: "advanced_read_only_true_is_accepted_but_fails_the_control", trail: trail("t", advanced(mgmt(FieldSelector{Field: "readOnly", Equals: []string{"true"}}))), want: StatusFail},
		{name: "data_selector_fields_are_not_management_rules", trail: trail("t", advanced(mgmt(), AdvancedEventSelector{FieldSelectors: []FieldSelector{
			{Field: "eventCategory", Equals: []string{"Data"}}, {Field: "resources.type", Equals: []string{"AWS::S3::Object"}}, {Field: "eventName", StartsWith: []string{"Put"}}}})), want: StatusPass},
		{name: "single_region_trail_without_global_events_is_accepted", trail: trail("t", singleRegion("eu-west-1"), func(t *Trail) { t.IncludeGlobalServiceEvents = false }), want: StatusFail},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Evaluate(Account{ID: acctID, Regions: []Region{}, Trails: []Trail{tc.trail}}, Options{})
			if tc.reject == "" {
				if got.Status != tc.want || len(got.Trails[0].Rejected) > 0 {
					t.Fatalf("status %s rejected %q, want %s and accepted; reasons %q", got.Status, got.Trails[0].Rejected, tc.want, got.Reasons)
				}
				return
			}
			if got.Status != StatusFail {
				t.Fatalf("status %s, want FAIL; reasons %q", got.Status, got.Reasons)
			}
			if len(got.Reasons) == 0 || !strings.HasPrefix(got.Reasons[0], RejectedPrefix) || !strings.Contains(got.Reasons[0], tc.reject) {
				t.Errorf("first reason %q, want %q... naming %q", got.Reasons, RejectedPrefix, tc.reject)
			}
		})
	}
	// The same rule holds for code: a trail declared multi-region without
	// global service events fails even with everything else unknown.
	res := EvaluateIaC(IaCTrail{Resource: "aws_cloudtrail.t", Trail: Trail{Name: "t", IsMultiRegion: true, Selectors: DefaultSelectors()}, UnknownLogging: "enable_logging = var.x"}, Options{})
	if res.Status != StatusFail || !strings.HasPrefix(res.Reasons[0], RejectedPrefix) {
		t.Errorf("IaC: %s %q, want FAIL with %q", res.Status, res.Reasons, RejectedPrefix)
	}
}

// Property: whatever the accounts, folding and sharing never give facts to
// a trail without a real ARN, never take facts from one, and never give
// facts to a trail that did not have them unless a trail with the same ARN
// that counts for its own account had them.
func TestShareTrailFacts_property_arnless_trails_stay_alone(t *testing.T) {
	rng := rand.New(rand.NewSource(10))
	accountIDs := []string{"111111111111", "222222222222", "333333333333"}
	for iter := 0; iter < 2000; iter++ {
		var accounts []Account
		for _, id := range accountIDs[:1+rng.Intn(3)] {
			a := Account{ID: id}
			for k := rng.Intn(4); k > 0; k-- {
				owner := accountIDs[rng.Intn(len(accountIDs))]
				name := []string{"a", "b", "org"}[rng.Intn(3)]
				tr := trail(name, func(tr *Trail) { tr.ARN = arnOf(owner, "us-east-1", name) })
				switch rng.Intn(4) {
				case 0:
					tr.ARN = ""
				case 1:
					tr.ARN = name // not an ARN
				}
				tr.IsOrganizationTrail = rng.Intn(2) == 0
				tr.IsMultiRegion = rng.Intn(3) > 0
				if rng.Intn(2) == 0 {
					tr.Status, tr.StatusError = nil, "denied"
				} else if rng.Intn(2) == 0 {
					tr.Status = &TrailStatus{IsLogging: false}
				}
				if rng.Intn(2) == 0 {
					tr.Selectors, tr.SelectorsError = nil, "denied"
				}
				a.Trails = append(a.Trails, tr)
			}
			accounts = append(accounts, a)
		}
		before := fmt.Sprint(describe(accounts))
		type key struct{ a, t int }
		had := map[key][2]bool{}
		for i, a := range accounts {
			for j, tr := range a.Trails {
				had[key{i, j}] = [2]bool{tr.Status != nil, tr.Selectors != nil}
			}
		}
		lenders := map[string]bool{}
		for _, a := range accounts {
			for _, tr := range a.Trails {
				if ValidTrailARN(tr.ARN) && (tr.IsOrganizationTrail || tr.OwnerAccount() == a.ID) && (tr.Status != nil || tr.Selectors != nil) {
					lenders[tr.ARN] = true
				}
			}
		}
		ShareTrailFacts(accounts)
		for i, a := range accounts {
			for j, tr := range a.Trails {
				h := had[key{i, j}]
				gained := (!h[0] && tr.Status != nil) || (!h[1] && tr.Selectors != nil)
				if gained && (!ValidTrailARN(tr.ARN) || !lenders[tr.ARN]) {
					t.Fatalf("iteration %d: %s trail %q (%s) gained facts it could not get\nbefore: %s", iter, a.ID, tr.Name, tr.ARN, before)
				}
			}
			// Within one account, the evaluator's own folding obeys the same
			// rule: no ARN-less trail is passed, or passes, on facts.
			res := Evaluate(a, Options{})
			for _, v := range res.Trails {
				if !ValidTrailARN(v.ARN) && v.Satisfies {
					orig := false
					for j, tr := range a.Trails {
						if tr.ARN == v.ARN && tr.Name == v.Name && had[key{i, j}] == [2]bool{true, true} {
							orig = true
						}
					}
					if !orig {
						t.Fatalf("iteration %d: ARN-less trail %q satisfies on facts it did not have", iter, v.Name)
					}
				}
			}
		}
	}
}

func describe(accounts []Account) []string {
	var out []string
	for _, a := range accounts {
		for _, t := range a.Trails {
			out = append(out, fmt.Sprintf("%s:%s/%s org=%t status=%t sel=%t", a.ID, t.Name, t.ARN, t.IsOrganizationTrail, t.Status != nil, t.Selectors != nil))
		}
	}
	return out
}
