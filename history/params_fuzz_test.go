package history

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/trailguard/trailguard"
)

// FuzzReplayRequestParameters feeds recorded requestParameters (outside
// input: whatever a caller sent) to the replay as a PutEventSelectors and
// an UpdateTrail between a known StopLogging and StartLogging: it must
// never panic, and never call the stopped time covered, whatever the
// parameters say.
func FuzzReplayRequestParameters(f *testing.F) {
	for _, s := range []string{
		`{"trailName":"main","eventSelectors":[{"readWriteType":"All","includeManagementEvents":true}]}`,
		`{"trailName":"main","advancedEventSelectors":[{"fieldSelectors":[{"field":"eventCategory","equals":["Management"]},{"field":"readOnly","equals":["true"]}]}]}`,
		`{"name":"main","isMultiRegionTrail":"true","includeGlobalServiceEvents":null}`,
		`{"eventSelectors":[{"readWriteType":7}],"advancedEventSelectors":[]}`,
		`{"EventSelectors":[{"ReadWriteType":"ReadOnly","IncludeManagementEvents":true,"DataResources":[{"Type":"AWS::S3::Object","Values":["arn:aws:s3"]}]}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var p map[string]any
		if json.Unmarshal(data, &p) != nil {
			t.Skip("not a JSON object: CloudTrail records requestParameters as one")
		}
		if sel, ok := selectorsFrom(p); ok {
			if _, err := json.Marshal(sel); err != nil {
				t.Fatalf("selectors read from %s do not marshal: %v", data, err)
			}
		}
		now := trailguard.Account{ID: acct, Trails: []trailguard.Trail{good(trailA)}}
		events := []Event{ev("StopLogging", day(1), trailA, nil), ev("PutEventSelectors", day(2), trailA, p),
			ev("UpdateTrail", day(3), trailA, p), ev("StartLogging", day(4), trailA, nil)}
		tl := Replay(Input{Now: now, At: day(10), Since: day(0), Until: day(10), Events: events})
		probe := day(1).Add(12 * time.Hour)
		for _, u := range tl.Uncovered {
			if !probe.Before(u.From) && probe.Before(u.To) {
				return
			}
		}
		t.Fatalf("the stopped trail is called covered at %s with parameters %s: %+v", probe, data, tl.Uncovered)
	})
}
