package fix

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/trailguard/trailguard"
)

func TestWiden(t *testing.T) {
	data := trailguard.DataResource{Type: "AWS::S3::Object", Values: []string{"arn:aws:s3:::payroll/"}}
	mgmtAdv := trailguard.AdvancedEventSelector{FieldSelectors: []trailguard.FieldSelector{{Field: "eventCategory", Equals: []string{"Management"}}}}
	for _, c := range []struct {
		name    string
		in      trailguard.EventSelectors
		strict  bool
		changed bool
	}{
		{"all_already", *trailguard.DefaultSelectors(), false, false},
		{"read_only", trailguard.EventSelectors{Basic: []trailguard.EventSelector{{ReadWriteType: "ReadOnly", IncludeManagementEvents: true}}}, false, true},
		{"data_only", trailguard.EventSelectors{Basic: []trailguard.EventSelector{{ReadWriteType: "All", DataResources: []trailguard.DataResource{data}}}}, false, true},
		{"read_only_with_data", trailguard.EventSelectors{Basic: []trailguard.EventSelector{{ReadWriteType: "ReadOnly", IncludeManagementEvents: true, DataResources: []trailguard.DataResource{data}}}}, false, true},
		{"kms_excluded", trailguard.EventSelectors{Basic: []trailguard.EventSelector{{ReadWriteType: "All", IncludeManagementEvents: true, ExcludeManagementEventSources: []string{"kms.amazonaws.com"}}}}, false, false},
		{"kms_excluded_strict", trailguard.EventSelectors{Basic: []trailguard.EventSelector{{ReadWriteType: "All", IncludeManagementEvents: true, ExcludeManagementEventSources: []string{"kms.amazonaws.com"}}}}, true, true},
		{"advanced_writes_only", trailguard.EventSelectors{Advanced: []trailguard.AdvancedEventSelector{
			{FieldSelectors: []trailguard.FieldSelector{{Field: "eventCategory", Equals: []string{"Management"}}, {Field: "readOnly", Equals: []string{"false"}}}},
			{FieldSelectors: []trailguard.FieldSelector{{Field: "eventCategory", Equals: []string{"Data"}}, {Field: "resources.type", Equals: []string{"AWS::S3::Object"}}}},
		}}, false, true},
		{"advanced_all", trailguard.EventSelectors{Advanced: []trailguard.AdvancedEventSelector{mgmtAdv}}, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, changed, err := widen(c.in, c.strict)
			if err != nil {
				t.Fatal(err)
			}
			if changed != c.changed {
				t.Fatalf("changed %v, want %v", changed, c.changed)
			}
			if !out.RecordsAllManagementEvents(trailguard.Options{Strict: c.strict}) {
				t.Errorf("widened selectors still fail: %+v", out)
			}
			// Every data resource survives, with its read/write type.
			before, after := dataOf(c.in), dataOf(out)
			for k := range before {
				if !after[k] {
					t.Errorf("data selector %s lost: %+v", k, out)
				}
			}
			if len(out.Basic) > 0 && len(out.Advanced) > 0 {
				t.Error("basic and advanced selectors mixed")
			}
		})
	}
}

func dataOf(s trailguard.EventSelectors) map[string]bool {
	m := map[string]bool{}
	for _, b := range s.Basic {
		for _, d := range b.DataResources {
			m[b.ReadWriteType+" "+d.Type+" "+strings.Join(d.Values, ",")] = true
		}
	}
	for _, a := range s.Advanced {
		if !a.SelectsManagementEvents() {
			b, _ := json.Marshal(a)
			m[string(b)] = true
		}
	}
	return m
}

func TestMergePolicy(t *testing.T) {
	arn := "arn:aws:cloudtrail:us-east-1:123456789012:trail/t"
	existing := `{"Version":"2012-10-17","Statement":{"Sid":"Keep","Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::b/*"}}`
	merged, changed, err := mergePolicy(existing, "b", "123456789012", arn, "")
	if err != nil {
		t.Fatal(err)
	}
	if !changed || !strings.Contains(merged, `"Keep"`) || !strings.Contains(merged, sidACL) || !strings.Contains(merged, sidWrite) || !strings.Contains(merged, arn) {
		t.Fatalf("merged %s", merged)
	}
	again, changed, _ := mergePolicy(merged, "b", "123456789012", arn, "")
	if changed || again != merged {
		t.Errorf("a second merge changed the policy: %s", again)
	}
	if _, changed, _ := mergePolicy("", "b", "123456789012", arn, ""); !changed {
		t.Error("no policy: nothing added")
	}
	if got, changed, err := mergePolicy("not json", "b", "123456789012", arn, ""); err == nil || changed || got != "not json" {
		t.Errorf("an unreadable policy must not be replaced: %q %v %v", got, changed, err)
	}
}

func TestBucketName_is_stable_and_valid(t *testing.T) {
	a, b := BucketName("123456789012"), BucketName("123456789012")
	if a != b || !strings.HasPrefix(a, "aws-cloudtrail-logs-123456789012-") || len(a) > 63 || BucketName("210987654321") == a {
		t.Errorf("%s %s", a, b)
	}
}

func TestMake_prefers_fixing_what_exists(t *testing.T) {
	acct := "123456789012"
	trail := func(name string, multi, logging bool) trailguard.Trail {
		return trailguard.Trail{Name: name, ARN: "arn:aws:cloudtrail:us-east-1:" + acct + ":trail/" + name, HomeRegion: "us-east-1", IsMultiRegion: multi,
			IncludeGlobalServiceEvents: true, S3BucketName: "b", Status: &trailguard.TrailStatus{IsLogging: logging}, Selectors: trailguard.DefaultSelectors()}
	}
	plan := func(ts ...trailguard.Trail) Plan {
		a := trailguard.Account{ID: acct, Trails: ts}
		return Make(a, trailguard.Evaluate(a, trailguard.Options{}), BucketFacts{Read: true}, Options{})
	}
	actions := func(p Plan) string {
		var s []string
		for _, st := range p.Steps {
			s = append(s, string(st.Action))
		}
		return strings.Join(s, " ")
	}
	if got := actions(plan(trail("stopped", true, false))); got != "start-logging" {
		t.Errorf("stopped: %s", got)
	}
	if got := actions(plan(trail("local", false, true))); got != "make-multi-region" {
		t.Errorf("single-region: %s", got)
	}
	if got := actions(plan(trail("local", false, true), trail("stopped", true, false))); got != "start-logging" {
		t.Errorf("a stopped multi-region trail beats converting: %s", got)
	}
	if got := actions(plan()); got != "create-bucket block-public-access encrypt-bucket allow-cloudtrail-delivery create-trail start-logging" {
		t.Errorf("no trail: %s", got)
	}
	if p := plan(trail("ok", true, true)); len(p.Steps) != 0 || p.Target != nil {
		t.Errorf("passing: %+v", p)
	}
	// A trail whose facts could not be read is not changed blind.
	blind := trail("blind", true, false)
	blind.Status, blind.StatusError = nil, "denied"
	if p := plan(blind); len(p.Steps) != 0 || len(p.Notes) == 0 {
		t.Errorf("unreadable: %+v", p)
	}
}
