package main

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	tgaws "github.com/trailguard/trailguard/aws"
	"github.com/trailguard/trailguard/fix"
	"github.com/trailguard/trailguard/internal/awsemu"
	"github.com/trailguard/trailguard/internal/demo"
)

const fixAcct = "123456789012"

type fixOut struct {
	Accounts []struct {
		Account string   `json:"account"`
		Notes   []string `json:"notes"`
		Steps   []struct {
			Action, Why, API, CLI string
		} `json:"steps"`
		Applied *struct {
			Done        []string `json:"done"`
			Failed      string   `json:"failed"`
			Error       string   `json:"error"`
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

// The plan's AWS CLI commands, run by the real AWS CLI, reach the same end
// state as --apply: the account passes and a new plan is empty.
func TestFix_plan_cli_commands_with_the_real_aws_cli(t *testing.T) {
	cli := awsemu.AWSCLI(t)
	for _, c := range []struct {
		name  string
		specs []awsemu.TrailSpec
	}{
		{"no_trail", nil},
		{"read_only_selectors", []awsemu.TrailSpec{{Name: "reads-only", HomeRegion: "us-west-2", S3BucketName: "existing-logs", IsMultiRegion: true,
			IncludeGlobalServiceEvents: true, Logging: false, EventSelectorsJSON: `{"EventSelectors":[{"ReadWriteType":"ReadOnly","IncludeManagementEvents":true,"DataResources":[{"Type":"AWS::S3::Object","Values":["arn:aws:s3:::payroll/"]}]}]}`}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, url := fixEnv(t, c.specs...)
			_, plan, _ := runFixCLI(t, url)
			for _, st := range plan.Accounts[0].Steps {
				cmd := exec.Command("bash", "-c", strings.Replace(st.CLI, "aws ", shellQuote(cli)+" ", 1)+" --endpoint-url "+url+" --output json")
				var env []string
				for _, kv := range os.Environ() {
					if !strings.HasSuffix(kv, "=") || !strings.HasPrefix(kv, "AWS_") { // the CLI refuses an empty AWS_PROFILE
						env = append(env, kv)
					}
				}
				cmd.Env = append(env, "AWS_PAGER=")
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("%s: %v\n%s", st.CLI, err, out)
				}
			}
			code, after, _ := runFixCLI(t, url)
			if code != 0 || len(after.Accounts[0].Steps) != 0 {
				t.Errorf("after the CLI commands: exit %d, still plans %+v", code, after.Accounts[0].Steps)
			}
			if len(c.specs) > 0 && !strings.Contains(selectorsOf(t, url, "us-west-2", c.specs[0].Name), "payroll") {
				t.Error("the data-event selector did not survive the CLI commands")
			}
		})
	}
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
	if code, r, errOut := runFixCLI(t, url); code != 1 || len(r.Accounts[0].Steps) == 0 {
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
	for _, p := range dry.Accounts {
		if (want[p.Account] == "FAIL") != (len(p.Steps) > 0) {
			t.Errorf("%s (%s): %d steps", p.Account, want[p.Account], len(p.Steps))
		}
	}
	code, _, errOut = runFixCLI(t, url, "--org", "--apply")
	if code != 2 { // the account without a role and the unreadable one stay as they are
		t.Errorf("apply: exit %d %s", code, errOut)
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
