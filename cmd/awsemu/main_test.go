package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

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
	// No --listen: the default address is what the tests serve on.
	cmd := exec.Command(os.Args[0], args...)
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
		{"--fail", "Get Bucket=X"}, {"--deny", "GetBucketPolicy"}, {"--deny", "s3:Get Bucket"},
		{"--config-period", "-1s"}, {"--config-period", "soon"}, {"--history", "-1h"}, {"--history", "90"}, {"--lambda-endpoint", "ftp://host/invoke"}, {"--lambda-endpoint", "localhost:9000"}} {
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

// The default address is a free port, never LocalStack's 4566, and the
// address bound is the one printed: a client reaches the server there.
func TestServe_default_address_is_a_free_port_printed_in_the_exports(t *testing.T) {
	s := start(t, "--accounts", "1")
	u, err := url.Parse(s.env["AWS_ENDPOINT_URL"])
	if err != nil {
		t.Fatalf("AWS_ENDPOINT_URL %q: %v", s.env["AWS_ENDPOINT_URL"], err)
	}
	if u.Scheme != "http" || u.Hostname() != "127.0.0.1" {
		t.Errorf("AWS_ENDPOINT_URL %q, want http on the loopback address", u)
	}
	if p := u.Port(); p == "" || p == "0" || p == "4566" {
		t.Errorf("AWS_ENDPOINT_URL %q: port %q, want the free port bound (not 0, not 4566)", u, p)
	}
	if got := s.scanOrg(t); got["PASS"] != 1 {
		t.Errorf("scan at the printed address: %v", got)
	}
	s.terminate(t)
}

// An address that cannot be listened on ends the run at once with exit
// code 1, a message naming the address and why, and nothing on standard
// output: no export line a waiting script could take for a server.
func TestRun_cannot_listen(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	for _, c := range []struct {
		name, listen string
		want         []string // in the message
	}{
		{"port_taken", taken.Addr().String(), []string{strconv.Quote(taken.Addr().String()), "address already in use", "another process holds that port", "port 0"}},
		{"no_port", "127.0.0.1", []string{`"127.0.0.1"`, "missing port", "host:port"}},
		{"port_out_of_range", "127.0.0.1:70000", []string{`"127.0.0.1:70000"`, "invalid port"}},
		{"hostile_address_escaped", "\x1b[2J:1", []string{`"\x1b[2J:1"`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out, errb strings.Builder
			code := run(context.Background(), []string{"--listen", c.listen, "--accounts", "50"}, &out, &errb)
			if code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			if out.Len() != 0 {
				t.Errorf("stdout %q, want nothing", out.String())
			}
			msg := errb.String()
			if strings.ContainsRune(msg, '\x1b') {
				t.Errorf("message holds an unescaped control character: %q", msg)
			}
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q does not say %q", msg, w)
				}
			}
		})
	}
}

// The process itself, given a taken port, exits non-zero with the
// message instead of serving or waiting.
func TestMain_port_taken_exits_non_zero(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	cmd := exec.Command(os.Args[0], "--listen", taken.Addr().String())
	cmd.Env = append(os.Environ(), "AWSEMU_AS_MAIN=1")
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 1 {
			t.Errorf("exit: %v, want exit status 1", err)
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatal("still running 30s later with its port taken")
	}
	if stdout.Len() != 0 || !strings.Contains(stderr.String(), "address already in use") {
		t.Errorf("stdout %q, stderr %q", stdout.String(), stderr.String())
	}
}

// TestREADME_wait_loop runs the README's emulator snippet as written, in
// bash, with `go` replaced by a stand-in that records what it is asked to
// run and ./awsemu by this command: when the emulator serves, the scan
// runs against the address it printed; when it cannot listen, the wait
// loop ends and the scan never runs (it would otherwise reach real AWS).
func TestREADME_wait_loop(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not on PATH, and the README's snippet is shell")
	}
	snippet := readmeEmulatorSnippet(t)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	for _, c := range []struct {
		name    string
		extra   string // flags the stand-in ./awsemu adds
		scanned bool
	}{
		{"served_then_scanned", "", true},
		{"port_taken_loop_ends_without_scanning", "--listen " + taken.Addr().String(), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			bin := filepath.Join(dir, "bin")
			os.Mkdir(bin, 0o755)
			// The stand-in go: "build" leaves the ./awsemu below in place,
			// "run" records its arguments and the endpoint it was given.
			writeExec(t, filepath.Join(bin, "go"), "#!/bin/sh\n"+
				"case \"$1\" in\nrun) echo \"go $* endpoint=$AWS_ENDPOINT_URL\" >> go.log ;;\nesac\n")
			writeExec(t, filepath.Join(dir, "awsemu"), fmt.Sprintf("#!/bin/sh\nAWSEMU_AS_MAIN=1 exec %s %s \"$@\"\n", shellQuote(os.Args[0]), c.extra))
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bash, "-c", snippet)
			cmd.Dir = dir
			cmd.Env = append(withoutAWS(os.Environ()), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
			// One process group, so that nothing the snippet started
			// outlives the test.
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
			t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
			out, _ := cmd.CombinedOutput()
			if ctx.Err() != nil {
				t.Fatalf("the README's snippet still runs after 60s:\n%s", out)
			}
			log, _ := os.ReadFile(filepath.Join(dir, "go.log"))
			if !c.scanned {
				if len(log) != 0 {
					t.Errorf("the scan ran without an emulator: %s", log)
				}
				if !strings.Contains(string(out), "cannot listen") {
					t.Errorf("output does not say why the emulator stopped:\n%s", out)
				}
				return
			}
			m := regexp.MustCompile(`^go run ./cmd/trailguard scan --org endpoint=http://127\.0\.0\.1:(\d+)\n$`).FindSubmatch(log)
			if m == nil || string(m[1]) == "4566" {
				t.Errorf("go.log %q, want one scan against the emulator's printed address\n%s", log, out)
			}
		})
	}
}

// readmeEmulatorSnippet is the README's shell block that starts ./awsemu.
func readmeEmulatorSnippet(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, block := range regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(string(b), -1) {
		if strings.Contains(block[1], "./awsemu ") {
			return block[1]
		}
	}
	t.Fatal("README.md has no sh block that starts ./awsemu")
	return ""
}

func writeExec(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
}

// shellQuote quotes s for sh as one word.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// --history seeds the accounts' past: LookupEvents through the SDK finds
// the management account's organization trail stopped and started again by
// an IAM user, and without it there is no past at all.
func TestServe_history_seeds_event_history(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want int
	}{
		{"ninety_days", []string{"--accounts", "3", "--history", "2160h"}, 2},
		{"off_by_default", []string{"--accounts", "3"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := start(t, tc.args...)
			cfg := tgaws.StaticConfig(s.env["AWS_ENDPOINT_URL"], s.env["AWS_REGION"], s.env["AWS_ACCESS_KEY_ID"], s.env["AWS_SECRET_ACCESS_KEY"], "", nil)
			out, err := cloudtrail.NewFromConfig(cfg).LookupEvents(context.Background(), &cloudtrail.LookupEventsInput{
				LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyUsername, AttributeValue: sdkaws.String("ops-admin")}},
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Events) != tc.want {
				t.Fatalf("%d events by ops-admin, want %d", len(out.Events), tc.want)
			}
			if tc.want > 0 && (sdkaws.ToString(out.Events[0].EventName) != "StartLogging" || sdkaws.ToString(out.Events[1].EventName) != "StopLogging") {
				t.Errorf("events newest first: %s, %s", sdkaws.ToString(out.Events[0].EventName), sdkaws.ToString(out.Events[1].EventName))
			}
			s.terminate(t)
		})
	}
}

// --history also seeds the files the trails with log file validation
// delivered: `aws cloudtrail validate-logs` (v1, pointed at the emulator
// by AWS_ENDPOINT_URL) finds the organization trail's digests and log
// files of the management account, under the organization id, all valid.
func TestServe_history_seeds_deliveries(t *testing.T) {
	cli := awsemu.AWSCLIv1(t)
	s := start(t, "--accounts", "2", "--history", "3h")
	home := t.TempDir()
	cmd := exec.Command(cli, "cloudtrail", "validate-logs", "--region", "eu-west-1",
		"--trail-arn", "arn:aws:cloudtrail:us-east-1:100000000000:trail/org-audit", "--account-id", "100000000000",
		"--start-time", time.Now().Add(-4*time.Hour).UTC().Format(time.RFC3339))
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "AWS_CONFIG_FILE=" + filepath.Join(home, "config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "credentials"), "AWS_EC2_METADATA_DISABLED=true",
		"AWS_ENDPOINT_URL=" + s.env["AWS_ENDPOINT_URL"], "AWS_ACCESS_KEY_ID=" + s.env["AWS_ACCESS_KEY_ID"],
		"AWS_SECRET_ACCESS_KEY=" + s.env["AWS_SECRET_ACCESS_KEY"]}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "3/3 digest files valid") || !strings.Contains(string(out), "6/6 log files valid") || strings.Contains(string(out), "INVALID") {
		t.Errorf("validate-logs: %v\n%s", err, out)
	}
	s.terminate(t)
}
