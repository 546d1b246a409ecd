package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/trailguard/trailguard"
	tgaws "github.com/trailguard/trailguard/aws"
	"github.com/trailguard/trailguard/internal/awsemu"
)

// The test binary is also the command: with AWSEMU_AS_MAIN set it runs
// main, so the tests start the real process and signal it.
func TestMain(m *testing.M) {
	if os.Getenv("AWSEMU_AS_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// served is a running awsemu process and what it printed.
type served struct {
	cmd      *exec.Cmd
	env      map[string]string
	expected map[string]int
	done     chan error
}

func start(t *testing.T, args ...string) *served {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"--listen", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), "AWSEMU_AS_MAIN=1")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &served{cmd: cmd, env: map[string]string{}, done: make(chan error, 1)}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		s.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		for range lines {
		}
	})
	timeout := time.After(30 * time.Second)
	export := regexp.MustCompile(`^export ([A-Z_]+)=(\S+)$`)
read:
	for {
		var line string
		var ok bool
		select {
		case line, ok = <-lines:
			if !ok {
				break read
			}
		case <-timeout:
			t.Fatal("no '# expected:' line after 30s")
		}
		if m := export.FindStringSubmatch(line); m != nil {
			s.env[m[1]] = m[2]
		}
		if rest, ok := strings.CutPrefix(line, "# expected: "); ok {
			s.expected = map[string]int{}
			for _, f := range strings.Fields(rest) {
				k, v, _ := strings.Cut(f, "=")
				n, err := strconv.Atoi(v)
				if err != nil {
					t.Fatalf("expected line %q: %v", line, err)
				}
				s.expected[k] = n
			}
			break
		}
	}
	go func() {
		for range lines {
		}
	}()
	if s.expected == nil {
		t.Fatalf("no '# expected:' line; exports %v", s.env)
	}
	for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_DEFAULT_REGION"} {
		if s.env[k] == "" {
			t.Fatalf("no export of %s: %v", k, s.env)
		}
	}
	return s
}

func (s *served) scanOrg(t *testing.T) map[string]int {
	t.Helper()
	cfg := tgaws.StaticConfig(s.env["AWS_ENDPOINT_URL"], s.env["AWS_REGION"], s.env["AWS_ACCESS_KEY_ID"], s.env["AWS_SECRET_ACCESS_KEY"], "", nil)
	got, err := tgaws.NewScanner().ScanOrganization(context.Background(), cfg, tgaws.OrgOptions{})
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, r := range trailguard.EvaluateAll(got.Accounts, trailguard.Options{}) {
		counts[string(r.Status)]++
	}
	return counts
}

func (s *served) terminate(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("after SIGTERM: %v, want a clean exit", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("still serving 10s after SIGTERM")
	}
}

func TestServe_the_expected_line_is_what_a_scan_finds(t *testing.T) {
	s := start(t, "--accounts", "80", "--seed", "3")
	got := s.scanOrg(t)
	for _, k := range []string{"PASS", "FAIL", "UNKNOWN", "ERROR"} {
		if got[k] != s.expected[k] {
			t.Errorf("%s: scan found %d, expected line says %d (all: %v vs %v)", k, got[k], s.expected[k], got, s.expected)
		}
	}
	if s.expected["PASS"] == 0 || s.expected["FAIL"] == 0 {
		t.Errorf("an 80-account organization should mix passing and failing accounts: %v", s.expected)
	}
	s.terminate(t)
}

func TestServe_one_account(t *testing.T) {
	s := start(t, "--accounts", "1")
	if fmt.Sprint(s.expected) != fmt.Sprint(map[string]int{"PASS": 1, "FAIL": 0, "UNKNOWN": 0, "ERROR": 0}) {
		t.Errorf("expected %v", s.expected)
	}
	if got := s.scanOrg(t); got["PASS"] != 1 || len(got) != 1 {
		t.Errorf("scan %v", got)
	}
	s.terminate(t)
}

// --empty leaves the state to another client: the AWS CLI creates a
// bucket and an organization trail and starts it, and every member that
// has the role then passes.
func TestServe_empty_then_the_aws_cli_builds_an_organization_trail(t *testing.T) {
	cli := awsemu.AWSCLI(t)
	s := start(t, "--accounts", "12", "--seed", "8", "--empty")
	if s.expected["PASS"] != 0 {
		t.Fatalf("an empty organization expects no PASS: %v", s.expected)
	}
	if got := s.scanOrg(t); got["FAIL"] != s.expected["FAIL"] || got["ERROR"] != s.expected["ERROR"] {
		t.Fatalf("before: scan %v, expected %v", got, s.expected)
	}
	aws := func(args ...string) string {
		t.Helper()
		out, err := s.aws(cli, args...)
		if err != nil {
			t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	const bucket = "org-trail-logs-cli"
	aws("s3api", "create-bucket", "--bucket", bucket)
	aws("s3api", "put-bucket-policy", "--bucket", bucket, "--policy", `{"Version":"2012-10-17","Statement":[`+
		`{"Sid":"AclCheck","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:GetBucketAcl","Resource":"arn:aws:s3:::`+bucket+`"},`+
		`{"Sid":"Write","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::`+bucket+`/AWSLogs/*","Condition":{"StringEquals":{"s3:x-amz-acl":"bucket-owner-full-control"}}}]}`)
	// An organization trail needs CloudTrail's trusted access first, as in AWS.
	aws("organizations", "enable-aws-service-access", "--service-principal", "cloudtrail.amazonaws.com")
	aws("cloudtrail", "create-trail", "--name", "org-audit", "--s3-bucket-name", bucket, "--is-multi-region-trail", "--is-organization-trail", "--enable-log-file-validation")
	aws("cloudtrail", "start-logging", "--name", "org-audit")
	got := s.scanOrg(t)
	if got["PASS"] != s.expected["FAIL"] || got["ERROR"] != s.expected["ERROR"] || got["FAIL"] != 0 {
		t.Errorf("after the CLI's organization trail: scan %v; want every reachable account (%d) PASS and %d ERROR", got, s.expected["FAIL"], s.expected["ERROR"])
	}
	s.terminate(t)
}

// aws runs the real AWS CLI with exactly the settings the emulator
// printed (AWS_DEFAULT_REGION included: the CLI v1 reads no other), one
// attempt per call.
func (s *served) aws(cli string, args ...string) (string, error) {
	cmd := exec.Command(cli, append(args, "--endpoint-url", s.env["AWS_ENDPOINT_URL"], "--output", "json")...)
	cmd.Env = append(withoutAWS(os.Environ()), "AWS_ACCESS_KEY_ID="+s.env["AWS_ACCESS_KEY_ID"], "AWS_SECRET_ACCESS_KEY="+s.env["AWS_SECRET_ACCESS_KEY"],
		"AWS_REGION="+s.env["AWS_REGION"], "AWS_DEFAULT_REGION="+s.env["AWS_DEFAULT_REGION"], "AWS_MAX_ATTEMPTS=1", "AWS_RETRY_MODE=standard",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// --deny and --fail reach every caller of the served emulator: the AWS
// CLI sees AccessDenied on the denied actions (wildcards included), the
// injected error codes on the failed operations, and everything else
// served as usual.
func TestServe_deny_and_fail_with_the_aws_cli(t *testing.T) {
	cli := awsemu.AWSCLI(t)
	s := start(t, "--accounts", "1", "--deny", "s3:GetBucketPolicy,kms:GetKey*", "--fail", "GetBucketEncryption=ServiceUnavailable",
		"--fail", "cloudtrail:DescribeTrails=ThrottlingException,GetPublicAccessBlock=InternalError")
	const bucket = "deny-fail-logs"
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::` + bucket + `/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`
	for _, c := range []struct {
		name string
		args []string
		fail string // "" when the call must succeed, else what its error says
	}{
		{"create_bucket_served", []string{"s3api", "create-bucket", "--bucket", bucket}, ""},
		{"put_policy_served", []string{"s3api", "put-bucket-policy", "--bucket", bucket, "--policy", policy}, ""},
		{"get_policy_denied", []string{"s3api", "get-bucket-policy", "--bucket", bucket}, "AccessDenied"},
		{"encryption_unavailable", []string{"s3api", "get-bucket-encryption", "--bucket", bucket}, "ServiceUnavailable"},
		{"public_access_block_internal_error", []string{"s3api", "get-public-access-block", "--bucket", bucket}, "InternalError"},
		{"describe_trails_throttled", []string{"cloudtrail", "describe-trails"}, "ThrottlingException"},
		{"list_trails_served", []string{"cloudtrail", "list-trails"}, ""},
		{"caller_identity_never_denied", []string{"sts", "get-caller-identity"}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, err := s.aws(cli, c.args...)
			switch {
			case c.fail == "" && err != nil:
				t.Fatalf("%v\n%s", err, out)
			case c.fail != "" && err == nil:
				t.Fatalf("succeeded, want %s:\n%s", c.fail, out)
			case c.fail != "" && !strings.Contains(out, c.fail):
				t.Errorf("error does not say %s:\n%s", c.fail, out)
			}
		})
	}
	t.Run("key_policy_denied_by_wildcard", func(t *testing.T) {
		out, err := s.aws(cli, "kms", "create-key", "--query", "KeyMetadata.KeyId")
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		id := strings.Trim(strings.TrimSpace(out), `"`)
		out, err = s.aws(cli, "kms", "get-key-policy", "--key-id", id, "--policy-name", "default")
		if err == nil || !strings.Contains(out, "AccessDeniedException") {
			t.Errorf("get-key-policy: %v\n%s", err, out)
		}
	})
	s.terminate(t)
}

func TestRun_bad_flags(t *testing.T) {
	for _, args := range [][]string{{"--accounts", "0"}, {"--fault-rate", "2"}, {"--nope"}, {"extra"},
		{"--fail", "GetBucketPolicy"}, {"--fail", "GetBucketPolicy="}, {"--fail", "=AccessDenied"}, {"--fail", "nosuch:GetBucketPolicy=AccessDenied"},
		{"--fail", "Get Bucket=X"}, {"--deny", "GetBucketPolicy"}, {"--deny", "s3:Get Bucket"}} {
		var out, errb strings.Builder
		if code := run(context.Background(), args, &out, &errb); code != 2 {
			t.Errorf("%v: exit %d, want 2 (stderr %q)", args, code, errb.String())
		}
		if errb.Len() == 0 {
			t.Errorf("%v: no message on stderr", args)
		}
	}
}

// withoutAWS drops the AWS_ settings of the test's own environment, so
// that the CLI uses only what the emulator printed.
func withoutAWS(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "AWS_") {
			out = append(out, kv)
		}
	}
	return out
}
