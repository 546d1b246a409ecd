package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	tgaws "github.com/trailguard/trailguard/aws"
	"github.com/trailguard/trailguard/fix"
	"github.com/trailguard/trailguard/internal/awsemu"
	"github.com/trailguard/trailguard/internal/demo"
)

const fixAcct = "123456789012"

type fixOut struct {
	Summary  fix.Summary `json:"summary"`
	Accounts []struct {
		Account    string   `json:"account"`
		Status     string   `json:"status"`
		Notes      []string `json:"notes"`
		Unreadable []struct {
			Resource, Permission, Error string
		} `json:"unreadable"`
		Steps []struct {
			Action, Why, API, CLI string
		} `json:"steps"`
		Applied *struct {
			Done        []string `json:"done"`
			Summary     string   `json:"summary"`
			Failed      string   `json:"failed"`
			FailedAPI   string   `json:"failed_api"`
			ErrorCode   string   `json:"error_code"`
			Error       string   `json:"error"`
			ErrorDetail string   `json:"error_detail"`
			NotDone     []string `json:"not_done"`
			Undo        []string `json:"undo"`
			StatusAfter string   `json:"status_after"`
		} `json:"applied"`
	} `json:"accounts"`
}

func runFixCLI(t *testing.T, url string, args ...string) (int, fixOut, string) {
	t.Helper()
	code, out, errOut := cli(t, append([]string{"fix", "--endpoint-url", url, "--format", "json"}, args...)...)
	var r fixOut
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("fix output: %v\n%s\n%s", err, out, errOut)
	}
	return code, r, errOut
}

// mutating are the calls a dry run must never make.
var mutating = []string{"cloudtrail:CreateTrail", "cloudtrail:UpdateTrail", "cloudtrail:StartLogging", "cloudtrail:StopLogging",
	"cloudtrail:PutEventSelectors", "cloudtrail:DeleteTrail", "s3:CreateBucket", "s3:PutBucketPolicy", "s3:DeleteBucket",
	"s3:DeleteBucketPolicy", "s3:PutPublicAccessBlock", "s3:PutBucketEncryption"}

func fixEnv(t *testing.T, specs ...awsemu.TrailSpec) (*awsemu.Emulator, string) {
	t.Helper()
	emu := awsemu.New()
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	c := emu.AddAccount(fixAcct)
	for _, s := range specs {
		if _, err := emu.PutTrail(fixAcct, s); err != nil {
			t.Fatal(err)
		}
	}
	isolateAWS(t, c)
	return emu, srv.URL
}

func TestFix_every_failing_state(t *testing.T) {
	multi := func(name string, logging bool, selectors string) awsemu.TrailSpec {
		return awsemu.TrailSpec{Name: name, HomeRegion: "us-west-2", S3BucketName: "existing-logs", IsMultiRegion: true,
			IncludeGlobalServiceEvents: true, Logging: logging, EventSelectorsJSON: selectors}
	}
	dataOnly := `{"EventSelectors":[{"ReadWriteType":"All","IncludeManagementEvents":false,"DataResources":[{"Type":"AWS::S3::Object","Values":["arn:aws:s3:::payroll/"]}]}]}`
	for _, c := range []struct {
		name   string
		specs  []awsemu.TrailSpec
		args   []string
		first  string // the first planned action
		dataIn bool   // a data-event selector must survive
	}{
		{"no_trail", nil, nil, "create-bucket", false},
		{"single_region_only", []awsemu.TrailSpec{{Name: "local", HomeRegion: "us-east-1", S3BucketName: "existing-logs", Logging: true}}, nil, "make-multi-region", false},
		{"stopped", []awsemu.TrailSpec{multi("stopped", false, "")}, nil, "start-logging", false},
		{"read_only_selectors", []awsemu.TrailSpec{multi("reads-only", true, `{"EventSelectors":[{"ReadWriteType":"ReadOnly","IncludeManagementEvents":true}]}`)}, nil, "record-all-management-events", false},
		{"data_events_only", []awsemu.TrailSpec{multi("data", true, dataOnly)}, nil, "record-all-management-events", true},
		{"advanced_read_only", []awsemu.TrailSpec{multi("adv", true, `{"AdvancedEventSelectors":[{"Name":"writes","FieldSelectors":[{"Field":"eventCategory","Equals":["Management"]},{"Field":"readOnly","Equals":["false"]}]},{"Name":"s3","FieldSelectors":[{"Field":"eventCategory","Equals":["Data"]},{"Field":"resources.type","Equals":["AWS::S3::Object"]}]}]}`)}, nil, "record-all-management-events", true},
		{"kms_excluded_under_strict", []awsemu.TrailSpec{multi("kms", true, `{"EventSelectors":[{"ReadWriteType":"All","IncludeManagementEvents":true,"ExcludeManagementEventSources":["kms.amazonaws.com"]}]}`)}, []string{"--strict"}, "record-all-management-events", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			emu, url := fixEnv(t, c.specs...)
			emu.ResetCalls()
			code, dry, _ := runFixCLI(t, url, c.args...)
			if code != 1 || len(dry.Accounts) != 1 || len(dry.Accounts[0].Steps) == 0 || dry.Accounts[0].Steps[0].Action != c.first {
				t.Fatalf("dry run: exit %d plan %+v", code, dry)
			}
			for _, st := range dry.Accounts[0].Steps {
				if st.Why == "" || !strings.HasPrefix(st.CLI, "aws ") || st.API == "" {
					t.Errorf("step %+v lacks why, api or cli", st)
				}
			}
			for _, op := range mutating {
				if n := emu.Calls()[op]; n != 0 {
					t.Errorf("the dry run called %s %d time(s)", op, n)
				}
			}

			code, applied, errOut := runFixCLI(t, url, append(c.args, "--apply")...)
			a := applied.Accounts[0].Applied
			if code != 0 || a == nil || a.StatusAfter != "PASS" || a.Failed != "" {
				t.Fatalf("apply: exit %d %+v %s", code, a, errOut)
			}
			code, again, _ := runFixCLI(t, url, c.args...)
			if code != 0 || len(again.Accounts[0].Steps) != 0 {
				t.Errorf("second run: exit %d, plans %+v", code, again.Accounts[0].Steps)
			}
			for _, op := range []string{"cloudtrail:DeleteTrail", "s3:DeleteBucket", "s3:DeleteBucketPolicy", "cloudtrail:StopLogging"} {
				if emu.Calls()[op] != 0 {
					t.Errorf("%s was called", op)
				}
			}
			if c.dataIn {
				sel := selectorsOf(t, url, "us-west-2", c.specs[0].Name)
				if !strings.Contains(sel, "AWS::S3::Object") {
					t.Errorf("the data-event selector is gone: %s", sel)
				}
			}
		})
	}
}

func selectorsOf(t *testing.T, url, region, name string) string {
	t.Helper()
	cfg, err := tgaws.LoadConfig(context.Background(), tgaws.ConfigOptions{Region: region, EndpointURL: url}, nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := cloudtrail.NewFromConfig(cfg).GetEventSelectors(context.Background(), &cloudtrail.GetEventSelectorsInput{
		TrailName: sdkaws.String("arn:aws:cloudtrail:" + region + ":" + fixAcct + ":trail/" + name)})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(out)
	return string(b)
}

func s3Client(t *testing.T, url string) *s3.Client {
	t.Helper()
	cfg, err := tgaws.LoadConfig(context.Background(), tgaws.ConfigOptions{Region: "us-east-1", EndpointURL: url}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
}

func TestFix_keeps_an_existing_bucket_policy(t *testing.T) {
	emu, url := fixEnv(t)
	client := s3Client(t, url)
	ctx := context.Background()
	const bucket = "team-audit-logs"
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: sdkaws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	existing := `{"Version":"2012-10-17","Statement":[{"Sid":"DenyInsecure","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::` + bucket + `/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`
	if _, err := client.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: sdkaws.String(bucket), Policy: sdkaws.String(existing)}); err != nil {
		t.Fatal(err)
	}
	code, r, errOut := runFixCLI(t, url, "--apply", "--bucket", bucket)
	if code != 0 || r.Accounts[0].Applied.StatusAfter != "PASS" {
		t.Fatalf("exit %d %+v %s", code, r, errOut)
	}
	for _, st := range r.Accounts[0].Steps {
		if st.Action == "create-bucket" {
			t.Error("an existing bucket is created again")
		}
	}
	policy := emu.BucketPolicy(bucket)
	for _, sid := range []string{"DenyInsecure", "TrailguardCloudTrailAclCheck", "TrailguardCloudTrailWrite", "aws:SourceArn"} {
		if !strings.Contains(policy, sid) {
			t.Errorf("policy lacks %s: %s", sid, policy)
		}
	}
}

// A failed --apply says, in text and JSON, what was done, which step
// failed, why in words and with the AWS error code, and what was not
// tried; the first step failing says nothing was changed.
func TestFix_failed_apply_says_what_was_done_and_the_AWS_error_code(t *testing.T) {
	cases := []struct {
		name             string
		fault            awsemu.Fault
		failed, api      string
		code             string
		done             int
		text, jsonPrefix []string
	}{
		{name: "first_step_denied", fault: awsemu.Fault{Service: "s3", Operation: "CreateBucket", Code: "AccessDenied", Message: "Access Denied", HTTPStatus: 403},
			failed: "create-bucket", api: "s3:CreateBucket", code: "AccessDenied", done: 0,
			text: []string{"FAILED: nothing was changed; step 1, create-bucket (s3:CreateBucket), failed: AWS refused it with AccessDenied; 5 not tried",
				"failed:   create-bucket (s3:CreateBucket) [AWS error code AccessDenied]: AWS refused it with AccessDenied: Access Denied (",
				"done:     nothing, the account is as it was", "[AWS error code AccessDenied]", "iam-policy --fix", "not done: block-public-access, "}},
		{name: "service_control_policy_deny", fault: awsemu.Fault{Service: "cloudtrail", Operation: "CreateTrail", Code: "AccessDeniedException",
			Message: "User: arn:aws:iam::" + fixAcct + ":user/ops is not authorized to perform: cloudtrail:CreateTrail with an explicit deny in a service control policy"},
			failed: "create-trail", api: "cloudtrail:CreateTrail", code: "AccessDeniedException", done: 4,
			text: []string{"FAILED: 4 of 6 steps were done (create-bucket, block-public-access, encrypt-bucket, allow-cloudtrail-delivery); step 5, create-trail (cloudtrail:CreateTrail), failed: AWS refused it with AccessDeniedException; 1 not tried", "a service control policy of the organization denies it, which no IAM policy of the account can lift"}},
		{name: "trail_refused_midway", fault: awsemu.Fault{Service: "cloudtrail", Operation: "CreateTrail", Code: "TrailAlreadyExistsException", Message: "Trail exists"},
			failed: "create-trail", api: "cloudtrail:CreateTrail", code: "TrailAlreadyExistsException", done: 4,
			text: []string{"FAILED: 4 of 6 steps were done (create-bucket, block-public-access, encrypt-bucket, allow-cloudtrail-delivery); step 5, create-trail (cloudtrail:CreateTrail), failed: AWS refused it with TrailAlreadyExistsException; 1 not tried (start-logging)\n",
				"[AWS error code TrailAlreadyExistsException]", "not done: start-logging", "To undo what was done"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, format := range []string{"json", "text"} {
				emu, url := fixEnv(t)
				c.fault.Times = -1
				emu.InjectFault(c.fault)
				if format == "json" {
					code, r, _ := runFixCLI(t, url, "--apply")
					a := r.Accounts[0].Applied
					if code != 2 || a == nil || a.Failed != c.failed || a.FailedAPI != c.api || a.ErrorCode != c.code || len(a.Done) != c.done ||
						!strings.Contains(a.Error, "AWS refused it with "+c.code) || !strings.Contains(a.ErrorDetail, "RequestID") || !strings.HasPrefix(c.text[0], "FAILED: "+a.Summary[:20]) {
						t.Errorf("json: exit %d %+v", code, a)
					}
					continue
				}
				code, out, _ := cli(t, "fix", "--endpoint-url", url, "--apply")
				if code != 2 {
					t.Errorf("text: exit %d", code)
				}
				for _, want := range c.text {
					if !strings.Contains(out, want) {
						t.Errorf("text lacks %q:\n%s", want, out)
					}
				}
				if strings.Contains(out, "Applied: \n") {
					t.Errorf("text has an empty Applied:\n%s", out)
				}
			}
		})
	}
}

func TestFix_failure_midway_reports_and_deletes_nothing(t *testing.T) {
	defer func(d time.Duration) { fix.PolicyRetryDelay = d }(fix.PolicyRetryDelay)
	fix.PolicyRetryDelay = 10 * time.Millisecond
	emu, url := fixEnv(t)
	emu.InjectFault(awsemu.Fault{Service: "cloudtrail", Operation: "CreateTrail", Code: "InsufficientS3BucketPolicyException", Message: "Incorrect S3 bucket policy is detected for bucket"})
	code, r, _ := runFixCLI(t, url, "--apply")
	a := r.Accounts[0].Applied
	if code != 2 || a == nil || a.Failed != "create-trail" || !strings.Contains(a.Error, "InsufficientS3BucketPolicyException") {
		t.Fatalf("exit %d %+v", code, a)
	}
	if len(a.Done) == 0 || a.Done[0] != "create-bucket" || len(a.NotDone) != 1 || a.NotDone[0] != "start-logging" || len(a.Undo) == 0 {
		t.Errorf("report %+v", a)
	}
	// The propagation race is retried before giving up.
	if n := emu.Calls()["cloudtrail:CreateTrail"]; n < 2 {
		t.Errorf("CreateTrail tried %d time(s)", n)
	}
	for _, op := range []string{"s3:DeleteBucket", "s3:DeleteBucketPolicy", "cloudtrail:DeleteTrail"} {
		if emu.Calls()[op] != 0 {
			t.Errorf("%s was called after a failure", op)
		}
	}
	if emu.BucketConfig(fix.BucketName(fixAcct), "publicAccessBlock") == "" {
		t.Error("the public access block of the bucket made before the failure is not there")
	}
}

// The plan's AWS CLI commands, run as one shell script by the real AWS
// CLI, reach the same end state as --apply: the account passes and a new
// plan is empty. The commands are valid shell as printed (the key id of
// create-key is carried in KEY_ID, not written as a placeholder).
func TestFix_plan_cli_commands_with_the_real_aws_cli(t *testing.T) {
	cli := awsemu.AWSCLI(t)
	for _, c := range []struct {
		name  string
		specs []awsemu.TrailSpec
		args  []string
		rich  bool // the rich bucket and key of trustEnv
	}{
		{"no_trail", nil, nil, false},
		{"read_only_selectors", []awsemu.TrailSpec{{Name: "reads-only", HomeRegion: "us-west-2", S3BucketName: "existing-logs", IsMultiRegion: true,
			IncludeGlobalServiceEvents: true, Logging: false, EventSelectorsJSON: `{"EventSelectors":[{"ReadWriteType":"ReadOnly","IncludeManagementEvents":true,"DataResources":[{"Type":"AWS::S3::Object","Values":["arn:aws:s3:::payroll/"]}]}]}`}}, nil, false},
		{"create_kms_key", nil, []string{"--create-kms-key", "--expire-days", "400"}, false},
		{"existing_bucket_and_key", nil, []string{"--bucket", trustBucket, "--kms-key", "KEY"}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			var url string
			args := c.args
			if c.rich {
				var key string
				_, url, key = trustEnv(t, c.specs...)
				args = append([]string(nil), args...)
				for i := range args {
					if args[i] == "KEY" {
						args[i] = key
					}
				}
			} else {
				_, url = fixEnv(t, c.specs...)
			}
			_, plan, _ := runFixCLI(t, url, args...)
			if len(plan.Accounts[0].Steps) == 0 {
				t.Fatalf("nothing planned: %+v", plan.Accounts[0])
			}
			script := "set -e\naws() { " + shellQuote(cli) + " --endpoint-url " + shellQuote(url) + ` "$@"; }` + "\n"
			for _, st := range plan.Accounts[0].Steps {
				script += st.CLI + " >/dev/null\n"
			}
			runShell(t, script)
			code, after, _ := runFixCLI(t, url, args...)
			if code != 0 || len(after.Accounts[0].Steps) != 0 {
				t.Errorf("after the CLI commands: exit %d, still plans %+v\n%s", code, after.Accounts[0].Steps, script)
			}
			if len(c.specs) > 0 && !strings.Contains(selectorsOf(t, url, "us-west-2", c.specs[0].Name), "payroll") {
				t.Error("the data-event selector did not survive the CLI commands")
			}
		})
	}
}

// runShell runs a bash script with the test's AWS settings, as a user's
// shell would have them.
func runShell(t *testing.T, script string) string {
	t.Helper()
	cmd := exec.Command("bash", "-c", script)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasSuffix(kv, "=") || !strings.HasPrefix(kv, "AWS_") { // the CLI refuses an empty AWS_PROFILE
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "AWS_PAGER=", "AWS_DEFAULT_REGION=us-east-1", "AWS_DEFAULT_OUTPUT=json")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s\nscript:\n%s", err, out, script)
	}
	return string(out)
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// 'fix --apply' works with exactly what 'iam-policy --fix' prints, and
// the dry run with what 'iam-policy' (the audit policy) prints.
func TestFix_with_exactly_the_documented_permissions(t *testing.T) {
	actions := func(args ...string) []string {
		code, out, _ := cli(t, append([]string{"iam-policy"}, args...)...)
		var p struct{ Statement []struct{ Action []string } }
		if code != 0 || json.Unmarshal([]byte(out), &p) != nil {
			t.Fatalf("iam-policy %v: exit %d %s", args, code, out)
		}
		var all []string
		for _, s := range p.Statement {
			all = append(all, s.Action...)
		}
		return all
	}
	emu, url := fixEnv(t)
	emu.AllowOnly(fixAcct, actions()...)
	// The audit policy cannot look at the bucket: the dry run says so,
	// names the permission, and plans nothing it could not read.
	if code, r, errOut := runFixCLI(t, url); code != 2 || len(r.Accounts[0].Steps) != 0 || len(r.Accounts[0].Unreadable) != 1 || r.Accounts[0].Unreadable[0].Permission != "s3:ListBucket" {
		t.Fatalf("dry run with the audit policy: exit %d %+v %s", code, r, errOut)
	}
	emu.AllowOnly(fixAcct, actions("--fix")...)
	code, r, errOut := runFixCLI(t, url, "--apply", "--create-kms-key")
	if code != 0 || r.Accounts[0].Applied.StatusAfter != "PASS" {
		t.Fatalf("apply with the fix policy: exit %d %+v %s", code, r.Accounts[0].Applied, errOut)
	}
}

func TestFix_lifecycle_for_a_new_bucket(t *testing.T) {
	emu, url := fixEnv(t)
	code, r, errOut := runFixCLI(t, url, "--apply", "--transition-days", "90", "--expire-days", "400")
	if code != 0 || r.Accounts[0].Applied.StatusAfter != "PASS" {
		t.Fatalf("exit %d %+v %s", code, r, errOut)
	}
	rule := emu.BucketConfig(fix.BucketName(fixAcct), "lifecycle")
	for _, want := range []string{"<Days>90</Days>", "GLACIER", "<Days>400</Days>", "AWSLogs/"} {
		if !strings.Contains(rule, want) {
			t.Errorf("lifecycle lacks %s: %s", want, rule)
		}
	}
	if code, _, errOut := cli(t, "fix", "--endpoint-url", url, "--transition-days", "400", "--expire-days", "90"); code != 2 || !strings.Contains(errOut, "expiry") {
		t.Errorf("transition after expiry: exit %d %q", code, errOut)
	}
}

// --emit writes the end state as code that the iac check itself passes,
// keeping the trail's data-event selectors.
func TestFix_emit_code_that_passes_the_iac_check(t *testing.T) {
	states := map[string][]awsemu.TrailSpec{
		"no_trail": nil,
		"data_events_only": {{Name: "data", HomeRegion: "us-east-1", S3BucketName: "existing-logs", IsMultiRegion: true, Logging: true,
			EventSelectorsJSON: `{"EventSelectors":[{"ReadWriteType":"All","IncludeManagementEvents":false,"DataResources":[{"Type":"AWS::S3::Object","Values":["arn:aws:s3:::payroll/"]}]}]}`}},
	}
	for name, specs := range states {
		for _, emit := range []string{"terraform", "cloudformation"} {
			t.Run(name+"/"+emit, func(t *testing.T) {
				_, url := fixEnv(t, specs...)
				code, out, errOut := cli(t, "fix", "--endpoint-url", url, "--emit", emit, "--create-kms-key", "--expire-days", "400")
				if code != 0 || out == "" {
					t.Fatalf("exit %d %s", code, errOut)
				}
				dir := t.TempDir()
				file := filepath.Join(dir, "main.tf")
				if emit == "cloudformation" {
					file = filepath.Join(dir, "template.yaml")
				}
				os.WriteFile(file, []byte(out), 0o644)
				code, rep, errOut := cli(t, "iac", dir, "--format", "json")
				var r struct {
					Results []struct{ Resource, Status string }
				}
				json.Unmarshal([]byte(rep), &r)
				trails := 0
				for _, res := range r.Results {
					if res.Status != "PASS" {
						t.Errorf("%s: %s\n%s", res.Resource, res.Status, out)
					}
					trails++
				}
				if code != 0 || trails != 1 {
					t.Errorf("iac on the emitted code: exit %d, %d results %s\n%s", code, trails, errOut, out)
				}
				if name == "no_trail" && !strings.Contains(out, "cloudtrail.amazonaws.com") {
					t.Errorf("no key policy for CloudTrail in the emitted code:\n%s", out)
				}
				if name == "data_events_only" && !strings.Contains(out, "arn:aws:s3:::payroll/") {
					t.Errorf("the data-event selector is not in the emitted code:\n%s", out)
				}
			})
		}
	}
}

// fix --org plans per account through the member role and, applied,
// leaves every account it could read passing.
func TestFix_org(t *testing.T) {
	_, url, org := generatedOrg(t, 12, 39)
	code, dry, errOut := runFixCLI(t, url, "--org")
	if code != 1 || len(dry.Accounts) != len(org.Accounts) {
		t.Fatalf("dry run: exit %d, %d plans for %d accounts %s", code, len(dry.Accounts), len(org.Accounts), errOut)
	}
	want := map[string]string{}
	for _, a := range org.Accounts {
		want[a.ID] = a.Want
	}
	count := map[string]int{}
	steps, kinds := 0, map[fix.Action]int{}
	for _, p := range dry.Accounts {
		count[want[p.Account]]++
		if (want[p.Account] == "FAIL") != (len(p.Steps) > 0) {
			t.Errorf("%s (%s): %d steps", p.Account, want[p.Account], len(p.Steps))
		}
		for _, st := range p.Steps {
			steps++
			kinds[fix.Action(st.Action)]++
		}
	}
	// The summary totals the plans: accounts with steps, steps by kind,
	// accounts not planned and why.
	sum := dry.Summary
	if sum.Accounts != len(org.Accounts) || sum.WithSteps != count["FAIL"] || sum.Passing != count["PASS"] ||
		len(sum.NotPlanned) != count["UNKNOWN"]+count["ERROR"] || sum.Steps != steps || !maps.Equal(sum.StepsByKind, kinds) {
		t.Errorf("summary %+v; want %d accounts, %v by verdict, %d steps %v", sum, len(org.Accounts), count, steps, kinds)
	}
	for _, n := range sum.NotPlanned {
		if n.Why == "" || string(n.Status) != want[n.Account] {
			t.Errorf("not planned %+v, want why and the verdict %s", n, want[n.Account])
		}
	}
	_, text, _ := cli(t, "fix", "--org", "--endpoint-url", url)
	stepWord := "steps"
	if steps == 1 {
		stepWord = "step"
	}
	if !strings.HasPrefix(text, fmt.Sprintf("Summary: %d accounts: %d pass with nothing to do, %d with steps (%d %s), %d not planned\n  steps by kind: ",
		len(org.Accounts), count["PASS"], count["FAIL"], steps, stepWord, count["UNKNOWN"]+count["ERROR"])) || !strings.Contains(text, "  not planned:\n") {
		t.Errorf("text does not begin with the summary:\n%s", text[:min(len(text), 600)])
	}
	code, applied, errOut := runFixCLI(t, url, "--org", "--apply")
	if code != 2 { // the account without a role and the unreadable one stay as they are
		t.Errorf("apply: exit %d %s", code, errOut)
	}
	if a := applied.Summary; a.Applied != count["FAIL"] || a.Failed != 0 || a.PassingAfter != count["FAIL"] {
		t.Errorf("applied summary %+v, want %d applied and passing after", a, count["FAIL"])
	}
	code, out, _ := cli(t, "scan", "--org", "--endpoint-url", url, "--format", "json")
	got := statuses(parseReport(t, out))
	for id, w := range want {
		after := map[string]string{"FAIL": "PASS"}[w]
		if after == "" {
			after = w
		}
		if got[id] != after {
			t.Errorf("%s: %s after fix --org --apply, want %s", id, got[id], after)
		}
	}
	if code != 2 {
		t.Errorf("scan after: exit %d", code)
	}
}

func TestFix_kms(t *testing.T) {
	t.Run("create_kms_key", func(t *testing.T) {
		_, url := fixEnv(t)
		code, r, errOut := runFixCLI(t, url, "--apply", "--create-kms-key")
		a := r.Accounts[0].Applied
		if code != 0 || a.StatusAfter != "PASS" {
			t.Fatalf("exit %d %+v %s", code, a, errOut)
		}
		if got := strings.Join(a.Done, " "); !strings.Contains(got, "create-kms-key alias-kms-key enable-key-rotation") {
			t.Errorf("done %s", got)
		}
		if code, again, _ := runFixCLI(t, url, "--create-kms-key"); code != 0 || len(again.Accounts[0].Steps) != 0 {
			t.Errorf("second run plans %+v", again.Accounts[0].Steps)
		}
	})
	t.Run("existing_key_gets_cloudtrail_statement", func(t *testing.T) {
		_, url := fixEnv(t)
		cfg, _ := tgaws.LoadConfig(context.Background(), tgaws.ConfigOptions{Region: "us-east-1", EndpointURL: url}, nil)
		km := kms.NewFromConfig(cfg)
		k, err := km.CreateKey(context.Background(), &kms.CreateKeyInput{})
		if err != nil {
			t.Fatal(err)
		}
		id := sdkaws.ToString(k.KeyMetadata.KeyId)
		code, r, errOut := runFixCLI(t, url, "--apply", "--kms-key", id)
		if code != 0 || r.Accounts[0].Applied.StatusAfter != "PASS" {
			t.Fatalf("exit %d %+v %s", code, r.Accounts[0].Applied, errOut)
		}
		p, _ := km.GetKeyPolicy(context.Background(), &kms.GetKeyPolicyInput{KeyId: &id, PolicyName: sdkaws.String("default")})
		if pol := sdkaws.ToString(p.Policy); !strings.Contains(pol, "Enable IAM User Permissions") || !strings.Contains(pol, "cloudtrail.amazonaws.com") {
			t.Errorf("key policy %s: the existing statement must stay and CloudTrail's be added", pol)
		}
	})
	t.Run("missing_key", func(t *testing.T) {
		_, url := fixEnv(t)
		code, r, _ := runFixCLI(t, url, "--kms-key", "alias/nope")
		if len(r.Accounts[0].Steps) != 0 || len(r.Accounts[0].Notes) == 0 || code != 1 {
			t.Errorf("exit %d plan %+v", code, r.Accounts[0])
		}
	})
}

// --organization-trail puts one organization trail in the management
// account, and every member with a role passes without a trail of its own.
func TestFix_organization_trail(t *testing.T) {
	emu := awsemu.New()
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	org, err := demo.BuildOrg(emu, demo.OrgSpec{Accounts: 12, Seed: 39, Empty: true})
	if err != nil {
		t.Fatal(err)
	}
	isolateAWS(t, org.Management)
	code, r, errOut := runFixCLI(t, srv.URL, "--organization-trail", "--apply")
	if code != 0 || r.Accounts[0].Applied == nil || r.Accounts[0].Applied.StatusAfter != "PASS" {
		t.Fatalf("exit %d %+v %s", code, r, errOut)
	}
	// A new organization has no trusted access for CloudTrail: it is
	// enabled first, or CreateTrail is refused.
	if steps := r.Accounts[0].Steps; len(steps) == 0 || steps[0].Action != string(fix.ActionEnableTrustedAccess) || steps[0].API != "organizations:EnableAWSServiceAccess" {
		t.Errorf("first step %+v, want %s", steps, fix.ActionEnableTrustedAccess)
	}
	for _, st := range r.Accounts[0].Steps {
		if st.Action == "create-trail" && !strings.Contains(st.CLI, "--is-organization-trail") {
			t.Errorf("not an organization trail: %s", st.CLI)
		}
	}
	_, out, _ := cli(t, "scan", "--org", "--endpoint-url", srv.URL, "--format", "json")
	got := statuses(parseReport(t, out))
	for _, a := range org.Accounts {
		want := "PASS"
		if a.Want == "ERROR" {
			want = "ERROR"
		}
		if got[a.ID] != want {
			t.Errorf("%s: %s, want %s", a.ID, got[a.ID], want)
		}
	}
	if code, again, _ := runFixCLI(t, srv.URL, "--organization-trail"); code != 0 || len(again.Accounts[0].Steps) != 0 {
		t.Errorf("second run: exit %d %+v", code, again.Accounts[0].Steps)
	}
	// From a member it is refused.
	isolateAWS(t, org.Accounts[1].Credentials)
	if code, _, errOut := cli(t, "fix", "--endpoint-url", srv.URL, "--organization-trail"); code != 2 || !strings.Contains(errOut, "management account") {
		t.Errorf("from a member: exit %d %q", code, errOut)
	}
}

// Facts of the rich environment the trust tests start from: the caller's
// own bucket in us-east-1 with a policy that denies insecure transport,
// an SSE-KMS default, a partial public access block; and a KMS key whose
// policy holds a custom Deny.
const (
	trustBucket   = "team-audit-logs"
	denyInsecure  = `{"Version":"2012-10-17","Statement":[{"Sid":"DenyInsecure","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::team-audit-logs/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`
	keyPolicyDeny = `{"Version":"2012-10-17","Statement":[{"Sid":"Admin","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"},{"Sid":"NoDecryptOutside","Effect":"Deny","Principal":"*","Action":"kms:Decrypt","Resource":"*","Condition":{"StringNotEquals":{"aws:PrincipalAccount":"123456789012"}}}]}`
)

// trustEnv is fixEnv with the rich bucket and key; it returns the key id.
func trustEnv(t *testing.T, specs ...awsemu.TrailSpec) (*awsemu.Emulator, string, string) {
	t.Helper()
	emu, url := fixEnv(t, specs...)
	ctx := context.Background()
	client := s3Client(t, url)
	b := sdkaws.String(trustBucket)
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: b}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: b, Policy: sdkaws.String(denyInsecure)}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: b, ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{
		Rules: []s3types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAwsKms, KMSMasterKeyID: sdkaws.String("alias/team")}}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: b, PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{BlockPublicAcls: sdkaws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	cfg, _ := tgaws.LoadConfig(ctx, tgaws.ConfigOptions{Region: "us-east-1", EndpointURL: url}, nil)
	k, err := kms.NewFromConfig(cfg).CreateKey(ctx, &kms.CreateKeyInput{Policy: sdkaws.String(keyPolicyDeny)})
	if err != nil {
		t.Fatal(err)
	}
	emu.ResetCalls()
	return emu, url, sdkaws.ToString(k.KeyMetadata.KeyId)
}

// readCases are the reads a fix plan depends on, each with the operation
// to fail, the IAM action that would let it succeed, and the situation in
// which the plan needs it.
func readCases() []struct {
	name, op, action string
	specs            []awsemu.TrailSpec
	args             func(key string) []string
} {
	bucket := func(extra ...string) func(string) []string {
		return func(string) []string { return append([]string{"--bucket", trustBucket}, extra...) }
	}
	withKey := func(key string) []string { return []string{"--bucket", trustBucket, "--kms-key", key} }
	stopped := []awsemu.TrailSpec{{Name: "stopped", HomeRegion: "us-east-1", S3BucketName: trustBucket, IsMultiRegion: true, IncludeGlobalServiceEvents: true}}
	return []struct {
		name, op, action string
		specs            []awsemu.TrailSpec
		args             func(key string) []string
	}{
		{"head_bucket", "HeadBucket", "s3:ListBucket", nil, bucket()},
		{"bucket_policy", "GetBucketPolicy", "s3:GetBucketPolicy", nil, bucket()},
		{"public_access_block", "GetPublicAccessBlock", "s3:GetBucketPublicAccessBlock", nil, bucket()},
		{"bucket_encryption", "GetBucketEncryption", "s3:GetEncryptionConfiguration", nil, bucket()},
		{"bucket_lifecycle", "GetBucketLifecycleConfiguration", "s3:GetLifecycleConfiguration", nil, bucket("--transition-days", "30")},
		{"describe_key", "DescribeKey", "kms:DescribeKey", nil, withKey},
		{"key_policy", "GetKeyPolicy", "kms:GetKeyPolicy", nil, withKey},
		{"trail_status", "GetTrailStatus", "cloudtrail:GetTrailStatus", stopped, bucket()},
		{"event_selectors", "GetEventSelectors", "cloudtrail:GetEventSelectors", stopped, bucket()},
	}
}

// A read the plan depends on that fails — denied, throttled beyond the
// retries, or a server error — stops the plan of the account: the dry run
// and --apply both name the permission, exit 2, and --apply leaves every
// bucket, policy, key and trail of the emulator byte for byte as it was.
func TestFix_read_failure_stops_the_plan(t *testing.T) {
	kinds := []struct {
		name   string
		inject func(emu *awsemu.Emulator, op, action string)
	}{
		{"access_denied", func(emu *awsemu.Emulator, _, action string) { emu.Deny(action) }},
		{"throttled_beyond_retries", func(emu *awsemu.Emulator, op, action string) {
			code := "ThrottlingException"
			if strings.HasPrefix(action, "s3:") {
				code = "SlowDown"
			}
			emu.InjectFault(awsemu.Fault{Operation: op, Code: code})
		}},
		{"server_error", func(emu *awsemu.Emulator, op, _ string) {
			emu.InjectFault(awsemu.Fault{Operation: op, Code: "ServiceUnavailable"})
		}},
	}
	for _, rc := range readCases() {
		for _, k := range kinds {
			t.Run(rc.name+"/"+k.name, func(t *testing.T) {
				emu, url, key := trustEnv(t, rc.specs...)
				before := emu.State()
				k.inject(emu, rc.op, rc.action)
				args := append(rc.args(key), "--max-attempts", "2")
				for _, apply := range []bool{false, true} {
					a := args
					if apply {
						a = append(a, "--apply")
					}
					code, r, errOut := runFixCLI(t, url, a...)
					p := r.Accounts[0]
					if code != 2 || len(p.Steps) != 0 || p.Applied != nil {
						t.Fatalf("apply=%v: exit %d, steps %+v, applied %+v, want exit 2 and nothing planned (%s)", apply, code, p.Steps, p.Applied, errOut)
					}
					if len(p.Unreadable) == 0 || p.Unreadable[0].Permission != rc.action {
						t.Errorf("apply=%v: unreadable %+v, want the permission %s named", apply, p.Unreadable, rc.action)
					}
					if notes := strings.Join(p.Notes, " "); !strings.Contains(notes, rc.action) {
						t.Errorf("apply=%v: the notes do not name %s: %s", apply, rc.action, notes)
					}
					if strings.HasPrefix(rc.action, "kms:") && !strings.Contains(p.Unreadable[0].Resource, key) {
						t.Errorf("the unreadable resource is %q, not the key %s", p.Unreadable[0].Resource, key)
					}
				}
				for _, op := range mutating {
					if n := emu.Calls()[op]; n != 0 {
						t.Errorf("%s was called %d time(s)", op, n)
					}
				}
				if after := emu.State(); after != before {
					t.Errorf("the emulator's state changed:\nbefore %s\nafter %s", before, after)
				}
			})
		}
	}
}

// With every read answering, the same rich bucket and key keep what they
// have: the policy's Deny, the SSE-KMS default, the key policy's Deny; the
// public access block is completed; the account passes.
func TestFix_existing_bucket_and_key_keep_what_they_have(t *testing.T) {
	emu, url, key := trustEnv(t)
	code, r, errOut := runFixCLI(t, url, "--apply", "--bucket", trustBucket, "--kms-key", key, "--transition-days", "30")
	if code != 0 || r.Accounts[0].Applied == nil || r.Accounts[0].Applied.StatusAfter != "PASS" {
		t.Fatalf("exit %d %+v %s", code, r, errOut)
	}
	var actions []string
	for _, st := range r.Accounts[0].Steps {
		actions = append(actions, st.Action)
	}
	if got := strings.Join(actions, " "); got != "block-public-access set-lifecycle allow-cloudtrail-delivery allow-cloudtrail-encryption create-trail start-logging" {
		t.Errorf("steps %s", got)
	}
	if pol := emu.BucketPolicy(trustBucket); !strings.Contains(pol, "DenyInsecure") || !strings.Contains(pol, "aws:SecureTransport") {
		t.Errorf("the bucket policy lost its Deny: %s", pol)
	}
	if enc := emu.BucketConfig(trustBucket, "encryption"); !strings.Contains(enc, "aws:kms") || !strings.Contains(enc, "alias/team") {
		t.Errorf("the SSE-KMS default was replaced: %s", enc)
	}
	if pab := emu.BucketConfig(trustBucket, "publicAccessBlock"); strings.Count(pab, "true") != 4 {
		t.Errorf("public access block %s", pab)
	}
	cfg, _ := tgaws.LoadConfig(context.Background(), tgaws.ConfigOptions{Region: "us-east-1", EndpointURL: url}, nil)
	p, err := kms.NewFromConfig(cfg).GetKeyPolicy(context.Background(), &kms.GetKeyPolicyInput{KeyId: &key, PolicyName: sdkaws.String("default")})
	if err != nil || !strings.Contains(sdkaws.ToString(p.Policy), "NoDecryptOutside") {
		t.Errorf("the key policy lost its Deny: %v %s", err, sdkaws.ToString(p.Policy))
	}
}

// A member whose organization trail is healthy but unreadable to it
// (status and selectors denied) is UNKNOWN: no bucket or trail is planned
// (it would be a paid duplicate of the organization's), the plan names
// what could not be read and the permissions, and --apply changes nothing.
func TestFix_member_with_unreadable_organization_trail_plans_nothing(t *testing.T) {
	const mgmt = "111111111111"
	emu, url := fixEnv(t)
	emu.AddAccount(mgmt)
	emu.SetOrganization(mgmt, fixAcct)
	if _, err := emu.PutTrail(mgmt, awsemu.TrailSpec{Name: "org-audit", S3BucketName: "org-logs", IsMultiRegion: true, IsOrganizationTrail: true,
		IncludeGlobalServiceEvents: true, Logging: true}); err != nil {
		t.Fatal(err)
	}
	emu.SetMemberOrgTrailAccess(true)
	before := emu.State()
	for _, args := range [][]string{nil, {"--apply"}} {
		code, r, errOut := runFixCLI(t, url, args...)
		p := r.Accounts[0]
		if code != 2 || len(p.Steps) != 0 || p.Applied != nil {
			t.Fatalf("%v: exit %d %+v %s", args, code, p, errOut)
		}
		perms := map[string]bool{}
		for _, u := range p.Unreadable {
			perms[u.Permission] = true
			if !strings.Contains(u.Resource, "org-audit") {
				t.Errorf("unreadable %+v does not name the organization trail", u)
			}
		}
		if !perms["cloudtrail:GetTrailStatus"] || !perms["cloudtrail:GetEventSelectors"] {
			t.Errorf("%v: unreadable %+v, want both reads named", args, p.Unreadable)
		}
	}
	if emu.State() != before {
		t.Error("the emulator's state changed")
	}
}

// --emit over an existing bucket whose policy holds template characters
// beside the bucket's ARN writes code that the iac check still passes, and
// that hard-codes no account: the references are written around the text.
func TestFix_emit_existing_bucket_policy_passes_the_iac_check(t *testing.T) {
	for _, emit := range []string{"terraform", "cloudformation"} {
		t.Run(emit, func(t *testing.T) {
			_, url := fixEnv(t)
			client := s3Client(t, url)
			ctx := context.Background()
			const bucket = "team-logs"
			if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: sdkaws.String(bucket)}); err != nil {
				t.Fatal(err)
			}
			pol := `{"Version":"2012-10-17","Statement":[{"Sid":"U","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + fixAcct + `:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::` + bucket + `/${aws:username}/*"}]}`
			if _, err := client.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: sdkaws.String(bucket), Policy: sdkaws.String(pol)}); err != nil {
				t.Fatal(err)
			}
			code, out, errOut := cli(t, "fix", "--endpoint-url", url, "--emit", emit, "--bucket", bucket)
			if code != 0 || out == "" {
				t.Fatalf("exit %d %s", code, errOut)
			}
			if strings.Contains(out, "/AWSLogs/"+fixAcct+"/") || strings.Contains(out, "cloudtrail:us-east-1:"+fixAcct) {
				t.Errorf("the account or region is hard-coded:\n%s", out)
			}
			if !strings.Contains(out, "${aws:username}") {
				t.Errorf("the policy's own variable is lost:\n%s", out)
			}
			dir := t.TempDir()
			file := filepath.Join(dir, "main.tf")
			if emit == "cloudformation" {
				file = filepath.Join(dir, "template.yaml")
			}
			if err := os.WriteFile(file, []byte(out), 0o644); err != nil {
				t.Fatal(err)
			}
			if code, rep, errOut := cli(t, "iac", dir); code != 0 || !strings.Contains(rep, "PASS") {
				t.Errorf("iac on the emitted code: exit %d %s %s\n%s", code, rep, errOut, out)
			}
		})
	}
}

// With no steps, fix says why in every output: an account that passes has
// nothing to do; an UNKNOWN or ERROR account cannot be planned without
// the facts that could not be read, which are named with the permission.
func TestFix_says_why_nothing_is_planned(t *testing.T) {
	const mgmt = "111111111111"
	cases := []struct {
		name   string
		setup  func(emu *awsemu.Emulator)
		status string
		code   int
		text   []string
		emit   string
	}{
		{name: "passing_account", status: "PASS", code: 0,
			setup: func(emu *awsemu.Emulator) {
				if _, err := emu.PutTrail(fixAcct, awsemu.TrailSpec{Name: "main", S3BucketName: "logs", IsMultiRegion: true, IncludeGlobalServiceEvents: true, Logging: true}); err != nil {
					t.Fatal(err)
				}
			},
			text: []string{"nothing to do: the account passes CIS 3.1"}, emit: "# nothing to do: account " + fixAcct + " passes CIS 3.1"},
		{name: "unknown_account_unreadable_organization_trail", status: "UNKNOWN", code: 2,
			setup: func(emu *awsemu.Emulator) {
				emu.AddAccount(mgmt)
				emu.SetOrganization(mgmt, fixAcct)
				if _, err := emu.PutTrail(mgmt, awsemu.TrailSpec{Name: "org-audit", S3BucketName: "org-logs", IsMultiRegion: true, IsOrganizationTrail: true,
					IncludeGlobalServiceEvents: true, Logging: true}); err != nil {
					t.Fatal(err)
				}
				emu.SetMemberOrgTrailAccess(true)
			},
			text: []string{"cannot plan: the verdict is UNKNOWN", "needs cloudtrail:GetTrailStatus", "needs cloudtrail:GetEventSelectors"},
			emit: "the verdict is UNKNOWN: no end state can be written"},
		{name: "error_account_trails_not_listed", status: "ERROR", code: 2,
			setup: func(emu *awsemu.Emulator) {
				emu.InjectFault(awsemu.Fault{Service: "cloudtrail", Operation: "DescribeTrails", Code: "AccessDeniedException", Message: "not authorized", Times: -1})
			},
			text: []string{"cannot plan: the verdict is ERROR", "needs cloudtrail:DescribeTrails"},
			emit: "the verdict is ERROR: no end state can be written"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			emu, url := fixEnv(t)
			c.setup(emu)
			code, r, _ := runFixCLI(t, url)
			if code != c.code || len(r.Accounts) != 1 || r.Accounts[0].Status != c.status || len(r.Accounts[0].Steps) != 0 {
				t.Errorf("json: exit %d %+v, want %d and status %s", code, r, c.code, c.status)
			}
			code, out, _ := cli(t, "fix", "--endpoint-url", url)
			for _, want := range c.text {
				if !strings.Contains(out, want) {
					t.Errorf("text lacks %q:\n%s", want, out)
				}
			}
			if c.status != "PASS" && strings.Contains(out, "nothing to do") {
				t.Errorf("a %s account is said to have nothing to do:\n%s", c.status, out)
			}
			for _, emit := range []string{"terraform", "cloudformation"} {
				_, out, _ := cli(t, "fix", "--endpoint-url", url, "--emit", emit)
				if !strings.Contains(out, c.emit) {
					t.Errorf("--emit %s lacks %q:\n%s", emit, c.emit, out)
				}
			}
		})
	}
}

// A bucket policy that already holds the fix's statement ids for another
// trail gets this trail's statements too (matched by content, not Sid),
// under Sids of their own; CreateTrail then accepts the bucket.
func TestFix_bucket_policy_with_another_trails_statement_ids(t *testing.T) {
	emu, url := fixEnv(t)
	client := s3Client(t, url)
	ctx := context.Background()
	const bucket = "shared-audit-logs"
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: sdkaws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	other := "arn:aws:cloudtrail:us-east-1:" + fixAcct + ":trail/other"
	old := `{"Version":"2012-10-17","Statement":[` +
		`{"Sid":"TrailguardCloudTrailAclCheck","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:GetBucketAcl","Resource":"arn:aws:s3:::` + bucket + `","Condition":{"StringEquals":{"aws:SourceArn":"` + other + `"}}},` +
		`{"Sid":"TrailguardCloudTrailWrite","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::` + bucket + `/AWSLogs/` + fixAcct + `/*","Condition":{"StringEquals":{"s3:x-amz-acl":"bucket-owner-full-control","aws:SourceArn":"` + other + `"}}}]}`
	if _, err := client.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: sdkaws.String(bucket), Policy: sdkaws.String(old)}); err != nil {
		t.Fatal(err)
	}
	code, r, errOut := runFixCLI(t, url, "--apply", "--bucket", bucket)
	if code != 0 || r.Accounts[0].Applied.StatusAfter != "PASS" {
		t.Fatalf("exit %d %+v %s", code, r.Accounts[0], errOut)
	}
	var doc struct{ Statement []map[string]any }
	if err := json.Unmarshal([]byte(emu.BucketPolicy(bucket)), &doc); err != nil {
		t.Fatal(err)
	}
	sids := map[string]bool{}
	for _, s := range doc.Statement {
		sid, _ := s["Sid"].(string)
		if sids[sid] {
			t.Errorf("Sid %s is used twice", sid)
		}
		sids[sid] = true
	}
	if len(doc.Statement) != 4 || !sids["TrailguardCloudTrailAclCheck"] || !sids["TrailguardCloudTrailWrite"] {
		t.Errorf("want the other trail's two statements kept and two added: %s", emu.BucketPolicy(bucket))
	}
	if code, again, _ := runFixCLI(t, url, "--bucket", bucket); code != 0 || len(again.Accounts[0].Steps) != 0 {
		t.Errorf("second run: exit %d %+v", code, again.Accounts[0].Steps)
	}
}

// A trail with the five basic selectors AWS allows, all for data events,
// is fixed within the limit, every data resource kept.
func TestFix_five_basic_data_selectors(t *testing.T) {
	sel := func(rw string, bucket string) string {
		return `{"ReadWriteType":"` + rw + `","IncludeManagementEvents":false,"DataResources":[{"Type":"AWS::S3::Object","Values":["arn:aws:s3:::` + bucket + `/"]}]}`
	}
	for _, c := range []struct {
		name string
		rws  []string
	}{
		{"one_selector_is_all", []string{"ReadOnly", "WriteOnly", "All", "ReadOnly", "WriteOnly"}},
		{"none_is_all", []string{"ReadOnly", "WriteOnly", "ReadOnly", "WriteOnly", "ReadOnly"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var parts []string
			for i, rw := range c.rws {
				parts = append(parts, sel(rw, fmt.Sprintf("data-%d", i)))
			}
			spec := awsemu.TrailSpec{Name: "data", HomeRegion: "us-east-1", S3BucketName: "existing-logs", IsMultiRegion: true, IncludeGlobalServiceEvents: true,
				Logging: true, EventSelectorsJSON: `{"EventSelectors":[` + strings.Join(parts, ",") + `]}`}
			_, url := fixEnv(t, spec)
			code, r, errOut := runFixCLI(t, url, "--apply")
			if code != 0 || r.Accounts[0].Applied == nil || r.Accounts[0].Applied.StatusAfter != "PASS" {
				t.Fatalf("exit %d %+v %s", code, r.Accounts[0], errOut)
			}
			got := selectorsOf(t, url, "us-east-1", "data")
			var out struct{ EventSelectors []json.RawMessage }
			json.Unmarshal([]byte(got), &out)
			if len(out.EventSelectors) > 5 {
				t.Errorf("%d selectors", len(out.EventSelectors))
			}
			for i := range c.rws {
				if !strings.Contains(got, fmt.Sprintf("arn:aws:s3:::data-%d/", i)) {
					t.Errorf("data resource %d lost: %s", i, got)
				}
			}
		})
	}
}

// When --apply stops midway, the undo hints are computed from what was
// read: the bucket policy and the key policy are put back as they were
// (never deleted, never emptied), and run by the real AWS CLI they restore
// both documents byte for byte.
func TestFix_undo_restores_what_was_read(t *testing.T) {
	defer func(d time.Duration) { fix.PolicyRetryDelay = d }(fix.PolicyRetryDelay)
	fix.PolicyRetryDelay = time.Millisecond
	emu, url, key := trustEnv(t)
	emu.InjectFault(awsemu.Fault{Service: "cloudtrail", Operation: "CreateTrail", Code: "InsufficientS3BucketPolicyException", Message: "Incorrect S3 bucket policy is detected for bucket"})
	code, r, errOut := runFixCLI(t, url, "--apply", "--bucket", trustBucket, "--kms-key", key)
	a := r.Accounts[0].Applied
	if code != 2 || a == nil || a.Failed != "create-trail" {
		t.Fatalf("exit %d %+v %s", code, a, errOut)
	}
	undo := strings.Join(a.Undo, "\n")
	for _, bad := range []string{"delete-bucket-policy", "--policy ''", "s3 rb", "delete-bucket-encryption"} {
		if strings.Contains(undo, bad) {
			t.Errorf("undo holds %q for something that existed before:\n%s", bad, undo)
		}
	}
	for _, want := range []string{"put-bucket-policy", "put-key-policy", "BlockPublicAcls=true,IgnorePublicAcls=false"} {
		if !strings.Contains(undo, want) {
			t.Errorf("undo lacks %s:\n%s", want, undo)
		}
	}
	cli := awsemu.AWSCLI(t)
	runShell(t, "set -e\naws() { "+shellQuote(cli)+" --endpoint-url "+shellQuote(url)+` "$@"; }`+"\n"+undo+"\n")
	if got := emu.BucketPolicy(trustBucket); got != denyInsecure {
		t.Errorf("bucket policy after undo:\n%s\nwant\n%s", got, denyInsecure)
	}
	cfg, _ := tgaws.LoadConfig(context.Background(), tgaws.ConfigOptions{Region: "us-east-1", EndpointURL: url}, nil)
	p, err := kms.NewFromConfig(cfg).GetKeyPolicy(context.Background(), &kms.GetKeyPolicyInput{KeyId: &key, PolicyName: sdkaws.String("default")})
	if err != nil || sdkaws.ToString(p.Policy) != keyPolicyDeny {
		t.Errorf("key policy after undo: %v %s", err, sdkaws.ToString(p.Policy))
	}
}

// writeNeedsRead says, for a write call, which earlier call of the same
// resource proves its state was read in the same run: the read must have
// answered (2xx) or said definitely that the resource does not exist.
var writeNeedsRead = map[string][]string{
	"CreateBucket":                    {"HeadBucket=404"},
	"PutPublicAccessBlock":            {"GetPublicAccessBlock", "GetPublicAccessBlock=NoSuchPublicAccessBlockConfiguration", "HeadBucket=404"},
	"PutBucketEncryption":             {"GetBucketEncryption", "GetBucketEncryption=ServerSideEncryptionConfigurationNotFoundError", "HeadBucket=404"},
	"PutBucketLifecycleConfiguration": {"GetBucketLifecycleConfiguration", "GetBucketLifecycleConfiguration=NoSuchLifecycleConfiguration", "HeadBucket=404"},
	"PutBucketPolicy":                 {"GetBucketPolicy", "GetBucketPolicy=NoSuchBucketPolicy", "HeadBucket=404"},
	"PutKeyPolicy":                    {"GetKeyPolicy"},
	"CreateKey":                       {"DescribeKey=NotFoundException"},
	"CreateAlias":                     {"DescribeKey=NotFoundException"},
	"EnableKeyRotation":               {"CreateAlias"},
	"CreateTrail":                     {"DescribeTrails"},
	"StartLogging":                    {"GetTrailStatus", "CreateTrail"},
	"PutEventSelectors":               {"GetEventSelectors"},
	"UpdateTrail":                     {"GetTrailStatus"},
}

// answered reports whether a call record is a definite answer of the
// kind want names: "Op" a success, "Op=404" or "Op=Code" that failure.
func answered(rec awsemu.CallRecord, want string) bool {
	op, fail, _ := strings.Cut(want, "=")
	if rec.Operation != op {
		return false
	}
	switch fail {
	case "":
		return rec.Status >= 200 && rec.Status < 300
	case "404":
		return rec.Status == 404
	}
	return rec.Code == fail
}

// sameResource matches the resource of a write to that of a read: the
// same bucket, key, alias or trail, a trail named by its ARN or its name.
func sameResource(write, read awsemu.CallRecord) bool {
	if read.Operation == "DescribeTrails" || write.Operation == "CreateKey" {
		return true
	}
	w, r := write.Resource, read.Resource
	if read.Operation == "CreateTrail" {
		return w == r || strings.HasSuffix(w, ":trail/"+r)
	}
	if write.Operation == "CreateAlias" || write.Operation == "EnableKeyRotation" {
		return w == r || r == fix.KMSAlias
	}
	return w == r
}

// The class, walked over every plan the planner makes: for each failing
// state, with no fault and with each read denied in turn, every write the
// emulator received was preceded, in the same run, by a read of the same
// resource that answered; and a plan stopped by a read changed nothing at
// all.
func TestFix_every_write_follows_a_read_of_its_resource(t *testing.T) {
	defer func(d time.Duration) { fix.PolicyRetryDelay = d }(fix.PolicyRetryDelay)
	fix.PolicyRetryDelay = time.Millisecond
	multi := func(name, selectors string, logging bool) []awsemu.TrailSpec {
		return []awsemu.TrailSpec{{Name: name, HomeRegion: "us-east-1", S3BucketName: "existing-logs", IsMultiRegion: true, IncludeGlobalServiceEvents: true,
			Logging: logging, EventSelectorsJSON: selectors}}
	}
	five := `{"EventSelectors":[` + strings.Repeat(`{"ReadWriteType":"ReadOnly","IncludeManagementEvents":false,"DataResources":[{"Type":"AWS::S3::Object","Values":["arn:aws:s3:::d/"]}]},`, 4) +
		`{"ReadWriteType":"WriteOnly","IncludeManagementEvents":false,"DataResources":[{"Type":"AWS::S3::Object","Values":["arn:aws:s3:::w/"]}]}]}`
	states := []struct {
		name  string
		specs []awsemu.TrailSpec
		args  []string
		rich  bool
	}{
		{"no_trail_new_bucket", nil, nil, false},
		{"no_trail_new_bucket_lifecycle_new_key", nil, []string{"--transition-days", "30", "--expire-days", "400", "--create-kms-key"}, false},
		{"no_trail_existing_bucket", nil, []string{"--bucket", trustBucket, "--transition-days", "30"}, true},
		{"no_trail_existing_bucket_and_key", nil, []string{"--bucket", trustBucket, "--kms-key", "KEY"}, true},
		{"stopped", multi("stopped", "", false), nil, false},
		{"read_only_selectors", multi("reads", `{"EventSelectors":[{"ReadWriteType":"ReadOnly","IncludeManagementEvents":true}]}`, true), nil, false},
		{"five_data_selectors", multi("five", five, false), nil, false},
		{"single_region", []awsemu.TrailSpec{{Name: "local", HomeRegion: "us-east-1", S3BucketName: "existing-logs", Logging: true}}, nil, false},
		{"new_trail_beside_single_region", []awsemu.TrailSpec{{Name: "local", HomeRegion: "us-east-1", S3BucketName: "existing-logs", Logging: true}}, []string{"--new-trail"}, false},
	}
	reads := []string{"", "cloudtrail:DescribeTrails", "cloudtrail:GetTrailStatus", "cloudtrail:GetEventSelectors", "s3:ListBucket", "s3:GetBucketPolicy",
		"s3:GetBucketPublicAccessBlock", "s3:GetEncryptionConfiguration", "s3:GetLifecycleConfiguration", "kms:DescribeKey", "kms:GetKeyPolicy"}
	for _, st := range states {
		for _, denied := range reads {
			name := "no_fault"
			if denied != "" {
				name = strings.ReplaceAll(denied, ":", "_") + "_denied"
			}
			t.Run(st.name+"/"+name, func(t *testing.T) {
				var emu *awsemu.Emulator
				var url, key string
				if st.rich {
					emu, url, key = trustEnv(t, st.specs...)
				} else {
					emu, url = fixEnv(t, st.specs...)
				}
				args := []string{"--apply", "--max-attempts", "1"}
				for _, a := range st.args {
					if a == "KEY" {
						a = key
					}
					args = append(args, a)
				}
				before := emu.State()
				emu.Deny(denied)
				emu.RecordCalls(true)
				code, r, errOut := runFixCLI(t, url, args...)
				log := emu.CallLog()
				writes := 0
				for i, rec := range log {
					needs, isWrite := writeNeedsRead[rec.Operation]
					if !isWrite {
						continue
					}
					writes++
					ok := false
					for _, prev := range log[:i] {
						for _, n := range needs {
							if answered(prev, n) && sameResource(rec, prev) {
								ok = true
							}
						}
					}
					if !ok {
						t.Errorf("%s %s was not preceded by a read of it (%v) that answered", rec.Action, rec.Resource, needs)
					}
				}
				p := r.Accounts[0]
				switch {
				case code == 0:
					if p.Applied == nil || p.Applied.StatusAfter != "PASS" || writes == 0 {
						t.Errorf("exit 0 without a PASS after writes: %+v", p)
					}
				case len(p.Unreadable) > 0:
					if emu.State() != before || p.Applied != nil {
						t.Errorf("exit %d: the plan was stopped by a read, yet applied %+v or the state changed", code, p.Applied)
					}
				case p.Applied == nil:
					if emu.State() != before {
						t.Errorf("exit %d: nothing applied, yet the state changed (%s)", code, errOut)
					}
				case p.Applied.StatusAfter == "PASS":
					t.Errorf("exit %d after a PASS: %+v", code, p.Applied)
				}
				if denied == "" && code != 0 {
					t.Errorf("no fault: exit %d %+v %s", code, p, errOut)
				}
			})
		}
	}
}

// The text plan and --emit say the same as the JSON when a read stops
// the plan: what could not be read and the permission, exit 2, and no
// code that would stand for an end state.
func TestFix_stopped_plan_in_text_and_emit(t *testing.T) {
	emu, url, _ := trustEnv(t)
	emu.Deny("s3:GetBucketPolicy")
	code, out, errOut := cli(t, "fix", "--endpoint-url", url, "--bucket", trustBucket)
	if code != 2 || !strings.Contains(out, "cannot read: bucket "+trustBucket) || !strings.Contains(out, "needs s3:GetBucketPolicy") || strings.Contains(out, "cli: aws") {
		t.Errorf("text: exit %d\n%s%s", code, out, errOut)
	}
	for _, emit := range []string{"terraform", "cloudformation"} {
		code, out, errOut := cli(t, "fix", "--endpoint-url", url, "--bucket", trustBucket, "--emit", emit)
		if code != 2 || !strings.Contains(out, "# nothing emitted") || !strings.Contains(out, "s3:GetBucketPolicy") || strings.Contains(out, "passes") {
			t.Errorf("%s: exit %d\n%s%s", emit, code, out, errOut)
		}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			if !strings.HasPrefix(line, "#") {
				t.Errorf("%s: a line that is not a comment: %q", emit, line)
			}
		}
	}
}

func TestTermSafe(t *testing.T) {
	for in, want := range map[string]string{
		"plain":           "plain",
		"\x1b[31mred":     `\x1b[31mred`,
		"a\nb":            `a\x0ab`,
		"\u202eevil":      `\u202eevil`,
		"bad\xffbyte":     `bad\xffbyte`,
		"ünïcode is fine": "ünïcode is fine",
	} {
		if got := termSafe(in); got != want {
			t.Errorf("termSafe(%q) = %q, want %q", in, got, want)
		}
	}
}

// iam-policy --fix --org is what fix --organization-trail --apply needs in
// the management account (DescribeOrganization included): proved by
// applying it in the emulator with exactly those permissions, and failing
// without the organization statement.
func TestFix_organization_trail_with_exactly_the_documented_permissions(t *testing.T) {
	policy := func(args ...string) []string {
		code, out, _ := cli(t, append([]string{"iam-policy"}, args...)...)
		var p struct{ Statement []struct{ Action []string } }
		if code != 0 || json.Unmarshal([]byte(out), &p) != nil {
			t.Fatalf("iam-policy %v: exit %d %s", args, code, out)
		}
		var all []string
		for _, s := range p.Statement {
			all = append(all, s.Action...)
		}
		return all
	}
	emu := awsemu.New()
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	org, err := demo.BuildOrg(emu, demo.OrgSpec{Accounts: 3, Seed: 7, Empty: true})
	if err != nil {
		t.Fatal(err)
	}
	isolateAWS(t, org.Management)
	emu.AllowOnly(org.Management.AccountID, policy("--fix")...)
	if code, _, errOut := cli(t, "fix", "--endpoint-url", srv.URL, "--organization-trail"); code != 2 || !strings.Contains(errOut, "DescribeOrganization") {
		t.Errorf("without the organization statement: exit %d %q, want 2 naming DescribeOrganization", code, errOut)
	}
	// Trusted access is read before anything is written: without the
	// permission to read it, the plan stops and names it.
	all := policy("--fix", "--org")
	emu.AllowOnly(org.Management.AccountID, slices.DeleteFunc(slices.Clone(all), func(a string) bool { return a == "organizations:ListAWSServiceAccessForOrganization" })...)
	if code, r, _ := runFixCLI(t, srv.URL, "--organization-trail", "--apply"); code != 2 || len(r.Accounts) != 1 || len(r.Accounts[0].Unreadable) != 1 ||
		r.Accounts[0].Unreadable[0].Permission != "organizations:ListAWSServiceAccessForOrganization" || r.Accounts[0].Applied != nil {
		t.Errorf("without organizations:ListAWSServiceAccessForOrganization: exit %d %+v, want 2, stopped, naming it", code, r)
	}
	emu.AllowOnly(org.Management.AccountID, all...)
	code, r, errOut := runFixCLI(t, srv.URL, "--organization-trail", "--apply")
	if code != 0 || r.Accounts[0].Applied == nil || r.Accounts[0].Applied.StatusAfter != "PASS" {
		t.Fatalf("apply with iam-policy --fix --org: exit %d %+v %s", code, r, errOut)
	}
}
