package trailguard

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

const acctID = "111111111111"

func arnOf(account, region, name string) string {
	return "arn:aws:cloudtrail:" + region + ":" + account + ":trail/" + name
}

// trail builds a multi-region, logging trail recording all management
// events (the AWS default selector); options then break it.
func trail(name string, opts ...func(*Trail)) Trail {
	t := Trail{
		Name: name, ARN: arnOf(acctID, "us-east-1", name), HomeRegion: "us-east-1",
		IsMultiRegion: true, IncludeGlobalServiceEvents: true, LogFileValidationEnabled: true,
		S3BucketName: "logs-" + name,
		Status:       &TrailStatus{IsLogging: true},
		Selectors:    &EventSelectors{Basic: []EventSelector{{ReadWriteType: "All", IncludeManagementEvents: true}}},
	}
	for _, o := range opts {
		o(&t)
	}
	return t
}

func singleRegion(region string) func(*Trail) {
	return func(t *Trail) {
		t.IsMultiRegion = false
		t.HomeRegion = region
		t.ARN = arnOf(ARNAccount(t.ARN), region, t.Name)
	}
}
func notLogging(t *Trail) { t.Status.IsLogging = false }
func basic(sels ...EventSelector) func(*Trail) {
	return func(t *Trail) { t.Selectors = &EventSelectors{Basic: sels} }
}
func advanced(sels ...AdvancedEventSelector) func(*Trail) {
	return func(t *Trail) { t.Selectors = &EventSelectors{Advanced: sels} }
}
func statusUnreadable(t *Trail) {
	t.Status, t.StatusError = nil, "AccessDeniedException: not authorized"
}
func selectorsUnreadable(t *Trail) {
	t.Selectors, t.SelectorsError = nil, "AccessDeniedException: not authorized"
}
func orgTrail(management string) func(*Trail) {
	return func(t *Trail) {
		t.IsOrganizationTrail = true
		t.ARN = arnOf(management, t.HomeRegion, t.Name)
	}
}

var mgmtAdvanced = AdvancedEventSelector{Name: "management", FieldSelectors: []FieldSelector{{Field: "eventCategory", Equals: []string{"Management"}}}}

func regions(names ...string) []Region {
	var out []Region
	for _, n := range names {
		status := "opt-in-not-required"
		if strings.HasPrefix(n, "!") {
			n, status = n[1:], "not-opted-in"
		} else if strings.HasPrefix(n, "+") {
			n, status = n[1:], "opted-in"
		}
		out = append(out, Region{Name: n, OptInStatus: status})
	}
	return out
}

func TestEvaluate(t *testing.T) {
	stdRegions := regions("us-east-1", "eu-west-1")
	tests := []struct {
		name         string
		acct         Account
		opts         Options
		want         Status
		covering     string   // expected covering trail name, "" for none
		reasonHas    []string // substrings that must appear in the reasons
		warningHas   []string
		noWarnings   bool
		trailCount   int // -1 to skip
		uncoveredLen int // -1 to skip
	}{
		{
			name: "no_trail", acct: Account{ID: acctID, Regions: stdRegions},
			want: StatusFail, reasonHas: []string{"DescribeTrails lists no trail"}, trailCount: 0, uncoveredLen: 2,
		},
		{
			name: "only_single_region_trails",
			acct: Account{ID: acctID, Regions: stdRegions, Trails: []Trail{trail("a", singleRegion("us-east-1")), trail("b", singleRegion("eu-west-1"))}},
			want: StatusFail, reasonHas: []string{"no multi-region trail", "a (us-east-1)", "b (eu-west-1)"}, trailCount: 2, uncoveredLen: 0,
		},
		{
			name: "multi_region_not_logging",
			acct: Account{ID: acctID, Regions: stdRegions, Trails: []Trail{trail("main", notLogging)}},
			want: StatusFail, reasonHas: []string{"not logging"}, uncoveredLen: 2, trailCount: -1,
		},
		{
			name: "multi_region_logging_basic_all",
			acct: Account{ID: acctID, Regions: stdRegions, Trails: []Trail{trail("main")}},
			want: StatusPass, covering: "main", noWarnings: true, uncoveredLen: 0, trailCount: 1,
		},
		{
			name: "aws_default_selector_after_get_event_selectors",
			acct: Account{ID: acctID, Trails: []Trail{trail("main", basic(EventSelector{ReadWriteType: "All", IncludeManagementEvents: true, DataResources: []DataResource{}}))}},
			want: StatusPass, covering: "main", trailCount: -1, uncoveredLen: -1,
		},
		{
			name: "basic_read_only",
			acct: Account{ID: acctID, Trails: []Trail{trail("main", basic(EventSelector{ReadWriteType: "ReadOnly", IncludeManagementEvents: true}))}},
			want: StatusFail, reasonHas: []string{"read-only management events only"}, trailCount: -1, uncoveredLen: -1,
		},
		{
			name: "basic_write_only",
			acct: Account{ID: acctID, Trails: []Trail{trail("main", basic(EventSelector{ReadWriteType: "WriteOnly", IncludeManagementEvents: true}))}},
			want: StatusFail, reasonHas: []string{"write-only management events only"}, trailCount: -1, uncoveredLen: -1,
		},
		{
			name: "read_and_write_split_across_selectors",
			acct: Account{ID: acctID, Trails: []Trail{trail("main", basic(
				EventSelector{ReadWriteType: "ReadOnly", IncludeManagementEvents: true},
				EventSelector{ReadWriteType: "WriteOnly", IncludeManagementEvents: true}))}},
			want: StatusFail, reasonHas: []string{"separate selectors"}, trailCount: -1, uncoveredLen: -1,
		},
		{
			name: "management_events_off_data_events_only",
			acct: Account{ID: acctID, Trails: []Trail{trail("main", basic(EventSelector{ReadWriteType: "All", IncludeManagementEvents: false,
				DataResources: []DataResource{{Type: "AWS::S3::Object", Values: []string{"arn:aws:s3"}}}}))}},
			want: StatusFail, reasonHas: []string{"IncludeManagementEvents is false"}, trailCount: -1, uncoveredLen: -1,
		},
		{
			name: "data_selector_next_to_management_selector",
			acct: Account{ID: acctID, Trails: []Trail{trail("main", basic(
				EventSelector{ReadWriteType: "All", IncludeManagementEvents: false, DataResources: []DataResource{{Type: "AWS::S3::Object", Values: []string{"arn:aws:s3"}}}},
				EventSelector{ReadWriteType: "All", IncludeManagementEvents: true}))}},
			want: StatusPass, covering: "main", trailCount: -1, uncoveredLen: -1,
		},
		{
			name: "empty_selector_lists_record_nothing",
			acct: Account{ID: acctID, Trails: []Trail{trail("main", basic())}},
			want: StatusFail, reasonHas: []string{"no event selectors"}, trailCount: -1, uncoveredLen: -1,
		},
		{
			name: "advanced_management_without_readOnly",
			acct: Account{ID: acctID, Trails: []Trail{trail("main", advanced(mgmtAdvanced))}},
			want: StatusPass, covering: "main", noWarnings: true, trailCount: -1, uncoveredLen: -1,
		},
		{
			name: "advanced_readOnly_true",
			acct: Account{ID: acctID, Trails: []Trail{trail("main", advanced(AdvancedEventSelector{FieldSelectors: []FieldSelector{
				{Field: "eventCategory", Equals: []string{"Management"}}, {Field: "readOnly", Equals: []string{"true"}}}}))}},
			want: StatusFail, reasonHas: []string{"read-only management events only"}, trailCount: -1, uncoveredLen: -1,
		},
		{
			name: "advanced_readOnly_false",
			acct: Account{ID: acctID, Trails: []Trail{trail("main", advanced(AdvancedEventSelector{FieldSelectors: []FieldSelector{
				{Field: "eventCategory", Equals: []string{"Management"}}, {Field: "readOnly", Equals: []string{"false"}}}}))}},
			want: StatusFail, reasonHas: []string{"write-only management events only"}, trailCount: -1, uncoveredLen: -1,
		},
		{
			name: "advanced_reads_and_writes_in_two_selectors",
			acct: Account{ID: acctID, Trails: []Trail{trail("main", advanced(
				AdvancedEventSelector{FieldSelectors: []FieldSelector{{Field: "eventCategory", Equals: []string{"Management"}}, {Field: "readOnly", Equals: []string{"true"}}}},
				AdvancedEventSelector{FieldSelectors: []FieldSelector{{Field: "eventCategory", Equals: []string{"Management"}}, {Field: "readOnly", Equals: []string{"false"}}}}))}},
			want: StatusFail, reasonHas: []string{"separate selectors"}, trailCount: -1, uncoveredLen: -1,
		},
		{
			name: "advanced_data_events_only",
			acct: Account{ID: acctID, Trails: []Trail{trail("main", advanced(AdvancedEventSelector{FieldSelectors: []FieldSelector{
				{Field: "eventCategory", Equals: []string{"Data"}}, {Field: "resources.type", Equals: []string{"AWS::S3::Object"}}}}))}},
			want: StatusFail, reasonHas: []string{"no advanced event selector has eventCategory Equals Management"}, trailCount: -1, uncoveredLen: -1,
		},
		{
			name: "advanced_event_source_limited_to_one_service",
			acct: Account{ID: acctID, Trails: []Trail{trail("main", advanced(AdvancedEventSelector{FieldSelectors: []FieldSelector{
				{Field: "eventCategory", Equals: []string{"Management"}}, {Field: "eventSource", Equals: []string{"s3.amazonaws.com"}}}}))}},
			want: StatusFail, reasonHas: []string{"eventSource limited to s3.amazonaws.com"}, trailCount: -1, uncoveredLen: -1,
		},
		{
			name: "basic_exclusion_passes_with_warning",
			acct: Account{ID: acctID, Trails: []Trail{trail("main", basic(EventSelector{ReadWriteType: "All", IncludeManagementEvents: true,
				ExcludeManagementEventSources: []string{"kms.amazonaws.com"}}))}},
			want: StatusPass, covering: "main", warningHas: []string{"excludes management events from kms.amazonaws.com", "--strict"}, trailCount: -1, uncoveredLen: -1,
		},
		{
			name: "basic_exclusion_fails_when_strict",
			acct: Account{ID: acctID, Trails: []Trail{trail("main", basic(EventSelector{ReadWriteType: "All", IncludeManagementEvents: true,
				ExcludeManagementEventSources: []string{"rdsdata.amazonaws.com", "kms.amazonaws.com"}}))}},
			opts: Options{Strict: true},
			want: StatusFail, reasonHas: []string{"kms.amazonaws.com, rdsdata.amazonaws.com", "--strict"}, trailCount: -1, uncoveredLen: -1,
		},
		{
			name: "advanced_exclusion_passes_with_warning",
			acct: Account{ID: acctID, Trails: []Trail{trail("main", advanced(AdvancedEventSelector{FieldSelectors: []FieldSelector{
				{Field: "eventCategory", Equals: []string{"Management"}}, {Field: "eventSource", NotEquals: []string{"kms.amazonaws.com"}}}}))}},
			want: StatusPass, covering: "main", warningHas: []string{"excludes management events from kms.amazonaws.com"}, trailCount: -1, uncoveredLen: -1,
		},
		{
			name: "advanced_exclusion_fails_when_strict",
			acct: Account{ID: acctID, Trails: []Trail{trail("main", advanced(AdvancedEventSelector{FieldSelectors: []FieldSelector{
				{Field: "eventCategory", Equals: []string{"Management"}}, {Field: "eventSource", NotEquals: []string{"kms.amazonaws.com"}}}}))}},
			opts: Options{Strict: true},
			want: StatusFail, reasonHas: []string{"not counted with --strict"}, trailCount: -1, uncoveredLen: -1,
		},
		{
			name: "strict_prefers_trail_without_exclusions",
			acct: Account{ID: acctID, Trails: []Trail{
				trail("excl", basic(EventSelector{ReadWriteType: "All", IncludeManagementEvents: true, ExcludeManagementEventSources: []string{"kms.amazonaws.com"}})),
				trail("full")}},
			opts: Options{Strict: true},
			want: StatusPass, covering: "full", noWarnings: true, trailCount: -1, uncoveredLen: -1,
		},
		{
			name: "org_trail_seen_from_member_account",
			acct: Account{ID: acctID, Regions: stdRegions, Trails: []Trail{trail("org", orgTrail("999999999999"))}},
			want: StatusPass, covering: "org", trailCount: 1, uncoveredLen: 0,
		},
		{
			name: "org_trail_unreadable_from_member_account",
			acct: Account{ID: acctID, Trails: []Trail{trail("org", orgTrail("999999999999"), statusUnreadable, selectorsUnreadable)}},
			want: StatusUnknown, reasonHas: []string{"could not be read", "AccessDeniedException"}, trailCount: -1, uncoveredLen: -1,
		},
		{
			name: "shadow_trail_listed_in_many_regions_counted_once",
			acct: Account{ID: acctID, Trails: []Trail{trail("main"), trail("main", func(t *Trail) { t.Status, t.Selectors = nil, nil }), trail("main")}},
			want: StatusPass, covering: "main", trailCount: 1, uncoveredLen: -1,
		},
		{
			name: "compliant_trail_next_to_non_compliant_ones",
			acct: Account{ID: acctID, Regions: stdRegions, Trails: []Trail{
				trail("stopped", notLogging), trail("local", singleRegion("eu-west-1")), trail("good"),
				trail("reads", basic(EventSelector{ReadWriteType: "ReadOnly", IncludeManagementEvents: true}))}},
			want: StatusPass, covering: "good", trailCount: 4, uncoveredLen: 0,
		},
		{
			name: "compliant_trail_next_to_unreadable_one",
			acct: Account{ID: acctID, Trails: []Trail{trail("blind", statusUnreadable), trail("good")}},
			want: StatusPass, covering: "good", trailCount: -1, uncoveredLen: -1,
		},
		{
			name: "status_unreadable",
			acct: Account{ID: acctID, Trails: []Trail{trail("main", statusUnreadable)}},
			want: StatusUnknown, reasonHas: []string{"logging status could not be read: AccessDeniedException"}, trailCount: -1, uncoveredLen: -1,
		},
		{
			name: "selectors_unreadable",
			acct: Account{ID: acctID, Trails: []Trail{trail("main", selectorsUnreadable)}},
			want: StatusUnknown, reasonHas: []string{"event selectors could not be read"}, trailCount: -1, uncoveredLen: -1,
		},
		{
			name: "unreadable_candidate_next_to_failing_one_is_unknown",
			acct: Account{ID: acctID, Trails: []Trail{trail("stopped", notLogging), trail("blind", selectorsUnreadable)}},
			want: StatusUnknown, reasonHas: []string{"not logging", "event selectors could not be read"}, trailCount: -1, uncoveredLen: -1,
		},
		{
			name: "unreadable_but_already_failing_trail_still_unknown_candidate",
			acct: Account{ID: acctID, Trails: []Trail{trail("x", notLogging, selectorsUnreadable)}},
			want: StatusUnknown, trailCount: -1, uncoveredLen: -1,
		},
		{
			name: "unreadable_single_region_trail_changes_nothing",
			acct: Account{ID: acctID, Trails: []Trail{trail("local", singleRegion("us-east-1"), statusUnreadable, selectorsUnreadable)}},
			want: StatusFail, reasonHas: []string{"no multi-region trail"}, trailCount: -1, uncoveredLen: -1,
		},
		{
			name: "delivery_error_warning",
			acct: Account{ID: acctID, Trails: []Trail{trail("main", func(t *Trail) { t.Status.LatestDeliveryError = "AccessDenied" })}},
			want: StatusPass, covering: "main", warningHas: []string{"fails to deliver", "AccessDenied", "bucket policy"}, trailCount: -1, uncoveredLen: -1,
		},
		{
			name: "delivering_trail_preferred_over_failing_delivery",
			acct: Account{ID: acctID, Trails: []Trail{trail("a", func(t *Trail) { t.Status.LatestDeliveryError = "AccessDenied" }), trail("b")}},
			want: StatusPass, covering: "b", noWarnings: true, trailCount: -1, uncoveredLen: -1,
		},
		{
			name: "account_not_readable",
			acct: Account{ID: acctID, Error: "DescribeTrails: ExpiredTokenException"},
			want: StatusError, reasonHas: []string{"ExpiredTokenException"}, trailCount: -1, uncoveredLen: -1,
		},
		{
			name: "account_error_wins_over_passing_trail",
			acct: Account{ID: acctID, Error: "partial read", Trails: []Trail{trail("main")}},
			want: StatusError, trailCount: -1, uncoveredLen: -1,
		},
		{
			name: "regions_unreadable_warns",
			acct: Account{ID: acctID, RegionsError: "UnauthorizedOperation", Trails: []Trail{trail("main")}},
			want: StatusPass, covering: "main", warningHas: []string{"regions could not be listed: UnauthorizedOperation"}, trailCount: -1, uncoveredLen: -1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.acct.Regions == nil && tc.acct.RegionsError == "" {
				tc.acct.Regions = []Region{} // listed, none: no regions warning
			}
			got := Evaluate(tc.acct, tc.opts)
			if got.Status != tc.want {
				t.Fatalf("status = %s, want %s; reasons %q", got.Status, tc.want, got.Reasons)
			}
			if got.Status != StatusPass && len(got.Reasons) == 0 {
				t.Errorf("non-PASS result without reasons")
			}
			if got.Status == StatusPass && len(got.Reasons) != 0 {
				t.Errorf("PASS with reasons %q", got.Reasons)
			}
			wantARN := ""
			for _, tr := range tc.acct.Trails {
				if tr.Name == tc.covering && tc.covering != "" {
					wantARN = tr.ARN
				}
			}
			if got.CoveringTrail != wantARN {
				t.Errorf("covering = %q, want %q", got.CoveringTrail, wantARN)
			}
			all := strings.Join(got.Reasons, "\n")
			for _, s := range tc.reasonHas {
				if !strings.Contains(all, s) {
					t.Errorf("reasons %q lack %q", got.Reasons, s)
				}
			}
			warns := strings.Join(got.Warnings, "\n")
			for _, s := range tc.warningHas {
				if !strings.Contains(warns, s) {
					t.Errorf("warnings %q lack %q", got.Warnings, s)
				}
			}
			if tc.noWarnings && len(got.Warnings) > 0 {
				t.Errorf("unexpected warnings %q", got.Warnings)
			}
			if tc.trailCount >= 0 && len(got.Trails) != tc.trailCount {
				t.Errorf("trails = %d, want %d", len(got.Trails), tc.trailCount)
			}
			if tc.uncoveredLen >= 0 && len(got.UncoveredRegions()) != tc.uncoveredLen {
				t.Errorf("uncovered regions = %v, want %d of them", got.UncoveredRegions(), tc.uncoveredLen)
			}
		})
	}
}

// A member account cannot read the organization trail, but the management
// account in the same scan did: the facts are shared by ARN and the member
// passes.
func TestEvaluateAll_org_trail_read_in_management_account(t *testing.T) {
	const mgmt = "999999999999"
	org := trail("org", orgTrail(mgmt))
	member := trail("org", orgTrail(mgmt), statusUnreadable, selectorsUnreadable)
	results := EvaluateAll([]Account{
		{ID: mgmt, Regions: []Region{}, Trails: []Trail{org}},
		{ID: acctID, Regions: []Region{}, Trails: []Trail{member}},
	}, Options{})
	for _, r := range results {
		if r.Status != StatusPass || r.CoveringTrail != org.ARN {
			t.Errorf("%s: %s covering %q, reasons %q", r.Account, r.Status, r.CoveringTrail, r.Reasons)
		}
	}
	// Without the management account in the scan, the member stays UNKNOWN.
	alone := EvaluateAll([]Account{{ID: acctID, Trails: []Trail{trail("org", orgTrail(mgmt), statusUnreadable, selectorsUnreadable)}}}, Options{})
	if alone[0].Status != StatusUnknown {
		t.Errorf("member alone: %s, want UNKNOWN", alone[0].Status)
	}
}

func TestEvaluate_region_table(t *testing.T) {
	t.Run("opt_in_regions_listed_with_status", func(t *testing.T) {
		acct := Account{ID: acctID, Regions: regions("us-east-1", "+af-south-1", "!me-south-1"), Trails: []Trail{trail("main")}}
		got := Evaluate(acct, Options{})
		byName := map[string]RegionCoverage{}
		for _, rc := range got.Regions {
			byName[rc.Region] = rc
		}
		if len(byName) != 3 {
			t.Fatalf("regions %+v, want 3", got.Regions)
		}
		if rc := byName["af-south-1"]; !rc.Enabled || rc.OptInStatus != "opted-in" || rc.CoveredBy != got.CoveringTrail {
			t.Errorf("opted-in region: %+v", rc)
		}
		if rc := byName["me-south-1"]; rc.Enabled || rc.CoveredBy != "" {
			t.Errorf("not-opted-in region: %+v", rc)
		}
		b, err := json.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		var m struct {
			Regions map[string]*string `json:"regions"`
		}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		if _, ok := m.Regions["me-south-1"]; ok {
			t.Errorf("JSON regions lists a region not enabled: %s", b)
		}
		if p := m.Regions["af-south-1"]; p == nil || *p != got.CoveringTrail {
			t.Errorf("JSON regions[af-south-1] = %v", p)
		}
	})
	t.Run("single_region_trail_covers_its_region_only", func(t *testing.T) {
		local := trail("local", singleRegion("eu-west-1"))
		acct := Account{ID: acctID, Regions: regions("us-east-1", "eu-west-1"), Trails: []Trail{local, trail("stopped-local", singleRegion("us-east-1"), notLogging)}}
		got := Evaluate(acct, Options{})
		if got.Status != StatusFail {
			t.Fatalf("status %s", got.Status)
		}
		for _, rc := range got.Regions {
			want := ""
			if rc.Region == "eu-west-1" {
				want = local.ARN
			}
			if rc.CoveredBy != want {
				t.Errorf("%s covered by %q, want %q", rc.Region, rc.CoveredBy, want)
			}
		}
		b, _ := json.Marshal(got)
		if !strings.Contains(string(b), `"us-east-1":null`) {
			t.Errorf("JSON lacks null for the uncovered region: %s", b)
		}
	})
}

func TestEvaluate_stopped_time_in_reason(t *testing.T) {
	stopped := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	got := Evaluate(Account{ID: acctID, Trails: []Trail{trail("main", func(t *Trail) { t.Status = &TrailStatus{StopLoggingTime: &stopped} })}}, Options{})
	if !strings.Contains(strings.Join(got.Reasons, " "), "2026-03-01 12:00:00 UTC") {
		t.Errorf("reasons %q lack the stop time", got.Reasons)
	}
}

func TestExitCode(t *testing.T) {
	r := func(s ...Status) []Result {
		var out []Result
		for _, x := range s {
			out = append(out, Result{Status: x})
		}
		return out
	}
	cases := []struct {
		name string
		in   []Result
		want int
	}{
		{"all_pass_or_muted", r(StatusPass, StatusMuted), 0},
		{"one_fail", r(StatusPass, StatusUnknown, StatusFail), 1},
		{"unknown_without_fail", r(StatusPass, StatusUnknown), 2},
		{"error_without_fail", r(StatusError), 2},
		{"nothing", nil, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := ExitCode(c.in); got != c.want {
				t.Errorf("ExitCode = %d, want %d", got, c.want)
			}
		})
	}
}

func TestARNFields(t *testing.T) {
	arn := "arn:aws:cloudtrail:eu-west-1:123456789012:trail/x"
	if ARNAccount(arn) != "123456789012" || ARNRegion(arn) != "eu-west-1" {
		t.Errorf("got %q %q", ARNAccount(arn), ARNRegion(arn))
	}
	if ARNAccount("nonsense") != "" || ARNRegion("a:b") != "" {
		t.Error("non-ARN gave a field")
	}
}
