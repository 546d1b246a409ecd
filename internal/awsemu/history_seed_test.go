package awsemu_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"

	"github.com/trailguard/trailguard/history"
	"github.com/trailguard/trailguard/internal/demo"
)

// TestSeedHistory seeds the demo organization's past and reads it back
// through LookupEvents: each story is there, with who, from where and
// when, every record parses as CloudTrail writes it, and the past agrees
// with the state now (the trails it names exist, GetTrailStatus times
// match the last StartLogging/StopLogging).
func TestSeedHistory(t *testing.T) {
	e := newEnv(t)
	accounts, err := demo.Seed(e.emu)
	if err != nil {
		t.Fatal(err)
	}
	e.emu.SetLookupEventsQuota(0)
	now := time.Now().UTC()
	must(t, e.emu.SeedHistory(now))
	creds := map[string]demoCreds{}
	for _, a := range accounts {
		creds[a.ID] = demoCreds{a}
	}
	// story lists an account's coverage events in a region, oldest first,
	// as "Name actor ip errorCode".
	story := func(account, region string) ([]string, []history.Event) {
		t.Helper()
		out := lookupAll(t, e.ct(creds[account].Credentials, region), &cloudtrail.LookupEventsInput{})
		var lines []string
		var evs []history.Event
		for i := len(out) - 1; i >= 0; i-- {
			ev, err := history.ParseRecord([]byte(aws.ToString(out[i].CloudTrailEvent)))
			if err != nil {
				t.Fatalf("%s %s: seeded record does not parse: %v", account, region, err)
			}
			if ev.Time.After(now) || ev.Time.Before(now.Add(-90*24*time.Hour)) {
				t.Errorf("%s: event at %v outside the 90 days", account, ev.Time)
			}
			lines = append(lines, strings.TrimSpace(ev.Name+" "+ev.Actor+" "+ev.SourceIP+" "+ev.ErrorCode))
			evs = append(evs, ev)
		}
		return lines, evs
	}
	day := 24 * time.Hour

	mgmt, mgmtEvs := story(demo.Management, "us-east-1")
	wantMgmt := []string{
		"StopLogging arn:aws:iam::111111111111:user/ops-admin 203.0.113.45",
		"StartLogging arn:aws:iam::111111111111:user/ops-admin 203.0.113.45",
		"PutEventSelectors arn:aws:sts::111111111111:assumed-role/Admin/bob 192.0.2.10",
		"PutEventSelectors arn:aws:sts::111111111111:assumed-role/Admin/bob 192.0.2.10",
		"StopLogging arn:aws:sts::111111111111:assumed-role/Developer/mallory 198.51.100.77 AccessDenied",
	}
	if strings.Join(mgmt, "\n") != strings.Join(wantMgmt, "\n") {
		t.Errorf("management account:\n%s\nwant:\n%s", strings.Join(mgmt, "\n"), strings.Join(wantMgmt, "\n"))
	} else {
		if gap := mgmtEvs[1].Time.Sub(mgmtEvs[0].Time); gap < 3*day-time.Hour || gap > 3*day+time.Hour {
			t.Errorf("logging stopped for %v, want about 3 days", gap)
		}
		for _, ev := range mgmtEvs {
			if ev.TrailARN != "arn:aws:cloudtrail:us-east-1:111111111111:trail/org-audit" {
				t.Errorf("%s names trail %q", ev.Name, ev.TrailARN)
			}
		}
		narrow, _ := mgmtEvs[2].RequestParameters["eventSelectors"].([]any)
		back, _ := mgmtEvs[3].RequestParameters["eventSelectors"].([]any)
		if len(narrow) != 1 || narrow[0].(map[string]any)["readWriteType"] != "ReadOnly" || len(back) != 1 || back[0].(map[string]any)["readWriteType"] != "All" {
			t.Errorf("selectors narrowed %v, widened %v", narrow, back)
		}
		st, err := e.ct(creds[demo.Management].Credentials, "us-east-1").GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("org-audit")})
		must(t, err)
		if !aws.ToBool(st.IsLogging) || !st.StartLoggingTime.Equal(mgmtEvs[1].Time) {
			t.Errorf("status: logging %v since %v, want since the seeded StartLogging %v", aws.ToBool(st.IsLogging), st.StartLoggingTime, mgmtEvs[1].Time)
		}
	}

	stopped, stoppedEvs := story("333333333333", "us-east-1")
	if strings.Join(stopped, "|") != "CreateTrail arn:aws:iam::333333333333:user/terraform 192.0.2.200|StartLogging arn:aws:iam::333333333333:user/terraform 192.0.2.200|StopLogging arn:aws:iam::333333333333:user/ops-admin 203.0.113.45" {
		t.Errorf("stopped trail: %q", stopped)
	} else {
		st, err := e.ct(creds["333333333333"].Credentials, "us-east-1").GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("stopped")})
		must(t, err)
		if aws.ToBool(st.IsLogging) || !st.StopLoggingTime.Equal(stoppedEvs[2].Time) {
			t.Errorf("status: logging %v, stopped %v, want stopped at %v", aws.ToBool(st.IsLogging), st.StopLoggingTime, stoppedEvs[2].Time)
		}
	}

	recreated, recEvs := story("444444444444", "us-west-2")
	if len(recreated) != 4 || !strings.HasPrefix(recreated[0], "DeleteTrail") || !strings.HasPrefix(recreated[1], "CreateTrail") ||
		!strings.HasPrefix(recreated[2], "PutEventSelectors") || !strings.HasPrefix(recreated[3], "StartLogging") {
		t.Errorf("deleted and recreated trail: %q", recreated)
	} else if sel, _ := recEvs[2].RequestParameters["eventSelectors"].([]any); len(sel) != 1 || sel[0].(map[string]any)["readWriteType"] != "ReadOnly" {
		t.Errorf("recreated trail's selectors are not the read-only ones it has now: %v", recEvs[2].RequestParameters)
	}

	advanced, advEvs := story("555555555555", "eu-central-1")
	if len(advanced) != 2 || advEvs[1].RequestParameters["advancedEventSelectors"] == nil {
		t.Errorf("advanced trail: %q %v", advanced, advEvs)
	}

	if bare, bareEvs := story("666666666666", "us-east-1"); len(bare) != 1 || bareEvs[0].Name != "DeleteTrail" || bareEvs[0].TrailARN != "arn:aws:cloudtrail:us-east-1:666666666666:trail/legacy-trail" {
		t.Errorf("account without a trail: %q", bare)
	}
	if single, _ := story("222222222222", "us-east-1"); len(single) != 2 {
		t.Errorf("single-region trail: %q", single)
	}
	if member, _ := story("777777777777", "us-east-1"); len(member) != 0 {
		t.Errorf("member covered by the organization trail has a past of its own: %q", member)
	}
}

// A span shorter than the stories keeps only the recent part.
func TestSeedHistoryWithin(t *testing.T) {
	e := newEnv(t)
	if _, err := demo.Seed(e.emu); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	must(t, e.emu.SeedHistoryWithin(now, 10*24*time.Hour))
	var n int
	for _, id := range []string{demo.Management, "333333333333", "444444444444", "555555555555", "666666666666"} {
		for _, ev := range e.emu.Events(id, "") {
			at, _ := time.Parse(time.RFC3339, ev.EventTime)
			if at.Before(now.Add(-10*24*time.Hour - time.Minute)) {
				t.Errorf("%s: %s at %v, older than the span", id, ev.EventName, at)
			}
			n++
		}
	}
	if n != 1 { // the stopped trail's StopLogging, 8 days ago
		t.Errorf("%d events within 10 days, want 1", n)
	}
}

type demoCreds struct{ demo.Account }
