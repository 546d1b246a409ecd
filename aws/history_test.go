package aws_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"

	tgaws "github.com/trailguard/trailguard/aws"
	"github.com/trailguard/trailguard/internal/awsemu"
)

// pastCall places a CloudTrail call of the past in the emulator's event
// history of acct.
func pastCall(t *testing.T, emu *awsemu.Emulator, at time.Time, region, name, trail, errorCode string) {
	t.Helper()
	param := "name"
	if name == "PutEventSelectors" {
		param = "trailName"
	}
	err := emu.AddEvent(awsemu.CloudTrailEvent{
		EventTime: at.Format(time.RFC3339), EventSource: "cloudtrail.amazonaws.com", EventName: name,
		AWSRegion: region, RecipientAccountID: acct, ErrorCode: errorCode,
		UserIdentity:      awsemu.UserIdentity{Type: "IAMUser", ARN: "arn:aws:iam::" + acct + ":user/ops", AccountID: acct, UserName: "ops"},
		SourceIPAddress:   "198.51.100.4",
		RequestParameters: map[string]any{param: trail},
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestLookupHistory reads coverage events from the emulator's event
// history through the SDK, with LookupEvents' quota of 2 requests a second
// on as on AWS.
func TestLookupHistory(t *testing.T) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	day := 24 * time.Hour

	t.Run("every_enabled_region_every_coverage_event_oldest_first", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		cfg := e.config(acct, nil)
		e.emu.SetOptIn(acct, "af-south-1", awsemu.OptedIn)
		pastCall(t, e.emu, now.Add(-40*day), "eu-west-1", "CreateTrail", "gone", "")
		pastCall(t, e.emu, now.Add(-30*day), "us-east-1", "StopLogging", "main", "")
		pastCall(t, e.emu, now.Add(-27*day), "us-east-1", "StartLogging", "main", "")
		pastCall(t, e.emu, now.Add(-20*day), "af-south-1", "PutEventSelectors", "local", "")
		pastCall(t, e.emu, now.Add(-10*day), "eu-west-1", "DeleteTrail", "gone", "")
		pastCall(t, e.emu, now.Add(-5*day), "us-east-1", "StopLogging", "main", "AccessDenied")
		pastCall(t, e.emu, now.Add(-4*day), "us-east-1", "AddTags", "main", "") // not a coverage event
		pastCall(t, e.emu, now.Add(-3*day), "us-east-1", "UpdateTrail", "main", "")
		out, err := tgaws.LookupHistory(ctx, cfg, tgaws.HistoryOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, ev := range out.Events {
			got = append(got, fmt.Sprintf("%s/%s/%s/%s", ev.Region, ev.Name, ev.TrailARN, ev.ErrorCode))
		}
		want := []string{
			"eu-west-1/CreateTrail/arn:aws:cloudtrail:eu-west-1:" + acct + ":trail/gone/",
			"us-east-1/StopLogging/arn:aws:cloudtrail:us-east-1:" + acct + ":trail/main/",
			"us-east-1/StartLogging/arn:aws:cloudtrail:us-east-1:" + acct + ":trail/main/",
			"af-south-1/PutEventSelectors/arn:aws:cloudtrail:af-south-1:" + acct + ":trail/local/",
			"eu-west-1/DeleteTrail/arn:aws:cloudtrail:eu-west-1:" + acct + ":trail/gone/",
			"us-east-1/StopLogging/arn:aws:cloudtrail:us-east-1:" + acct + ":trail/main/AccessDenied",
			"us-east-1/UpdateTrail/arn:aws:cloudtrail:us-east-1:" + acct + ":trail/main/",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if out.Account != acct || len(out.Errors) != 0 {
			t.Fatalf("account %s, errors %v", out.Account, out.Errors)
		}
		// 17 regions enabled by default and the opted-in one; a region
		// not opted in is not read.
		if len(out.Regions) != 18 || !contains(out.Regions, "af-south-1") || contains(out.Regions, "ap-east-1") {
			t.Fatalf("regions read: %v", out.Regions)
		}
		if out.Calls != 18*6 {
			t.Errorf("%d LookupEvents calls, want one per region and event name (%d)", out.Calls, 18*6)
		}
		if ev := out.Events[1]; ev.Actor != "arn:aws:iam::"+acct+":user/ops" || ev.SourceIP != "198.51.100.4" || ev.ActorType != "IAMUser" {
			t.Errorf("who: %+v", ev)
		}
	})

	t.Run("since_and_until_bound_the_events", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		cfg := e.config(acct, nil)
		pastCall(t, e.emu, now.Add(-30*day), "us-east-1", "StopLogging", "main", "")
		pastCall(t, e.emu, now.Add(-20*day), "us-east-1", "StartLogging", "main", "")
		pastCall(t, e.emu, now.Add(-10*day), "us-east-1", "StopLogging", "main", "")
		out, err := tgaws.LookupHistory(ctx, cfg, tgaws.HistoryOptions{Regions: []string{"us-east-1"}, Since: now.Add(-25 * day), Until: now.Add(-20 * day)})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Events) != 1 || out.Events[0].Name != "StartLogging" {
			t.Fatalf("events %+v", out.Events)
		}
	})

	t.Run("denied_region_is_an_error_naming_the_permission", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		cfg := e.config(acct, nil)
		pastCall(t, e.emu, now.Add(-3*day), "us-east-1", "StopLogging", "main", "")
		e.emu.InjectFault(awsemu.Fault{Region: "eu-west-1", Operation: "LookupEvents", Code: "AccessDeniedException", Message: "not authorized to perform cloudtrail:LookupEvents"})
		out, err := tgaws.LookupHistory(ctx, cfg, tgaws.HistoryOptions{Regions: []string{"us-east-1", "eu-west-1"}})
		if err != nil {
			t.Fatal(err)
		}
		if reason := out.Errors["eu-west-1"]; !strings.Contains(reason, "cloudtrail:LookupEvents") || !strings.Contains(reason, "AccessDeniedException") {
			t.Fatalf("errors %v", out.Errors)
		}
		if contains(out.Regions, "eu-west-1") || !contains(out.Regions, "us-east-1") || len(out.Events) != 1 {
			t.Fatalf("regions %v, events %d", out.Regions, len(out.Events))
		}
	})

	t.Run("throttling_at_the_quota_loses_no_event", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		cfg := e.config(acct, nil)
		for i := range 120 {
			pastCall(t, e.emu, now.Add(-time.Duration(i+1)*time.Minute), "us-east-1", "StopLogging", fmt.Sprintf("t%03d", i), "")
		}
		// Five times the quota: the emulator throttles, the SDK retries.
		out, err := tgaws.LookupHistory(ctx, cfg, tgaws.HistoryOptions{Regions: []string{"us-east-1"}, PerRegionTPS: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Events) != 120 || len(out.Errors) != 0 {
			t.Fatalf("%d events, errors %v", len(out.Events), out.Errors)
		}
		pages := 3 + 5 // 120 StopLogging in pages of 50, one page for each other name
		if out.Calls <= pages {
			t.Errorf("%d calls: throttled attempts are not counted (pages alone are %d)", out.Calls, pages)
		}
	})

	t.Run("unreadable_event_is_a_region_error", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".LookupEvents") && strings.Contains(r.Header.Get("Authorization"), "/eu-west-1/") {
				w.Header().Set("Content-Type", "application/x-amz-json-1.1")
				fmt.Fprint(w, `{"Events":[{"EventId":"ev-1","EventName":"StopLogging","CloudTrailEvent":"{\"eventID\":\"ev-1\""}]}`)
				return
			}
			e.emu.ServeHTTP(w, r)
		}))
		t.Cleanup(srv.Close)
		c := e.emu.AddAccount(acct)
		cfg := tgaws.StaticConfig(srv.URL, "us-east-1", c.AccessKeyID, c.SecretAccessKey, "", nil)
		out, err := tgaws.LookupHistory(ctx, cfg, tgaws.HistoryOptions{Regions: []string{"us-east-1", "eu-west-1"}})
		if err != nil {
			t.Fatal(err)
		}
		if reason := out.Errors["eu-west-1"]; !strings.Contains(reason, `"ev-1"`) || !strings.Contains(reason, "cannot be read") {
			t.Fatalf("errors %v", out.Errors)
		}
	})

	t.Run("same_next_token_twice_is_a_region_error", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".LookupEvents") && strings.Contains(r.Header.Get("Authorization"), "/eu-west-1/") {
				w.Header().Set("Content-Type", "application/x-amz-json-1.1")
				fmt.Fprint(w, `{"Events":[],"NextToken":"again"}`)
				return
			}
			e.emu.ServeHTTP(w, r)
		}))
		t.Cleanup(srv.Close)
		c := e.emu.AddAccount(acct)
		cfg := tgaws.StaticConfig(srv.URL, "us-east-1", c.AccessKeyID, c.SecretAccessKey, "", nil)
		out, err := tgaws.LookupHistory(ctx, cfg, tgaws.HistoryOptions{Regions: []string{"us-east-1", "eu-west-1"}, PerRegionTPS: 50})
		if err != nil {
			t.Fatal(err)
		}
		if reason := out.Errors["eu-west-1"]; !strings.Contains(reason, "same NextToken twice") || contains(out.Regions, "eu-west-1") {
			t.Fatalf("errors %v, regions %v", out.Errors, out.Regions)
		}
	})

	t.Run("unknown_caller_is_an_error", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		cfg := tgaws.StaticConfig(e.url, "us-east-1", "AKIANOSUCHKEY", "secret", "", nil)
		cfg.Retryer = func() sdkaws.Retryer { return sdkaws.NopRetryer{} }
		if _, err := tgaws.LookupHistory(ctx, cfg, tgaws.HistoryOptions{}); err == nil || !strings.Contains(err.Error(), "sts:GetCallerIdentity") {
			t.Fatalf("err %v", err)
		}
	})
}

// TestLookupHistoryReadsAPICalls: calls made through the API are read
// back with who made them.
func TestLookupHistoryReadsAPICalls(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	cfg := e.config(acct, nil)
	e.putTrail(t, acct, multiRegion("main", "us-east-1"))
	ct := cloudtrail.NewFromConfig(cfg)
	if _, err := ct.StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: sdkaws.String("main")}); err != nil {
		t.Fatal(err)
	}
	out, err := tgaws.LookupHistory(ctx, cfg, tgaws.HistoryOptions{Regions: []string{"us-east-1"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Events) != 1 || out.Events[0].Actor != "arn:aws:iam::"+acct+":root" || out.Events[0].TrailARN != "arn:aws:cloudtrail:us-east-1:"+acct+":trail/main" {
		t.Fatalf("events %+v", out.Events)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
