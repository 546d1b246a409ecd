package awsemu_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/trailguard/trailguard/internal/awsemu"
)

// fakeFunction stands in for a Lambda function behind the runtime
// interface emulator: it keeps every invocation payload.
type fakeFunction struct {
	mu     sync.Mutex
	bodies [][]byte
	paths  []string
}

func (f *fakeFunction) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	f.mu.Lock()
	f.bodies = append(f.bodies, b)
	f.paths = append(f.paths, r.Method+" "+r.URL.Path)
	f.mu.Unlock()
	w.Write([]byte(`null`))
}

func (f *fakeFunction) invocations() ([][]byte, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]byte(nil), f.bodies...), append([]string(nil), f.paths...)
}

const invokePath = "/2015-03-31/functions/function/invocations"

// TestEventsAWSCLI drives the event record, EventBridge and SNS with the
// real AWS CLI: a role session stops logging on a trail; the call is
// recorded as CloudTrail records it (the CLI's user agent, the session's
// ARN, the trail in requestParameters); a rule put with the CLI for
// eventName StopLogging delivers the "AWS API Call via CloudTrail" event
// to the function; a StopLogging refused by a deny is recorded with its
// error and delivered too; a message published with the CLI reads back.
func TestEventsAWSCLI(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	root := e.emu.AddAccount(acctA)
	e.emu.AddRole(acctA, "Responder")
	admin := newCLI(t, e, root.AccessKeyID, root.SecretAccessKey)

	fn := &fakeFunction{}
	fnSrv := httptest.NewServer(fn)
	t.Cleanup(fnSrv.Close)
	fnARN := "arn:aws:lambda:us-east-1:" + acctA + ":function:responder"
	e.emu.SetLambdaEndpoint(fnARN, fnSrv.URL+invokePath)

	admin.json("us-east-1", "s3api", "create-bucket", "--bucket", "ev-trail-logs")
	admin.json("us-east-1", "s3api", "put-bucket-policy", "--bucket", "ev-trail-logs", "--policy", cloudTrailPolicy("ev-trail-logs"))
	created := admin.json("us-east-1", "cloudtrail", "create-trail", "--name", "main", "--s3-bucket-name", "ev-trail-logs", "--is-multi-region-trail")
	trailARN, _ := created["TrailARN"].(string)
	admin.json("us-east-1", "cloudtrail", "start-logging", "--name", "main")

	rule := admin.json("us-east-1", "events", "put-rule", "--name", "trail-tamper",
		"--event-pattern", `{"source":["aws.cloudtrail"],"detail-type":["AWS API Call via CloudTrail"],"detail":{"eventSource":["cloudtrail.amazonaws.com"],"eventName":["StopLogging"]}}`)
	if rule["RuleArn"] != "arn:aws:events:us-east-1:"+acctA+":rule/trail-tamper" {
		t.Fatalf("put-rule: %v", rule)
	}
	put := admin.json("us-east-1", "events", "put-targets", "--rule", "trail-tamper", "--targets", `[{"Id":"responder","Arn":"`+fnARN+`"}]`)
	if put["FailedEntryCount"] != float64(0) {
		t.Fatalf("put-targets: %v", put)
	}
	rules := admin.json("us-east-1", "events", "list-rules")
	if rl, _ := rules["Rules"].([]any); len(rl) != 1 || rl[0].(map[string]any)["State"] != "ENABLED" {
		t.Errorf("list-rules: %v", rules)
	}
	targets := admin.json("us-east-1", "events", "list-targets-by-rule", "--rule", "trail-tamper")
	if tl, _ := targets["Targets"].([]any); len(tl) != 1 || tl[0].(map[string]any)["Arn"] != fnARN {
		t.Errorf("list-targets-by-rule: %v", targets)
	}
	// A rule in another region sees nothing of us-east-1's events.
	admin.json("eu-west-1", "events", "put-rule", "--name", "elsewhere", "--event-pattern", `{"source":["aws.cloudtrail"]}`)
	admin.json("eu-west-1", "events", "put-targets", "--rule", "elsewhere", "--targets", `[{"Id":"x","Arn":"`+fnARN+`"}]`)

	out, err := e.sts(root, "us-east-1").AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::" + acctA + ":role/Responder"), RoleSessionName: aws.String("intruder"),
	})
	must(t, err)
	session := newCLI(t, e, aws.ToString(out.Credentials.AccessKeyId), aws.ToString(out.Credentials.SecretAccessKey))
	session.env = append(session.env, "AWS_SESSION_TOKEN="+aws.ToString(out.Credentials.SessionToken))
	session.json("us-east-1", "cloudtrail", "stop-logging", "--name", "main")

	e.emu.Deny("cloudtrail:StopLogging")
	if code, _, errOut := session.run("us-east-1", "cloudtrail", "stop-logging", "--name", trailARN); code == 0 {
		t.Fatalf("stop-logging under a deny succeeded: %s", errOut)
	}

	// The record: both StopLogging calls, in order, as CloudTrail writes them.
	var stops []awsemu.CloudTrailEvent
	for _, ev := range e.emu.Events(acctA, "us-east-1") {
		if ev.EventName == "StopLogging" {
			stops = append(stops, ev)
		}
	}
	if len(stops) != 2 {
		t.Fatalf("StopLogging events %d, want 2: %+v", len(stops), e.emu.Events(acctA, "us-east-1"))
	}
	sessionARN := "arn:aws:sts::" + acctA + ":assumed-role/Responder/intruder"
	for i, ev := range stops {
		id := ev.UserIdentity
		if id.Type != "AssumedRole" || id.ARN != sessionARN || id.AccountID != acctA || id.AccessKeyID != aws.ToString(out.Credentials.AccessKeyId) ||
			id.SessionContext == nil || id.SessionContext.SessionIssuer.ARN != "arn:aws:iam::"+acctA+":role/Responder" {
			t.Errorf("event %d userIdentity %+v", i, id)
		}
		if !strings.HasPrefix(ev.UserAgent, "aws-cli/") || ev.SourceIPAddress != "127.0.0.1" || ev.EventSource != "cloudtrail.amazonaws.com" ||
			ev.AWSRegion != "us-east-1" || ev.ReadOnly || ev.EventType != "AwsApiCall" || ev.RecipientAccountID != acctA || ev.EventID == "" {
			t.Errorf("event %d %+v", i, ev)
		}
		if _, err := time.Parse(time.RFC3339, ev.EventTime); err != nil {
			t.Errorf("event %d eventTime %q: %v", i, ev.EventTime, err)
		}
	}
	if got := stops[0].RequestParameters["name"]; got != "main" || stops[0].ErrorCode != "" {
		t.Errorf("allowed StopLogging: requestParameters %v, errorCode %q", stops[0].RequestParameters, stops[0].ErrorCode)
	}
	if got := stops[1].RequestParameters["name"]; got != trailARN || stops[1].ErrorCode == "" || stops[1].ErrorMessage == "" {
		t.Errorf("denied StopLogging: requestParameters %v, errorCode %q, errorMessage %q", stops[1].RequestParameters, stops[1].ErrorCode, stops[1].ErrorMessage)
	}
	if len(e.emu.Events(acctA, "eu-west-1")) != 2 { // put-rule and put-targets there
		t.Errorf("eu-west-1 events: %+v", e.emu.Events(acctA, "eu-west-1"))
	}

	// The deliveries: both StopLogging events to the function, nothing else.
	dctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	ds := e.emu.Deliveries(dctx)
	if len(ds) != 2 {
		t.Fatalf("deliveries %d, want 2: %+v", len(ds), ds)
	}
	for _, d := range ds {
		if d.Err != "" || d.Status != http.StatusOK || d.TargetARN != fnARN || d.RuleARN != rule["RuleArn"] {
			t.Errorf("delivery %+v", d)
		}
	}
	bodies, paths := fn.invocations()
	if len(bodies) != 2 {
		t.Fatalf("function invoked %d times, want 2", len(bodies))
	}
	var errored int
	for i, b := range bodies {
		if paths[i] != "POST "+invokePath {
			t.Errorf("invocation %d: %s", i, paths[i])
		}
		var env struct {
			Version    string          `json:"version"`
			ID         string          `json:"id"`
			DetailType string          `json:"detail-type"`
			Source     string          `json:"source"`
			Account    string          `json:"account"`
			Time       string          `json:"time"`
			Region     string          `json:"region"`
			Resources  []string        `json:"resources"`
			Detail     json.RawMessage `json:"detail"`
		}
		must(t, json.Unmarshal(b, &env))
		var detail awsemu.CloudTrailEvent
		must(t, json.Unmarshal(env.Detail, &detail))
		if env.Version != "0" || env.ID == "" || env.DetailType != "AWS API Call via CloudTrail" || env.Source != "aws.cloudtrail" ||
			env.Account != acctA || env.Region != "us-east-1" || env.Resources == nil || env.Time == "" {
			t.Errorf("envelope %s", b)
		}
		if detail.EventName != "StopLogging" || detail.UserIdentity.ARN != sessionARN || !strings.HasPrefix(detail.UserAgent, "aws-cli/") {
			t.Errorf("detail %s", env.Detail)
		}
		if detail.ErrorCode != "" {
			errored++
		}
	}
	if errored != 1 {
		t.Errorf("%d delivered events carry an errorCode, want 1 (the denied call)", errored)
	}

	// SNS: a topic and a message, read back.
	topic := admin.json("us-east-1", "sns", "create-topic", "--name", "trail-alerts")
	topicARN, _ := topic["TopicArn"].(string)
	if topicARN != "arn:aws:sns:us-east-1:"+acctA+":trail-alerts" {
		t.Fatalf("create-topic: %v", topic)
	}
	pub := admin.json("us-east-1", "sns", "publish", "--topic-arn", topicARN, "--subject", "CloudTrail stopped", "--message", "trail main was stopped; logging restarted")
	msgs := e.emu.Published(topicARN)
	if len(msgs) != 1 || msgs[0].MessageID != pub["MessageId"] || msgs[0].Subject != "CloudTrail stopped" || msgs[0].Message != "trail main was stopped; logging restarted" {
		t.Errorf("published %+v, publish answered %v", msgs, pub)
	}
	code, _, errOut := admin.run("us-east-1", "sns", "publish", "--topic-arn", "arn:aws:sns:us-east-1:"+acctA+":no-such-topic", "--message", "x")
	if code == 0 || !strings.Contains(errOut, "NotFound") {
		t.Errorf("publish to a missing topic: exit %d, stderr %q", code, errOut)
	}
}
