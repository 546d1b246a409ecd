package awsemu_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"

	"github.com/trailguard/trailguard/internal/awsemu"
)

// rawCall sends one request with a SigV4-shaped Authorization header
// (the emulator routes by its credential scope and does not verify
// signatures) and returns the status and body. It reaches the services
// this module has no SDK client for.
func rawCall(t *testing.T, e *env, c awsemu.Credentials, region, svc, target, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/", strings.NewReader(body))
	must(t, err)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+c.AccessKeyID+"/20260101/"+region+"/"+svc+"/aws4_request, SignedHeaders=host, Signature=0")
	if c.SessionToken != "" {
		req.Header.Set("X-Amz-Security-Token", c.SessionToken)
	}
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	} else {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func events(t *testing.T, e *env, c awsemu.Credentials, region, op, body string) (int, string) {
	t.Helper()
	return rawCall(t, e, c, region, "events", "AWSEvents."+op, body)
}

func sns(t *testing.T, e *env, c awsemu.Credentials, region string, form url.Values) (int, string) {
	t.Helper()
	return rawCall(t, e, c, region, "sns", "", form.Encode())
}

func TestEventRecord(t *testing.T) {
	ctx := context.Background()
	t.Run("read_only_calls_are_not_recorded", func(t *testing.T) {
		e := newEnv(t)
		a := e.emu.AddAccount(acctA)
		e.trail(t, a, "us-east-1", "main", true)
		before := len(e.emu.Events(acctA, "us-east-1"))
		_, err := e.ct(a, "us-east-1").GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("main")})
		must(t, err)
		_, err = e.ct(a, "us-east-1").DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{})
		must(t, err)
		if got := e.emu.Events(acctA, "us-east-1"); len(got) != before {
			t.Errorf("read-only calls recorded: %+v", got[before:])
		}
	})
	t.Run("unknown_key_is_not_recorded_anywhere", func(t *testing.T) {
		e := newEnv(t)
		e.emu.AddAccount(acctA)
		_, err := e.ct(awsemu.Credentials{AccessKeyID: "AKIANOSUCHKEY", SecretAccessKey: "x"}, "us-east-1").StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String("main")})
		if err == nil {
			t.Fatal("an unknown key was accepted")
		}
		if got := e.emu.Events(acctA, ""); len(got) != 0 {
			t.Errorf("recorded %+v", got)
		}
	})
	t.Run("failed_call_is_recorded_with_its_error", func(t *testing.T) {
		e := newEnv(t)
		a := e.emu.AddAccount(acctA)
		_, err := e.ct(a, "us-east-1").StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String("no-such-trail")})
		if err == nil {
			t.Fatal("StopLogging of a missing trail succeeded")
		}
		evs := e.emu.Events(acctA, "us-east-1")
		if len(evs) != 1 || evs[0].EventName != "StopLogging" || evs[0].ErrorCode != "TrailNotFoundException" || evs[0].ErrorMessage == "" ||
			evs[0].ResponseElements != nil || evs[0].RequestParameters["name"] != "no-such-trail" {
			t.Fatalf("events %+v", evs)
		}
		id := evs[0].UserIdentity
		if id.Type != "Root" || id.ARN != "arn:aws:iam::"+acctA+":root" || id.AccountID != acctA || id.AccessKeyID != a.AccessKeyID {
			t.Errorf("userIdentity %+v", id)
		}
		if !strings.Contains(evs[0].UserAgent, "aws-sdk-go-v2") {
			t.Errorf("userAgent %q", evs[0].UserAgent)
		}
	})
	t.Run("success_has_request_and_response_elements", func(t *testing.T) {
		e := newEnv(t)
		a := e.emu.AddAccount(acctA)
		arn := e.trail(t, a, "us-east-1", "main", true)
		var create *awsemu.CloudTrailEvent
		for _, ev := range e.emu.Events(acctA, "us-east-1") {
			if ev.EventName == "CreateTrail" {
				create = &ev
			}
		}
		if create == nil || create.RequestParameters["name"] != "main" || create.RequestParameters["isMultiRegionTrail"] != true ||
			create.ResponseElements["trailARN"] != arn || create.ErrorCode != "" {
			t.Fatalf("CreateTrail event %+v", create)
		}
	})
	t.Run("kept_per_region_in_time_order", func(t *testing.T) {
		e := newEnv(t)
		a := e.emu.AddAccount(acctA)
		e.emu.AddAccount(acctB)
		for _, r := range []string{"us-east-1", "eu-west-1", "us-east-1"} {
			e.ct(a, r).StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String("t-" + r)})
		}
		east, west := e.emu.Events(acctA, "us-east-1"), e.emu.Events(acctA, "eu-west-1")
		all := e.emu.Events(acctA, "")
		if len(east) != 2 || len(west) != 1 || len(all) != 3 || west[0].AWSRegion != "eu-west-1" || len(e.emu.Events(acctB, "")) != 0 {
			t.Fatalf("east %d, west %d, all %d", len(east), len(west), len(all))
		}
		for i := 1; i < len(all); i++ {
			if all[i].EventTime < all[i-1].EventTime {
				t.Errorf("not in time order: %v", all)
			}
		}
	})
	t.Run("cap_drops_the_oldest", func(t *testing.T) {
		e := newEnv(t)
		a := e.emu.AddAccount(acctA)
		e.emu.SetEventCap(2)
		for _, n := range []string{"one", "two", "three"} {
			e.ct(a, "us-east-1").StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String(n)})
		}
		evs := e.emu.Events(acctA, "us-east-1")
		if len(evs) != 2 || evs[0].RequestParameters["name"] != "two" || evs[1].RequestParameters["name"] != "three" {
			t.Fatalf("events %+v", evs)
		}
		e.emu.SetEventCap(1)
		if evs := e.emu.Events(acctA, "us-east-1"); len(evs) != 1 || evs[0].RequestParameters["name"] != "three" {
			t.Fatalf("after lowering the cap: %+v", evs)
		}
	})
}

func TestEventBridgeErrors(t *testing.T) {
	e := newEnv(t)
	a := e.emu.AddAccount(acctA)
	if code, body := events(t, e, a, "us-east-1", "PutRule", `{"Name":"r","EventPattern":"{\"source\":[\"aws.cloudtrail\"]}"}`); code != 200 {
		t.Fatalf("PutRule: %d %s", code, body)
	}
	cases := []struct {
		name, op, body, code string
	}{
		{"pattern_not_json", "PutRule", `{"Name":"bad","EventPattern":"{"}`, "InvalidEventPatternException"},
		{"pattern_leaf_not_array", "PutRule", `{"Name":"bad","EventPattern":"{\"source\":\"aws.s3\"}"}`, "InvalidEventPatternException"},
		{"no_pattern_nor_schedule", "PutRule", `{"Name":"bad"}`, "ValidationException"},
		{"bad_rule_name", "PutRule", `{"Name":"a b","EventPattern":"{\"source\":[\"x\"]}"}`, "ValidationException"},
		{"bad_state", "PutRule", `{"Name":"r2","State":"ON","EventPattern":"{\"source\":[\"x\"]}"}`, "ValidationException"},
		{"other_bus", "PutRule", `{"Name":"r2","EventBusName":"custom","EventPattern":"{\"source\":[\"x\"]}"}`, "ResourceNotFoundException"},
		{"targets_of_missing_rule", "PutTargets", `{"Rule":"nosuch","Targets":[{"Id":"t","Arn":"arn:aws:sns:us-east-1:111122223333:x"}]}`, "ResourceNotFoundException"},
		{"target_without_arn", "PutTargets", `{"Rule":"r","Targets":[{"Id":"t"}]}`, "ValidationException"},
		{"target_input_not_json", "PutTargets", `{"Rule":"r","Targets":[{"Id":"t","Arn":"arn:aws:sns:us-east-1:111122223333:x","Input":"{"}]}`, "ValidationException"},
		{"list_targets_of_missing_rule", "ListTargetsByRule", `{"Rule":"nosuch"}`, "ResourceNotFoundException"},
		{"not_an_object", "PutRule", `[1]`, "SerializationException"},
		{"unknown_operation", "PutEvents", `{}`, "UnknownOperationException"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, body := events(t, e, a, "us-east-1", tc.op, tc.body)
			if code != 400 || !strings.Contains(body, `"`+tc.code+`"`) {
				t.Errorf("%s %s: %d %s, want %s", tc.op, tc.body, code, body, tc.code)
			}
		})
	}
	t.Run("rule_with_targets_cannot_be_deleted", func(t *testing.T) {
		events(t, e, a, "us-east-1", "PutTargets", `{"Rule":"r","Targets":[{"Id":"t","Arn":"arn:aws:sns:us-east-1:111122223333:x"}]}`)
		if code, body := events(t, e, a, "us-east-1", "DeleteRule", `{"Name":"r"}`); code != 400 || !strings.Contains(body, "ValidationException") {
			t.Errorf("DeleteRule with targets: %d %s", code, body)
		}
		code, body := events(t, e, a, "us-east-1", "RemoveTargets", `{"Rule":"r","Ids":["t","nosuch"]}`)
		var out struct{ FailedEntryCount int }
		json.Unmarshal([]byte(body), &out)
		if code != 200 || out.FailedEntryCount != 1 {
			t.Errorf("RemoveTargets: %d %s", code, body)
		}
		if code, body := events(t, e, a, "us-east-1", "DeleteRule", `{"Name":"r"}`); code != 200 {
			t.Errorf("DeleteRule without targets: %d %s", code, body)
		}
		if _, body := events(t, e, a, "us-east-1", "ListRules", `{}`); strings.Contains(body, `"r"`) {
			t.Errorf("rule still listed: %s", body)
		}
	})
	t.Run("five_targets_per_rule", func(t *testing.T) {
		events(t, e, a, "us-east-1", "PutRule", `{"Name":"many","EventPattern":"{\"source\":[\"x\"]}"}`)
		var ts []string
		for i := 0; i < 6; i++ {
			ts = append(ts, `{"Id":"t`+string(rune('0'+i))+`","Arn":"arn:aws:sns:us-east-1:111122223333:x"}`)
		}
		if code, body := events(t, e, a, "us-east-1", "PutTargets", `{"Rule":"many","Targets":[`+strings.Join(ts, ",")+`]}`); code != 400 || !strings.Contains(body, "LimitExceededException") {
			t.Errorf("six targets: %d %s", code, body)
		}
	})
}

// TestEventDelivery checks which rules an event reaches and what each
// delivery's outcome records.
func TestEventDelivery(t *testing.T) {
	ctx := context.Background()
	const pattern = `"{\"detail\":{\"eventName\":[\"StopLogging\"]}}"`
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(failing.Close)
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(ok.Close)
	fn := func(name string) string { return "arn:aws:lambda:us-east-1:" + acctA + ":function:" + name }
	cases := []struct {
		name    string
		setup   func(e *env, a awsemu.Credentials)
		wantErr []string // one entry per expected delivery: "" for success, else a substring of Err
	}{
		{"no_endpoint_configured", func(e *env, a awsemu.Credentials) {
			events(t, e, a, "us-east-1", "PutRule", `{"Name":"r","EventPattern":`+pattern+`}`)
			events(t, e, a, "us-east-1", "PutTargets", `{"Rule":"r","Targets":[{"Id":"f","Arn":"`+fn("f")+`"}]}`)
		}, []string{"no Lambda endpoint"}},
		{"function_error", func(e *env, a awsemu.Credentials) {
			e.emu.SetLambdaEndpoint(fn("f"), failing.URL)
			events(t, e, a, "us-east-1", "PutRule", `{"Name":"r","EventPattern":`+pattern+`}`)
			events(t, e, a, "us-east-1", "PutTargets", `{"Rule":"r","Targets":[{"Id":"f","Arn":"`+fn("f")+`"}]}`)
		}, []string{"Unhandled"}},
		{"wildcard_endpoint", func(e *env, a awsemu.Credentials) {
			e.emu.SetLambdaEndpoint("*", ok.URL)
			events(t, e, a, "us-east-1", "PutRule", `{"Name":"r","EventPattern":`+pattern+`}`)
			events(t, e, a, "us-east-1", "PutTargets", `{"Rule":"r","Targets":[{"Id":"f","Arn":"`+fn("any")+`"}]}`)
		}, []string{""}},
		{"disabled_rule", func(e *env, a awsemu.Credentials) {
			e.emu.SetLambdaEndpoint("*", ok.URL)
			events(t, e, a, "us-east-1", "PutRule", `{"Name":"r","State":"DISABLED","EventPattern":`+pattern+`}`)
			events(t, e, a, "us-east-1", "PutTargets", `{"Rule":"r","Targets":[{"Id":"f","Arn":"`+fn("f")+`"}]}`)
		}, nil},
		{"rule_of_another_account", func(e *env, a awsemu.Credentials) {
			b := e.emu.AddAccount(acctB)
			e.emu.SetLambdaEndpoint("*", ok.URL)
			events(t, e, b, "us-east-1", "PutRule", `{"Name":"r","EventPattern":`+pattern+`}`)
			events(t, e, b, "us-east-1", "PutTargets", `{"Rule":"r","Targets":[{"Id":"f","Arn":"`+fn("f")+`"}]}`)
		}, nil},
		{"pattern_does_not_match", func(e *env, a awsemu.Credentials) {
			e.emu.SetLambdaEndpoint("*", ok.URL)
			events(t, e, a, "us-east-1", "PutRule", `{"Name":"r","EventPattern":"{\"detail\":{\"eventName\":[\"DeleteTrail\"]}}"}`)
			events(t, e, a, "us-east-1", "PutTargets", `{"Rule":"r","Targets":[{"Id":"f","Arn":"`+fn("f")+`"}]}`)
		}, nil},
		{"sns_target_gets_the_event", func(e *env, a awsemu.Credentials) {
			sns(t, e, a, "us-east-1", url.Values{"Action": {"CreateTopic"}, "Name": {"alerts"}})
			events(t, e, a, "us-east-1", "PutRule", `{"Name":"r","EventPattern":`+pattern+`}`)
			events(t, e, a, "us-east-1", "PutTargets", `{"Rule":"r","Targets":[{"Id":"s","Arn":"arn:aws:sns:us-east-1:`+acctA+`:alerts"}]}`)
		}, []string{""}},
		{"sns_target_missing_topic", func(e *env, a awsemu.Credentials) {
			events(t, e, a, "us-east-1", "PutRule", `{"Name":"r","EventPattern":`+pattern+`}`)
			events(t, e, a, "us-east-1", "PutTargets", `{"Rule":"r","Targets":[{"Id":"s","Arn":"arn:aws:sns:us-east-1:`+acctA+`:gone"}]}`)
		}, []string{"Topic does not exist"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			a := e.emu.AddAccount(acctA)
			tc.setup(e, a)
			e.ct(a, "us-east-1").StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String("main")})
			dctx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			ds := e.emu.Deliveries(dctx)
			if len(ds) != len(tc.wantErr) {
				t.Fatalf("deliveries %+v, want %d", ds, len(tc.wantErr))
			}
			for i, want := range tc.wantErr {
				if (want == "") != (ds[i].Err == "") || !strings.Contains(ds[i].Err, want) {
					t.Errorf("delivery %d: Err %q, want %q", i, ds[i].Err, want)
				}
			}
			if tc.name == "sns_target_gets_the_event" {
				msgs := e.emu.Published("arn:aws:sns:us-east-1:" + acctA + ":alerts")
				if len(msgs) != 1 || !strings.Contains(msgs[0].Message, `"detail-type":"AWS API Call via CloudTrail"`) {
					t.Errorf("published %+v", msgs)
				}
			}
		})
	}
}

func TestSNSErrors(t *testing.T) {
	e := newEnv(t)
	a := e.emu.AddAccount(acctA)
	b := e.emu.AddAccount(acctB)
	topic := "arn:aws:sns:us-east-1:" + acctA + ":alerts"
	if code, body := sns(t, e, a, "us-east-1", url.Values{"Action": {"CreateTopic"}, "Name": {"alerts"}}); code != 200 || !strings.Contains(body, topic) {
		t.Fatalf("CreateTopic: %d %s", code, body)
	}
	cases := []struct {
		name   string
		caller awsemu.Credentials
		form   url.Values
		status int
		code   string
	}{
		{"bad_topic_name", a, url.Values{"Action": {"CreateTopic"}, "Name": {"a b"}}, 400, "InvalidParameter"},
		{"empty_topic_name", a, url.Values{"Action": {"CreateTopic"}}, 400, "InvalidParameter"},
		{"empty_message", a, url.Values{"Action": {"Publish"}, "TopicArn": {topic}, "Message": {""}}, 400, "InvalidParameter"},
		{"no_message", a, url.Values{"Action": {"Publish"}, "TopicArn": {topic}}, 400, "ValidationError"},
		{"missing_topic", a, url.Values{"Action": {"Publish"}, "TopicArn": {topic + "-gone"}, "Message": {"x"}}, 404, "NotFound"},
		{"other_accounts_topic", b, url.Values{"Action": {"Publish"}, "TopicArn": {topic}, "Message": {"x"}}, 403, "AuthorizationError"},
		{"subject_too_long", a, url.Values{"Action": {"Publish"}, "TopicArn": {topic}, "Message": {"x"}, "Subject": {strings.Repeat("s", 101)}}, 400, "InvalidParameter"},
		{"subject_with_newline", a, url.Values{"Action": {"Publish"}, "TopicArn": {topic}, "Message": {"x"}, "Subject": {"a\nb"}}, 400, "InvalidParameter"},
		{"message_too_long", a, url.Values{"Action": {"Publish"}, "TopicArn": {topic}, "Message": {strings.Repeat("m", 256<<10+1)}}, 400, "InvalidParameter"},
		{"unknown_action", a, url.Values{"Action": {"Subscribe"}}, 400, "InvalidAction"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, body := sns(t, e, tc.caller, "us-east-1", tc.form)
			if code != tc.status || !strings.Contains(body, "<Code>"+tc.code+"</Code>") {
				t.Errorf("%d %s, want %d %s", code, body, tc.status, tc.code)
			}
		})
	}
	if got := e.emu.Published(topic); len(got) != 0 {
		t.Errorf("failed publishes kept: %+v", got)
	}
}
