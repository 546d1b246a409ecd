package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard"
)

func sampleResults() []trailguard.Result {
	arn := "arn:aws:cloudtrail:us-east-1:111111111111:trail/main"
	mk := func(id string, trails []trailguard.Trail, regions []trailguard.Region) trailguard.Account {
		return trailguard.Account{ID: id, Trails: trails, Regions: regions}
	}
	regions := []trailguard.Region{{Name: "us-east-1", OptInStatus: "opt-in-not-required"}, {Name: "af-south-1", OptInStatus: "opted-in"}, {Name: "me-south-1", OptInStatus: "not-opted-in"}}
	good := trailguard.Trail{Name: "main", ARN: arn, HomeRegion: "us-east-1", IsMultiRegion: true, IncludeGlobalServiceEvents: true,
		Status:    &trailguard.TrailStatus{IsLogging: true},
		Selectors: &trailguard.EventSelectors{Basic: []trailguard.EventSelector{{ReadWriteType: "All", IncludeManagementEvents: true}}}}
	stopped := good
	stopped.ARN = "arn:aws:cloudtrail:us-east-1:222222222222:trail/main"
	stopped.Status = &trailguard.TrailStatus{IsLogging: false}
	return trailguard.EvaluateAll([]trailguard.Account{
		mk("111111111111", []trailguard.Trail{good}, regions),
		mk("222222222222", []trailguard.Trail{stopped}, regions),
	}, trailguard.Options{})
}

func TestText_shows_verdicts_reasons_and_coverage(t *testing.T) {
	rep := New("test", Scan{Source: "aws", StartedAt: time.Unix(0, 0)}, sampleResults(), map[string]int{"cloudtrail:DescribeTrails": 2})
	var buf bytes.Buffer
	if err := (Text{}).Write(&buf, rep); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"Account 111111111111  PASS", "Account 222222222222  FAIL", "not logging",
		"not covered", "not enabled", "af-south-1*", "me-south-1",
		"1 PASS", "1 FAIL", "2 API call(s)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("escape codes without colour")
	}
	buf.Reset()
	(Text{Style: Style{Color: true}}).Write(&buf, rep)
	if !strings.Contains(buf.String(), "\x1b[31") {
		t.Error("no red for FAIL with colour on")
	}
}

func TestJSON_has_the_documented_shape(t *testing.T) {
	rep := New("test", Scan{Source: "aws"}, sampleResults(), map[string]int{"cloudtrail:DescribeTrails": 2})
	var buf bytes.Buffer
	if err := (JSON{}).Write(&buf, rep); err != nil {
		t.Fatal(err)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"tool", "control", "results", "summary", "api_calls"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("missing top-level %q", k)
		}
	}
	var results []map[string]json.RawMessage
	json.Unmarshal(doc["results"], &results)
	for _, r := range results {
		for _, k := range []string{"account", "status", "reasons", "regions", "trails"} {
			if _, ok := r[k]; !ok {
				t.Errorf("result lacks %q", k)
			}
		}
	}
	// Round trip through the domain type keeps the verdicts and coverage.
	var back Report
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Results[1].Status != trailguard.StatusFail || len(back.Results[1].UncoveredRegions()) != 2 {
		t.Errorf("round trip: %+v", back.Results[1])
	}
}

func TestForFormat_unknown(t *testing.T) {
	if _, err := ForFormat("yaml", Style{}); err == nil || !strings.Contains(err.Error(), "json") {
		t.Errorf("err = %v", err)
	}
}
