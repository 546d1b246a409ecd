package awsemu_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard/internal/awsemu"
)

// cli runs the AWS CLI against an emulator as one account, isolated from
// the user's AWS configuration.
type cli struct {
	t        *testing.T
	bin, url string
	env      []string
}

func newCLI(t *testing.T, e *env, keyID, secret string) *cli {
	dir := t.TempDir()
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + dir,
		"AWS_ACCESS_KEY_ID=" + keyID,
		"AWS_SECRET_ACCESS_KEY=" + secret,
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE=" + filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_PAGER=",
		"AWS_CLI_AUTO_PROMPT=off",
		"AWS_MAX_ATTEMPTS=1",
	}
	return &cli{t: t, bin: awsemu.AWSCLI(t), url: e.srv.URL, env: env}
}

// run runs one command in a region and returns its exit code, stdout and
// stderr.
func (c *cli) run(region string, args ...string) (int, []byte, string) {
	c.t.Helper()
	// Generous: the limit only stops a hung CLI; a loaded 2-core CI machine
	// can take many seconds to start Python.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args = append(args, "--endpoint-url", c.url, "--region", region, "--output", "json")
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Env = c.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return exit.ExitCode(), stdout.Bytes(), stderr.String()
	case err != nil:
		c.t.Fatalf("aws %s: %v", strings.Join(args, " "), err)
	}
	return 0, stdout.Bytes(), stderr.String()
}

// json runs a command that must succeed and decodes its JSON output.
func (c *cli) json(region string, args ...string) map[string]any {
	c.t.Helper()
	code, out, errOut := c.run(region, args...)
	if code != 0 {
		c.t.Fatalf("aws %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	m := map[string]any{}
	if len(bytes.TrimSpace(out)) == 0 {
		return m
	}
	if err := json.Unmarshal(out, &m); err != nil {
		c.t.Fatalf("aws %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
	return m
}

// TestAWSCLI drives the emulator with the real AWS CLI, an independent
// client with its own protocol code (botocore): if the CLI reads what the
// emulator writes, the wire format is right and not merely what the Go SDK
// tolerates.
func TestAWSCLI(t *testing.T) {
	e := newEnv(t)
	c := e.emu.AddAccount(acctA)
	aws := newCLI(t, e, c.AccessKeyID, c.SecretAccessKey)
	start := time.Now()

	id := aws.json("us-east-1", "sts", "get-caller-identity")
	if id["Account"] != acctA || id["Arn"] != "arn:aws:iam::"+acctA+":root" {
		t.Fatalf("get-caller-identity: %v", id)
	}

	aws.json("us-east-1", "s3api", "create-bucket", "--bucket", "cli-trail-logs")
	aws.json("us-east-1", "s3api", "put-bucket-policy", "--bucket", "cli-trail-logs", "--policy", cloudTrailPolicy("cli-trail-logs"))

	created := aws.json("us-east-1", "cloudtrail", "create-trail", "--name", "cli-trail", "--s3-bucket-name", "cli-trail-logs", "--is-multi-region-trail")
	arn, _ := created["TrailARN"].(string)
	if arn != "arn:aws:cloudtrail:us-east-1:"+acctA+":trail/cli-trail" || created["IsMultiRegionTrail"] != true {
		t.Fatalf("create-trail: %v", created)
	}

	basic := aws.json("us-east-1", "cloudtrail", "put-event-selectors", "--trail-name", "cli-trail",
		"--event-selectors", `[{"ReadWriteType":"WriteOnly","IncludeManagementEvents":true}]`)
	if sel, _ := basic["EventSelectors"].([]any); len(sel) != 1 || sel[0].(map[string]any)["ReadWriteType"] != "WriteOnly" {
		t.Fatalf("put-event-selectors (basic): %v", basic)
	}
	aws.json("us-east-1", "cloudtrail", "put-event-selectors", "--trail-name", arn,
		"--advanced-event-selectors", `[{"Name":"all management","FieldSelectors":[{"Field":"eventCategory","Equals":["Management"]}]}]`)

	aws.json("us-east-1", "cloudtrail", "start-logging", "--name", "cli-trail")
	status := aws.json("us-east-1", "cloudtrail", "get-trail-status", "--name", arn)
	if status["IsLogging"] != true || status["StartLoggingTime"] == nil || status["LatestDeliveryTime"] == nil || status["TimeLoggingStarted"] == "" {
		t.Fatalf("get-trail-status after start-logging: %v", status)
	}
	// CLI v2 prints timestamps as ISO 8601, v1 as epoch seconds: either
	// way it decoded the wire's epoch number.
	if s, ok := status["StartLoggingTime"].(string); ok && !strings.HasPrefix(s, time.Now().UTC().Format("2006-01-02")[:4]) {
		t.Errorf("StartLoggingTime %q", s)
	}

	aws.json("us-east-1", "cloudtrail", "stop-logging", "--name", arn)
	status = aws.json("us-east-1", "cloudtrail", "get-trail-status", "--name", "cli-trail")
	if status["IsLogging"] != false || status["StopLoggingTime"] == nil {
		t.Fatalf("get-trail-status after stop-logging: %v", status)
	}

	// In another region the multi-region trail shows as a shadow trail.
	shadows := aws.json("eu-west-1", "cloudtrail", "describe-trails")
	list, _ := shadows["trailList"].([]any)
	if len(list) != 1 {
		t.Fatalf("describe-trails in eu-west-1: %v", shadows)
	}
	tr := list[0].(map[string]any)
	if tr["TrailARN"] != arn || tr["HomeRegion"] != "us-east-1" || tr["HasCustomEventSelectors"] != true {
		t.Errorf("shadow trail: %v", tr)
	}

	sel := aws.json("eu-west-1", "cloudtrail", "get-event-selectors", "--trail-name", arn)
	adv, _ := sel["AdvancedEventSelectors"].([]any)
	if len(adv) != 1 || sel["EventSelectors"] != nil || sel["TrailARN"] != arn {
		t.Errorf("get-event-selectors: %v", sel)
	}

	regions := aws.json("us-east-1", "ec2", "describe-regions", "--all-regions")
	rl, _ := regions["Regions"].([]any)
	optIn := map[string]any{}
	for _, r := range rl {
		m := r.(map[string]any)
		optIn[m["RegionName"].(string)] = m["OptInStatus"]
	}
	if len(rl) != 22 || optIn["af-south-1"] != "not-opted-in" || optIn["us-east-1"] != "opt-in-not-required" {
		t.Errorf("describe-regions --all-regions: %v", optIn)
	}

	// Errors reach the CLI with their code: a failing exit status (254 in v2,
	// 255 in v1) and the code on stderr.
	code, _, errOut := aws.run("us-east-1", "cloudtrail", "get-trail-status", "--name", "no-such-trail")
	if code == 0 || !strings.Contains(errOut, "TrailNotFoundException") {
		t.Errorf("get-trail-status of an unknown trail: exit %d, stderr %q", code, errOut)
	}
	code, _, errOut = aws.run("us-east-1", "cloudtrail", "put-event-selectors", "--trail-name", "cli-trail",
		"--event-selectors", `[{"ReadWriteType":"Sometimes"}]`)
	if code == 0 || !strings.Contains(errOut, "InvalidEventSelectorsException") {
		t.Errorf("put-event-selectors with a bad ReadWriteType: exit %d, stderr %q", code, errOut)
	}

	if got := e.emu.AccountCalls(acctA)["cloudtrail:GetTrailStatus"]; got != 3 {
		t.Errorf("GetTrailStatus calls %d, want 3", got)
	}
	t.Logf("%d CLI invocations in %v", 15, time.Since(start).Round(time.Millisecond))
}
