package deploy_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/trailguard/trailguard/control"
	"github.com/trailguard/trailguard/deploy"
	"github.com/trailguard/trailguard/internal/awsemu"
)

// eventsCall sends one EventBridge API call to the emulator (the SDK's
// EventBridge client is not a dependency of the module).
func eventsCall(t *testing.T, url string, c awsemu.Credentials, op string, body any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, url+"/", strings.NewReader(string(b)))
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+c.AccessKeyID+"/20260101/us-east-1/events/aws4_request, SignedHeaders=host, Signature=0")
	req.Header.Set("X-Amz-Target", "AWSEvents."+op)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("events %s: %d %s", op, resp.StatusCode, out)
	}
}

// The EventBridge rule deploy writes, put in the emulator with its exact
// event pattern, delivers each of the watched CloudTrail calls — and no
// other call — to the function, which alerts. The alert of a StopLogging
// is the one the README shows.
func TestEventPattern_delivers_the_watched_calls(t *testing.T) {
	cases := []struct {
		name      string
		call      func(ctx context.Context, ct *cloudtrail.Client) error
		delivered bool
		alerts    bool // the change leaves the account failing
	}{
		{"stop_logging", func(ctx context.Context, ct *cloudtrail.Client) error {
			_, err := ct.StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String("main")})
			return err
		}, true, true},
		{"put_event_selectors", func(ctx context.Context, ct *cloudtrail.Client) error {
			_, err := ct.PutEventSelectors(ctx, &cloudtrail.PutEventSelectorsInput{TrailName: aws.String("main"),
				EventSelectors: []cttypes.EventSelector{{IncludeManagementEvents: aws.Bool(true), ReadWriteType: cttypes.ReadWriteTypeWriteOnly}}})
			return err
		}, true, true},
		{"delete_trail", func(ctx context.Context, ct *cloudtrail.Client) error {
			_, err := ct.DeleteTrail(ctx, &cloudtrail.DeleteTrailInput{Name: aws.String("main")})
			return err
		}, true, true},
		{"update_trail_to_single_region", func(ctx context.Context, ct *cloudtrail.Client) error {
			_, err := ct.UpdateTrail(ctx, &cloudtrail.UpdateTrailInput{Name: aws.String("main"), IsMultiRegionTrail: aws.Bool(false)})
			return err
		}, true, true},
		{"failed_create_trail_keeps_passing", func(ctx context.Context, ct *cloudtrail.Client) error {
			// The bucket does not exist: the call fails, CloudTrail still
			// records it (with its error code), and EventBridge delivers it.
			if _, err := ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("second"), S3BucketName: aws.String("no-such-bucket")}); err == nil {
				return errors.New("CreateTrail with a missing bucket succeeded")
			}
			return nil
		}, true, false},
		{"start_logging_keeps_passing", func(ctx context.Context, ct *cloudtrail.Client) error {
			_, err := ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String("main")})
			return err
		}, true, false},
		{"tags_are_not_watched", func(ctx context.Context, ct *cloudtrail.Client) error {
			_, err := ct.AddTags(ctx, &cloudtrail.AddTagsInput{ResourceId: aws.String("arn:aws:cloudtrail:us-east-1:" + central + ":trail/main"),
				TagsList: []cttypes.Tag{{Key: aws.String("team"), Value: aws.String("sec")}}})
			return err
		}, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			emu, srv := awsemu.Start()
			t.Cleanup(srv.Close)
			creds := emu.AddAccount(central)
			if _, err := emu.PutTrail(central, awsemu.TrailSpec{Name: "main", S3BucketName: "logs", IsMultiRegion: true, IncludeGlobalServiceEvents: true, Logging: true}); err != nil {
				t.Fatal(err)
			}
			topic := "arn:aws:sns:us-east-1:" + central + ":trailguard-alerts"
			if _, err := sns.NewFromConfig(sdkConfig(srv.URL, creds)).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("trailguard-alerts")}); err != nil {
				t.Fatal(err)
			}
			h := &control.Handler{Config: sdkConfig(srv.URL, creds), Settings: control.Settings{AlertTopicARN: topic}}
			var mu sync.Mutex
			var got []control.Response
			fn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				out, err := lambda.NewHandler(h.Handle).Invoke(r.Context(), body)
				if err != nil {
					http.Error(w, err.Error(), http.StatusInternalServerError)
					return
				}
				var resp control.Response
				json.Unmarshal(out, &resp)
				mu.Lock()
				got = append(got, resp)
				mu.Unlock()
				w.Write(out)
			}))
			t.Cleanup(fn.Close)
			emu.SetLambdaEndpoint(function, fn.URL)
			pattern, _ := json.Marshal(deploy.EventPattern())
			eventsCall(t, srv.URL, creds, "PutRule", map[string]any{"Name": "trailguard-cloudtrail-changes", "EventPattern": string(pattern)})
			eventsCall(t, srv.URL, creds, "PutTargets", map[string]any{"Rule": "trailguard-cloudtrail-changes", "Targets": []any{map[string]any{"Id": "trailguard", "Arn": function}}})

			if err := tc.call(ctx, cloudtrail.NewFromConfig(sdkConfig(srv.URL, creds))); err != nil {
				t.Fatal(err)
			}
			dctx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			emu.Deliveries(dctx)
			mu.Lock()
			defer mu.Unlock()
			if (len(got) == 1) != tc.delivered || len(got) > 1 {
				t.Fatalf("function invoked %d times (%+v), want delivered %v", len(got), got, tc.delivered)
			}
			if !tc.delivered {
				return
			}
			msgs := emu.Published(topic)
			if !tc.alerts {
				if got[0].Status != "PASS" || len(msgs) != 0 {
					t.Fatalf("response %+v and %d alerts, want PASS and no alert", got[0], len(msgs))
				}
				return
			}
			if got[0].Status != "FAIL" || len(msgs) != 1 {
				t.Fatalf("response %+v and %d alerts, want FAIL and one alert", got[0], len(msgs))
			}
			for _, w := range []string{"Who:", "What:", "When:", "From:", "Verdict: FAIL", "trailguard fix"} {
				if !strings.Contains(msgs[0].Message, w) {
					t.Errorf("alert lacks %q", w)
				}
			}
			t.Logf("alert, subject %q:\n%s", msgs[0].Subject, msgs[0].Message)
		})
	}
}

// The calls the EventBridge pattern names are exactly the calls the
// function acts on: each of them is answered with a scan, and a CloudTrail
// call outside the list is ignored by the function too.
func TestWatchedCalls_are_the_calls_the_function_acts_on(t *testing.T) {
	emu, srv := awsemu.Start()
	t.Cleanup(srv.Close)
	creds := emu.AddAccount(central)
	if _, err := emu.PutTrail(central, awsemu.TrailSpec{Name: "main", S3BucketName: "logs", IsMultiRegion: true, IncludeGlobalServiceEvents: true, Logging: true}); err != nil {
		t.Fatal(err)
	}
	h := &control.Handler{Config: sdkConfig(srv.URL, creds)}
	names := append([]string{"AddTags", "RemoveTags", "CreateEventDataStore", "PutInsightSelectors"}, deploy.WatchedCalls...)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			ev, _ := json.Marshal(map[string]any{"version": "0", "id": "1", "detail-type": "AWS API Call via CloudTrail", "source": "aws.cloudtrail",
				"account": central, "region": "us-east-1", "detail": map[string]any{"eventSource": "cloudtrail.amazonaws.com", "eventName": name,
					"awsRegion": "us-east-1", "requestParameters": map[string]any{"name": "main"}, "recipientAccountId": central}})
			out, err := lambda.NewHandler(h.Handle).Invoke(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			var resp control.Response
			if err := json.Unmarshal(out, &resp); err != nil {
				t.Fatal(err)
			}
			watched := false
			for _, w := range deploy.WatchedCalls {
				watched = watched || w == name
			}
			if acted := resp.Ignored == "" && resp.Status != ""; acted != watched {
				t.Errorf("response %+v: acted on %v, want %v (in the EventBridge pattern: %v)", resp, acted, watched, watched)
			}
		})
	}
}
