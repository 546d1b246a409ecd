package awsemu_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	"github.com/trailguard/trailguard/internal/awsemu"
)

// ctPaging is a CloudTrail client for the paging tests: like e.ct, but a
// request whose connection failed under it is sent again. Under heavy
// load the client's connection was seen closed while a large page was
// read (about 1 in 100 runs); the pages themselves are what these tests
// check, and a retry of a read cannot hide a wrong page. Throttling is
// not retried (the quota is off in these tests anyway).
func (e *env) ctPaging(c awsemu.Credentials, region string) *cloudtrail.Client {
	cfg := e.cfg(c, region)
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 3
			o.Retryables = []retry.IsErrorRetryable{retry.RetryableConnectionError{}}
		})
	}
	return cloudtrail.NewFromConfig(cfg)
}

func byName(name string) []cttypes.LookupAttribute {
	return []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String(name)}}
}

func attr(key cttypes.LookupAttributeKey, value string) []cttypes.LookupAttribute {
	return []cttypes.LookupAttribute{{AttributeKey: key, AttributeValue: aws.String(value)}}
}

// pastEvent is a CloudTrail call of the past, placed with AddEvent.
func pastEvent(t *testing.T, emu *awsemu.Emulator, at time.Time, name, trail string, id awsemu.UserIdentity) {
	t.Helper()
	must(t, emu.AddEvent(awsemu.CloudTrailEvent{
		EventTime: at.Format(time.RFC3339), EventSource: "cloudtrail.amazonaws.com", EventName: name,
		AWSRegion: "us-east-1", RecipientAccountID: acctA, UserIdentity: id,
		SourceIPAddress: "203.0.113.9", UserAgent: "aws-cli/2.15.0",
		RequestParameters: map[string]any{"name": trail},
	}))
}

// lookupAll pages through LookupEvents with the SDK's paginator.
func lookupAll(t *testing.T, c *cloudtrail.Client, in *cloudtrail.LookupEventsInput) []cttypes.Event {
	t.Helper()
	var out []cttypes.Event
	p := cloudtrail.NewLookupEventsPaginator(c, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("LookupEvents: %v", err)
		}
		out = append(out, page.Events...)
	}
	return out
}

// TestLookupEvents reads the event record through the SDK's LookupEvents:
// filtered by one attribute and a time range, newest first, paginated,
// 90 days back, each event as AWS returns it.
func TestLookupEvents(t *testing.T) {
	e := newEnv(t)
	a := e.emu.AddAccount(acctA)
	e.emu.AddAccount(acctB)
	e.emu.SetLookupEventsQuota(0) // the quota has a test of its own
	now := time.Now().UTC().Truncate(time.Second)
	mallory := awsemu.UserIdentity{Type: "IAMUser", ARN: "arn:aws:iam::" + acctA + ":user/mallory", AccountID: acctA, AccessKeyID: "AKIAMALLORY", UserName: "mallory"}
	pastEvent(t, e.emu, now.Add(-91*24*time.Hour), "StopLogging", "main", mallory) // beyond event history
	pastEvent(t, e.emu, now.Add(-30*24*time.Hour), "StopLogging", "main", mallory)
	pastEvent(t, e.emu, now.Add(-27*24*time.Hour), "StartLogging", "main", mallory)
	pastEvent(t, e.emu, now.Add(-10*24*time.Hour), "StopLogging", "other", mallory)
	ct := e.ctPaging(a, "us-east-1")
	_, err := ct.StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String("nosuch")}) // recorded, failed
	wantCode(t, err, "TrailNotFoundException")

	t.Run("newest_first_by_event_name_within_90_days", func(t *testing.T) {
		evs := lookupAll(t, ct, &cloudtrail.LookupEventsInput{LookupAttributes: byName("StopLogging")})
		var names []string
		for _, ev := range evs {
			names = append(names, aws.ToString(ev.Resources[0].ResourceName))
		}
		if got := strings.Join(names, ","); got != "nosuch,other,main" {
			t.Fatalf("StopLogging events by trail, newest first: %s", got)
		}
		for i := 1; i < len(evs); i++ {
			if evs[i].EventTime.After(*evs[i-1].EventTime) {
				t.Errorf("event %d is newer than event %d", i, i-1)
			}
		}
	})
	t.Run("event_as_aws_returns_it", func(t *testing.T) {
		evs := lookupAll(t, ct, &cloudtrail.LookupEventsInput{LookupAttributes: byName("StartLogging")})
		if len(evs) != 1 {
			t.Fatalf("%d StartLogging events, want 1", len(evs))
		}
		ev := evs[0]
		if aws.ToString(ev.EventName) != "StartLogging" || aws.ToString(ev.ReadOnly) != "false" ||
			aws.ToString(ev.AccessKeyId) != "AKIAMALLORY" || aws.ToString(ev.Username) != "mallory" ||
			aws.ToString(ev.EventSource) != "cloudtrail.amazonaws.com" || !ev.EventTime.Equal(now.Add(-27*24*time.Hour)) ||
			len(ev.Resources) != 1 || aws.ToString(ev.Resources[0].ResourceType) != "AWS::CloudTrail::Trail" {
			t.Fatalf("event %+v", ev)
		}
		var record map[string]any
		if err := json.Unmarshal([]byte(aws.ToString(ev.CloudTrailEvent)), &record); err != nil {
			t.Fatalf("CloudTrailEvent is not JSON: %v", err)
		}
		if record["eventID"] != aws.ToString(ev.EventId) || record["recipientAccountId"] != acctA ||
			record["sourceIPAddress"] != "203.0.113.9" || record["eventTime"] != now.Add(-27*24*time.Hour).Format(time.RFC3339) {
			t.Errorf("CloudTrailEvent %v", record)
		}
	})
	t.Run("time_range_is_inclusive", func(t *testing.T) {
		evs := lookupAll(t, ct, &cloudtrail.LookupEventsInput{
			StartTime: aws.Time(now.Add(-30 * 24 * time.Hour)), EndTime: aws.Time(now.Add(-27 * 24 * time.Hour)),
		})
		if len(evs) != 2 || aws.ToString(evs[0].EventName) != "StartLogging" || aws.ToString(evs[1].EventName) != "StopLogging" {
			t.Fatalf("events %v", evs)
		}
	})
	t.Run("each_attribute_key", func(t *testing.T) {
		root := lookupAll(t, ct, &cloudtrail.LookupEventsInput{LookupAttributes: attr(cttypes.LookupAttributeKeyUsername, "root")})
		if len(root) != 1 {
			t.Fatalf("Username root: %d events", len(root))
		}
		cases := []struct {
			key   cttypes.LookupAttributeKey
			value string
			want  int
		}{
			{cttypes.LookupAttributeKeyUsername, "mallory", 3},
			{cttypes.LookupAttributeKeyAccessKeyId, a.AccessKeyID, 1},
			{cttypes.LookupAttributeKeyEventSource, "cloudtrail.amazonaws.com", 4},
			{cttypes.LookupAttributeKeyEventSource, "s3.amazonaws.com", 0},
			{cttypes.LookupAttributeKeyResourceName, "main", 2},
			{cttypes.LookupAttributeKeyResourceType, "AWS::CloudTrail::Trail", 4},
			{cttypes.LookupAttributeKeyReadOnly, "false", 4},
			{cttypes.LookupAttributeKeyReadOnly, "true", 0},
			{cttypes.LookupAttributeKeyEventId, aws.ToString(root[0].EventId), 1},
		}
		for _, tc := range cases {
			if got := lookupAll(t, ct, &cloudtrail.LookupEventsInput{LookupAttributes: attr(tc.key, tc.value)}); len(got) != tc.want {
				t.Errorf("%s=%s: %d events, want %d", tc.key, tc.value, len(got), tc.want)
			}
		}
	})
	t.Run("other_region_and_account_see_none", func(t *testing.T) {
		if evs := lookupAll(t, e.ct(a, "eu-west-1"), &cloudtrail.LookupEventsInput{}); len(evs) != 0 {
			t.Errorf("eu-west-1: %d events", len(evs))
		}
		if evs := lookupAll(t, e.ct(e.emu.AddAccount(acctB), "us-east-1"), &cloudtrail.LookupEventsInput{}); len(evs) != 0 {
			t.Errorf("other account: %d events", len(evs))
		}
	})
}

// TestLookupEventsPages: MaxResults bounds a page (default 50), NextToken
// resumes after the last event even when new events are recorded between
// pages, and a token serves only the query that returned it.
func TestLookupEventsPages(t *testing.T) {
	e := newEnv(t)
	a := e.emu.AddAccount(acctA)
	e.emu.SetLookupEventsQuota(0)
	ct := e.ctPaging(a, "us-east-1")
	now := time.Now().UTC().Truncate(time.Second)
	for i := range 120 {
		// Two events a second: the order within one second is the order recorded.
		pastEvent(t, e.emu, now.Add(-time.Hour+time.Duration(i/2)*time.Second), "StopLogging", fmt.Sprintf("t%03d", i), awsemu.UserIdentity{Type: "Root", ARN: "arn:aws:iam::" + acctA + ":root"})
	}
	first, err := ct.LookupEvents(ctx, &cloudtrail.LookupEventsInput{LookupAttributes: byName("StopLogging")})
	must(t, err)
	if len(first.Events) != 50 || first.NextToken == nil {
		t.Fatalf("default page: %d events, token %v", len(first.Events), first.NextToken)
	}
	// New events between pages are newer than the token: they must not
	// shift the next page.
	for range 7 {
		ct.StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String("later")})
	}
	seen := map[string]bool{}
	var order []string
	for _, ev := range first.Events {
		seen[aws.ToString(ev.EventId)] = true
		order = append(order, aws.ToString(ev.Resources[0].ResourceName))
	}
	token := first.NextToken
	for token != nil {
		page, err := ct.LookupEvents(ctx, &cloudtrail.LookupEventsInput{LookupAttributes: byName("StopLogging"), NextToken: token, MaxResults: aws.Int32(17)})
		must(t, err)
		if len(page.Events) > 17 {
			t.Fatalf("page of %d events with MaxResults 17", len(page.Events))
		}
		for _, ev := range page.Events {
			if id := aws.ToString(ev.EventId); seen[id] {
				t.Fatalf("event %s on two pages", id)
			} else {
				seen[id] = true
			}
			order = append(order, aws.ToString(ev.Resources[0].ResourceName))
		}
		token = page.NextToken
	}
	if len(order) != 120 || order[0] != "t119" || order[119] != "t000" {
		t.Fatalf("%d events, first %s, last %s", len(order), order[0], order[len(order)-1])
	}
	for i := 1; i < len(order); i++ {
		if order[i] >= order[i-1] {
			t.Fatalf("not newest first at %d: %s after %s", i, order[i], order[i-1])
		}
	}

	errs := []struct {
		name string
		in   cloudtrail.LookupEventsInput
		code string
	}{
		{"two_lookup_attributes", cloudtrail.LookupEventsInput{LookupAttributes: append(byName("StopLogging"), byName("StartLogging")...)}, "InvalidLookupAttributesException"},
		{"unknown_attribute_key", cloudtrail.LookupEventsInput{LookupAttributes: attr("UserAgent", "x")}, "InvalidLookupAttributesException"},
		{"value_too_long", cloudtrail.LookupEventsInput{LookupAttributes: attr(cttypes.LookupAttributeKeyEventName, strings.Repeat("x", 2001))}, "InvalidLookupAttributesException"},
		{"max_results_51", cloudtrail.LookupEventsInput{MaxResults: aws.Int32(51)}, "InvalidMaxResultsException"},
		{"max_results_0", cloudtrail.LookupEventsInput{MaxResults: aws.Int32(0)}, "InvalidMaxResultsException"},
		{"start_after_end", cloudtrail.LookupEventsInput{StartTime: aws.Time(now), EndTime: aws.Time(now.Add(-time.Hour))}, "InvalidTimeRangeException"},
		{"token_of_another_query", cloudtrail.LookupEventsInput{LookupAttributes: byName("StartLogging"), NextToken: first.NextToken}, "InvalidNextTokenException"},
		{"forged_token", cloudtrail.LookupEventsInput{NextToken: aws.String("not-a-token")}, "InvalidNextTokenException"},
		{"event_category_other_than_insight", cloudtrail.LookupEventsInput{EventCategory: "management"}, "InvalidEventCategoryException"},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ct.LookupEvents(ctx, &tc.in)
			wantCode(t, err, tc.code)
		})
	}
}

// TestLookupEventsQuota: beyond two requests a second per account and
// region LookupEvents answers ThrottlingException, as AWS does; the SDK's
// retryer, given room to retry, still reads every event; another region
// has a quota of its own.
func TestLookupEventsQuota(t *testing.T) {
	e := newEnv(t)
	a := e.emu.AddAccount(acctA)
	now := time.Now().UTC().Truncate(time.Second)
	for i := range 100 {
		pastEvent(t, e.emu, now.Add(-time.Duration(i)*time.Minute), "StopLogging", fmt.Sprintf("t%03d", i), awsemu.UserIdentity{Type: "Root"})
	}
	ct := e.ct(a, "us-east-1") // no retries
	throttled := 0
	for range 10 {
		if _, err := ct.LookupEvents(ctx, &cloudtrail.LookupEventsInput{MaxResults: aws.Int32(1)}); err != nil {
			wantCode(t, err, "ThrottlingException")
			throttled++
		}
	}
	if throttled == 0 {
		t.Fatal("10 LookupEvents at once were not throttled")
	}
	if _, err := e.ct(a, "eu-west-1").LookupEvents(ctx, &cloudtrail.LookupEventsInput{}); err != nil {
		t.Fatalf("another region shares the quota: %v", err)
	}

	cfg := e.cfg(a, "us-east-1")
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxAttempts = 20; o.MaxBackoff = time.Second })
	}
	evs := lookupAll(t, cloudtrail.NewFromConfig(cfg), &cloudtrail.LookupEventsInput{LookupAttributes: byName("StopLogging"), MaxResults: aws.Int32(20)})
	if len(evs) != 100 {
		t.Fatalf("through throttling the retryer read %d events, want 100", len(evs))
	}
}

// TestEventCapKeepsCoverageEvents: a flood of other calls does not push a
// StopLogging out of the record, since coverage events are capped apart.
func TestEventCapKeepsCoverageEvents(t *testing.T) {
	e := newEnv(t)
	a := e.emu.AddAccount(acctA)
	e.emu.SetEventCap(5)
	ct := e.ct(a, "us-east-1")
	ct.StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String("main")})
	for range 20 {
		ct.AddTags(ctx, &cloudtrail.AddTagsInput{ResourceId: aws.String("main"), TagsList: []cttypes.Tag{{Key: aws.String("k")}}})
	}
	evs := e.emu.Events(acctA, "us-east-1")
	if len(evs) != 6 || evs[0].EventName != "StopLogging" {
		var names []string
		for _, ev := range evs {
			names = append(names, ev.EventName)
		}
		t.Fatalf("after the flood: %v", names)
	}
}

// TestLookupEventsAWSCLI reads event history with the real AWS CLI, an
// independent client: its stop-logging is recorded with its user agent,
// and `aws cloudtrail lookup-events` with an EventName attribute pages
// through NextToken on its own (two pages of 50 here) and prints every
// StopLogging newest first, the CLI's own first; a second lookup attribute
// is refused with AWS's error.
func TestLookupEventsAWSCLI(t *testing.T) {
	e := newEnv(t)
	a := e.emu.AddAccount(acctA)
	e.trail(t, a, "us-east-1", "main", true)
	now := time.Now().UTC().Truncate(time.Second)
	for i := range 59 {
		pastEvent(t, e.emu, now.Add(-time.Duration(i+1)*time.Hour), "StopLogging", "main", awsemu.UserIdentity{Type: "Root", ARN: "arn:aws:iam::" + acctA + ":root"})
	}
	cli := newCLI(t, e, a.AccessKeyID, a.SecretAccessKey)
	cli.json("us-east-1", "cloudtrail", "stop-logging", "--name", "main")
	out := cli.json("us-east-1", "cloudtrail", "lookup-events", "--lookup-attributes", "AttributeKey=EventName,AttributeValue=StopLogging",
		"--start-time", now.Add(-90*24*time.Hour).Format(time.RFC3339))
	evs, _ := out["Events"].([]any)
	if len(evs) != 60 {
		t.Fatalf("lookup-events printed %d events, want 60", len(evs))
	}
	first, _ := evs[0].(map[string]any)
	var record map[string]any
	if s, _ := first["CloudTrailEvent"].(string); json.Unmarshal([]byte(s), &record) != nil {
		t.Fatalf("CloudTrailEvent not a JSON string: %v", first)
	}
	if ua, _ := record["userAgent"].(string); !strings.Contains(ua, "aws-cli/") || first["Username"] != "root" || first["EventName"] != "StopLogging" {
		t.Errorf("newest event is not the CLI's stop-logging: %v", first)
	}
	time.Sleep(time.Second) // let the quota refill, so the answer is about the attributes
	if code, _, errOut := cli.run("us-east-1", "cloudtrail", "lookup-events", "--lookup-attributes",
		"AttributeKey=EventName,AttributeValue=StopLogging", "AttributeKey=Username,AttributeValue=root"); code == 0 || !strings.Contains(errOut, "InvalidLookupAttributesException") {
		t.Errorf("two lookup attributes: exit %d: %s", code, errOut)
	}
}
