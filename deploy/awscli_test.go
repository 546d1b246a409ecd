package deploy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/trailguard/trailguard/control"
	"github.com/trailguard/trailguard/internal/awsemu"
)

// awsCLI runs the real AWS CLI against the emulator with an account's
// keys and returns its JSON answer.
func awsCLI(t *testing.T, bin, url string, c awsemu.Credentials, args ...string) map[string]any {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // only stops a hung CLI
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append(args, "--endpoint-url", url, "--region", "us-east-1", "--output", "json")...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "AWS_ACCESS_KEY_ID=" + c.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + c.SecretAccessKey,
		"AWS_CONFIG_FILE=" + filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=", "AWS_CLI_AUTO_PROMPT=off", "AWS_MAX_ATTEMPTS=1"}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	out := map[string]any{}
	if stdout.Len() > 0 {
		if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
			t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, stdout.String())
		}
	}
	return out
}

// The Config rule and the EventBridge rule exactly as the one-account
// template defines them, put with the real AWS CLI into the emulator,
// keep the control true end to end: the rule reads COMPLIANT, the CLI
// stops logging, the call reaches the function through the rule's event
// pattern, it alerts and has the rule evaluated again, which then reads
// NON_COMPLIANT with the reason.
func TestDeployedRulesThroughAWSCLI(t *testing.T) {
	bin := awsemu.AWSCLI(t)
	o := cfnBase()
	o.Strict = true
	var tmpl struct {
		Resources map[string]struct{ Properties map[string]any }
	}
	if err := json.Unmarshal(emit(t, o), &tmpl); err != nil {
		t.Fatal(err)
	}
	emu, srv := awsemu.Start()
	t.Cleanup(srv.Close)
	creds := emu.AddAccount(central)
	topic := "arn:aws:sns:us-east-1:" + central + ":trailguard-alerts"
	h := &control.Handler{Config: sdkConfig(srv.URL, creds), Settings: settingsFromTemplate(t, o, topic)}
	fn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		out, err := lambda.NewHandler(h.Handle).Invoke(r.Context(), body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Write(out)
	}))
	t.Cleanup(fn.Close)
	emu.SetLambdaEndpoint(function, fn.URL)

	if _, err := emu.PutTrail(central, awsemu.TrailSpec{Name: "main", S3BucketName: "logs", IsMultiRegion: true, IncludeGlobalServiceEvents: true, Logging: true}); err != nil {
		t.Fatal(err)
	}
	awsCLI(t, bin, srv.URL, creds, "sns", "create-topic", "--name", "trailguard-alerts")

	// The Config rule of the template, the function's ARN in place of its
	// GetAtt.
	rp := tmpl.Resources["ConfigRule"].Properties
	src := rp["Source"].(map[string]any)
	src["SourceIdentifier"] = function
	params, _ := json.Marshal(rp["InputParameters"])
	rule := map[string]any{"ConfigRuleName": rp["ConfigRuleName"], "Description": rp["Description"], "Scope": rp["Scope"], "Source": src,
		"InputParameters": string(params)}
	rj, _ := json.Marshal(rule)
	awsCLI(t, bin, srv.URL, creds, "configservice", "put-config-rule", "--config-rule", string(rj))
	ruleName := rp["ConfigRuleName"].(string)

	// The EventBridge rule of the template, targeting the function.
	ep := tmpl.Resources["ChangeEventRule"].Properties
	pattern, _ := json.Marshal(ep["EventPattern"])
	awsCLI(t, bin, srv.URL, creds, "events", "put-rule", "--name", ep["Name"].(string), "--event-pattern", string(pattern))
	awsCLI(t, bin, srv.URL, creds, "events", "put-targets", "--rule", ep["Name"].(string), "--targets", `[{"Id":"trailguard","Arn":"`+function+`"}]`)

	compliance := func() (string, string) {
		emu.ConfigInvocations() // waits for the function's answers
		out := awsCLI(t, bin, srv.URL, creds, "configservice", "get-compliance-details-by-config-rule", "--config-rule-name", ruleName)
		rs, _ := out["EvaluationResults"].([]any)
		if len(rs) != 1 {
			t.Fatalf("compliance details: %v", out)
		}
		r := rs[0].(map[string]any)
		ann, _ := r["Annotation"].(string)
		return r["ComplianceType"].(string), ann
	}
	awsCLI(t, bin, srv.URL, creds, "configservice", "start-config-rules-evaluation", "--config-rule-names", ruleName)
	if got, ann := compliance(); got != "COMPLIANT" {
		t.Fatalf("before: %s %q, want COMPLIANT", got, ann)
	}

	awsCLI(t, bin, srv.URL, creds, "cloudtrail", "stop-logging", "--name", "main")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	emu.Deliveries(ctx)
	msgs := emu.Published(topic)
	if len(msgs) != 1 || !strings.Contains(msgs[0].Message, `"StopLogging"`) {
		t.Fatalf("alerts %+v, want one naming StopLogging", msgs)
	}
	if got, ann := compliance(); got != "NON_COMPLIANT" || !strings.HasPrefix(ann, "FAIL") {
		t.Errorf("after stop-logging: %s %q, want NON_COMPLIANT starting FAIL", got, ann)
	}
}
