package evidence

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/trailguard/trailguard/awscli"
)

// The fuzz tests feed every parser of evidence files arbitrary bytes. A
// parser must never panic, and what it accepts must survive Write's form
// unchanged: parse, print as the CLI would, parse again, same result.
// Seeds: the sample trees in testdata and testdata/fuzz/<FuzzName>.

// addSeeds adds every file of the sample trees with the given base name.
func addSeeds(f *testing.F, base string, extra ...string) {
	f.Helper()
	for _, pattern := range []string{"testdata/*/" + base, "testdata/*/*/" + base, "testdata/*/*/trails/*/*/" + base, "testdata/*/trails/*/*/" + base} {
		paths, _ := filepath.Glob(pattern)
		for _, p := range paths {
			if data, err := os.ReadFile(p); err == nil {
				f.Add(data)
			}
		}
	}
	for _, e := range extra {
		f.Add([]byte(e))
	}
}

// reprint prints v as Write would and returns the bytes.
func reprint(t *testing.T, v any) []byte {
	t.Helper()
	data, err := awscli.Marshal(v)
	if err != nil {
		t.Fatalf("cannot print what was read: %v", err)
	}
	return data
}

func FuzzReadDescribeTrails(f *testing.F) {
	addSeeds(f, fileDescribeTrails, `{"trailList":[]}`, `{"trailList":[{"Name":"a"},{"Name":"a"}]}`, `{"trailList":null}`, `[]`, `{"trailList":[{"IsMultiRegionTrail":"true"}]}`)
	f.Fuzz(func(t *testing.T, data []byte) {
		trails, err := parseDescribeTrails("describe-trails.json", data)
		if err != nil {
			return
		}
		list := make([]awscli.Trail, 0, len(trails))
		for _, tr := range trails {
			list = append(list, awscli.TrailOf(tr))
			trailDir(tr) // must not panic on any name
		}
		again, err := parseDescribeTrails("again", reprint(t, awscli.DescribeTrails{TrailList: &list}))
		if err != nil {
			t.Fatalf("rewrite does not parse: %v", err)
		}
		if a, b := asJSON(t, trails), asJSON(t, again); a != b {
			t.Fatalf("rewrite changed the trails\n%s\n%s", a, b)
		}
	})
}

func FuzzReadTrailStatus(f *testing.F) {
	addSeeds(f, fileTrailStatus, `{"IsLogging":false,"StartLoggingTime":1.5e9}`, `{"IsLogging":true,"StopLoggingTime":"9999-12-31T23:59:59.999999999-00:00"}`,
		`{"IsLogging":true,"LatestDeliveryTime":-1}`, `{"IsLogging":null}`)
	f.Fuzz(func(t *testing.T, data []byte) {
		status, err := parseTrailStatus("get-trail-status.json", data)
		if err != nil {
			return
		}
		again, err := parseTrailStatus("again", reprint(t, awscli.TrailStatusOf(status)))
		if err != nil {
			t.Fatalf("rewrite does not parse: %v", err)
		}
		if a, b := asJSON(t, status), asJSON(t, again); a != b {
			t.Fatalf("rewrite changed the status\n%s\n%s", a, b)
		}
	})
}

func FuzzReadEventSelectors(f *testing.F) {
	addSeeds(f, fileEventSelectors, `{"EventSelectors":[{}]}`, `{"AdvancedEventSelectors":[]}`,
		`{"EventSelectors":[],"AdvancedEventSelectors":[{"FieldSelectors":null}]}`, `{"EventSelectors":[{"DataResources":[{"Values":[]}]}]}`)
	f.Fuzz(func(t *testing.T, data []byte) {
		arn, sel, err := parseEventSelectors("get-event-selectors.json", data)
		if err != nil {
			return
		}
		arn2, again, err := parseEventSelectors("again", reprint(t, awscli.EventSelectorsOf(arn, sel)))
		if err != nil {
			t.Fatalf("rewrite does not parse: %v", err)
		}
		if a, b := asJSON(t, sel), asJSON(t, again); a != b || arn != arn2 {
			t.Fatalf("rewrite changed the selectors\n%s %s\n%s %s", arn, a, arn2, b)
		}
	})
}

func FuzzReadRegions(f *testing.F) {
	addSeeds(f, fileRegions, `{"Regions":[]}`, `{"Regions":[{}]}`, `{"Regions":{}}`)
	f.Fuzz(func(t *testing.T, data []byte) {
		regions, err := parseRegions("regions.json", data)
		if err != nil {
			return
		}
		if regions == nil {
			t.Fatal("regions read as nil: nil means not read")
		}
		again, err := parseRegions("again", reprint(t, awscli.RegionsOf(regions)))
		if err != nil || asJSON(t, again) != asJSON(t, regions) {
			t.Fatalf("rewrite changed the regions: %v\n%s\n%s", err, asJSON(t, regions), asJSON(t, again))
		}
	})
}

func FuzzReadCallerIdentity(f *testing.F) {
	addSeeds(f, fileCallerIdentity, `{"Account":""}`, `{"Account":123456789012}`)
	f.Fuzz(func(t *testing.T, data []byte) {
		ci, err := parseCallerIdentity("caller-identity.json", data)
		if err != nil {
			return
		}
		again, err := parseCallerIdentity("again", reprint(t, awscli.CallerIdentity{Account: ci.Account, Arn: ci.Arn}))
		if err != nil || again.Account != ci.Account || again.Arn != ci.Arn {
			t.Fatalf("rewrite changed the identity: %v %+v %+v", err, ci, again)
		}
	})
}

func FuzzReadDescribeAccount(f *testing.F) {
	addSeeds(f, fileDescribeAccount, `{"Account":null}`, `{"Account":{"Name":""}}`)
	f.Fuzz(func(t *testing.T, data []byte) {
		id, name, err := parseDescribeAccount("describe-account.json", data)
		if err != nil {
			return
		}
		v := awscli.DescribeAccount{Account: &awscli.OrganizationAccount{ID: id, Name: name}}
		id2, name2, err := parseDescribeAccount("again", reprint(t, v))
		if err != nil || id2 != id || name2 != name {
			t.Fatalf("rewrite changed the account: %v %q %q / %q %q", err, id, name, id2, name2)
		}
	})
}

func FuzzReadErrors(f *testing.F) {
	addSeeds(f, fileErrors, `{"describe-trails":"x","regions":"y","trails":{"arn":{"get-trail-status":"a","get-event-selectors":"b"}}}`,
		`{"trails":{"":{}}}`, `{"trails":[]}`)
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := parseErrors("errors.json", data)
		if err != nil {
			return
		}
		again, err := parseErrors("again", reprint(t, e))
		if err != nil || asJSON(t, again) != asJSON(t, e) {
			t.Fatalf("rewrite changed errors.json: %v\n%s\n%s", err, asJSON(t, e), asJSON(t, again))
		}
	})
}

func FuzzReadRunMarker(f *testing.F) {
	addSeeds(f, fileRunMarker, `{"RunId": "20261201T000000Z-1-2", "StartTime": "2026-12-01T00:00:00Z"}`, `{"RunId": ""}`, `{"runid": "x"}`,
		`{"RunId": "a", "RunId": "b"}`, `{"RunId": null}`, `{"RunId": 1}`)
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := parseRunMarker("collect-run.json", data)
		if err != nil {
			return
		}
		if m.RunID == "" {
			t.Fatal("accepted a marker without RunId")
		}
		again, err := parseRunMarker("again", reprint(t, m))
		if err != nil || again != m {
			t.Fatalf("rewrite changed the marker: %+v %v", again, err)
		}
	})
}
