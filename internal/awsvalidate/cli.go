package awsvalidate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// CLI is an AWS CLI that can run validate-logs against an emulator: every
// client it makes (CloudTrail, Organizations and the S3 clients of each
// bucket region) must honour AWS_ENDPOINT_URL. aws-cli v1 does from 1.29
// (botocore 1.31) and v2 from 2.13. Debian 12's /usr/bin/aws is 2.9.19: it
// ignores AWS_ENDPOINT_URL, and --endpoint-url reaches only the CloudTrail
// client, so its GetBucketLocation, ListObjects and GetObject (and
// DescribeOrganization) would go to the real amazonaws.com.
type CLI struct {
	Path    string
	Version string // "aws-cli/1.45.11"
}

// EnvPath names the AWS CLI to use, overriding the search; it must qualify
// (the name of the variable the emulator's own v1 tests read too).
const EnvPath = "TRAILGUARD_AWS_CLI_V1"

var versionRe = regexp.MustCompile(`aws-cli/(\d+)\.(\d+)\.(\d+)`)

// Qualifies says whether a `aws --version` line names a CLI whose every
// client honours AWS_ENDPOINT_URL.
func Qualifies(version string) bool {
	m := versionRe.FindStringSubmatch(version)
	if m == nil {
		return false
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	return (major == 1 && minor >= 29) || (major == 2 && minor >= 13) || major > 2
}

// Find looks for a qualifying AWS CLI: $TRAILGUARD_AWS_CLI_V1 when
// set (it must qualify), else every `aws` on PATH in PATH order, then
// /usr/bin/aws; the first whose `aws --version` qualifies wins. Here that
// is the pyenv v1 (/root/.pyenv/shims/aws) ahead of Debian's v2 2.9.19; a
// pyenv shim is resolved to the script it runs.
func Find() (CLI, error) {
	if p := os.Getenv(EnvPath); p != "" {
		c, err := probe(p)
		if err != nil {
			return CLI{}, fmt.Errorf("$%s=%s: %w", EnvPath, p, err)
		}
		return c, nil
	}
	var tried []string
	seen := map[string]bool{}
	candidates := []string{}
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if dir == "" {
			continue
		}
		candidates = append(candidates, filepath.Join(dir, "aws"))
	}
	candidates = append(candidates, "/usr/bin/aws")
	for _, p := range candidates {
		if seen[p] {
			continue
		}
		seen[p] = true
		if st, err := os.Stat(p); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			continue
		}
		c, err := probe(p)
		if err == nil {
			return c, nil
		}
		tried = append(tried, fmt.Sprintf("%s (%v)", p, err))
	}
	if len(tried) == 0 {
		return CLI{}, errors.New("no aws on PATH or in /usr/bin; install aws-cli v1 >= 1.29 (pip install awscli) or v2 >= 2.13, or set " + EnvPath)
	}
	return CLI{}, fmt.Errorf("no AWS CLI that honours AWS_ENDPOINT_URL for every service (v1 >= 1.29 or v2 >= 2.13; pip install awscli, or set %s): tried %s", EnvPath, strings.Join(tried, "; "))
}

func probe(p string) (CLI, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, p, "--version")
	cmd.Env = baseEnv(p, os.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		return CLI{}, fmt.Errorf("aws --version: %v", err)
	}
	v := strings.TrimSpace(string(out))
	m := versionRe.FindString(v)
	if !Qualifies(v) {
		if m == "" {
			m = strings.SplitN(v, "\n", 2)[0]
		}
		return CLI{}, fmt.Errorf("%s does not honour AWS_ENDPOINT_URL for every service", m)
	}
	return CLI{Path: resolveShim(p), Version: m}, nil
}

// resolveShim turns a pyenv shim into the script it runs, so that a
// measured run is the AWS CLI's own time, not pyenv's (its shim runs a few
// shell processes first); anything else is kept as it is.
func resolveShim(p string) string {
	dir := filepath.Dir(p)
	if filepath.Base(dir) != "shims" {
		return p
	}
	pyenv := filepath.Join(filepath.Dir(dir), "libexec", "pyenv")
	if _, err := os.Stat(pyenv); err != nil {
		return p
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, pyenv, "which", filepath.Base(p))
	cmd.Env = baseEnv(p, os.TempDir())
	out, err := cmd.Output()
	real := strings.TrimSpace(string(out))
	if err != nil || !filepath.IsAbs(real) {
		return p
	}
	if st, err := os.Stat(real); err != nil || st.IsDir() {
		return p
	}
	return real
}

// ValidateLogsCLI returns a qualifying CLI, or skips the test with the reason; with
// TRAILGUARD_REQUIRE_AWSCLI_V1 set (as .ci/run does when it finds such a
// CLI) it fails instead, naming what is missing.
func ValidateLogsCLI(t testing.TB) CLI {
	t.Helper()
	c, err := Find()
	if err == nil {
		return c
	}
	if os.Getenv("TRAILGUARD_REQUIRE_AWSCLI_V1") != "" {
		t.Fatalf("aws cloudtrail validate-logs is required here: %v", err)
	}
	t.Skipf("no AWS CLI can run validate-logs against the emulator: %v", err)
	return CLI{}
}

// baseEnv is the environment of every run: nothing of the user's AWS
// configuration, and what a pyenv shim needs to find its Python.
func baseEnv(path, home string) []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_PAGER=",
		"AWS_CLI_AUTO_PROMPT=off",
		"PYTHONWARNINGS=ignore",
	}
	// A pyenv shim finds its root from PYENV_ROOT or ~/.pyenv; HOME is not
	// the user's here, so the root is named.
	if root := os.Getenv("PYENV_ROOT"); root != "" {
		env = append(env, "PYENV_ROOT="+root)
	} else if dir := filepath.Dir(path); filepath.Base(dir) == "shims" {
		env = append(env, "PYENV_ROOT="+filepath.Dir(dir))
	}
	if v := os.Getenv("PYENV_VERSION"); v != "" {
		env = append(env, "PYENV_VERSION="+v)
	}
	return env
}

// Run is one `aws cloudtrail validate-logs` invocation.
type Run struct {
	Endpoint                                   string
	AccessKeyID, SecretAccessKey, SessionToken string
	// Region is the region whose digests are walked (one per run).
	Region    string
	TrailARN  string
	AccountID string // organization trails: the member whose logs
	Start     time.Time
	End       time.Time // zero: now
	Verbose   bool
}

// Command builds the command line and environment of one run.
func (c CLI) Command(ctx context.Context, r Run) *exec.Cmd {
	args := []string{"cloudtrail", "validate-logs",
		"--trail-arn", r.TrailARN,
		"--start-time", r.Start.UTC().Format(displayTime),
		"--region", r.Region,
	}
	if !r.End.IsZero() {
		args = append(args, "--end-time", r.End.UTC().Format(displayTime))
	}
	if r.AccountID != "" {
		args = append(args, "--account-id", r.AccountID)
	}
	if r.Verbose {
		args = append(args, "--verbose")
	}
	return c.Exec(ctx, Target{Endpoint: r.Endpoint, AccessKeyID: r.AccessKeyID, SecretAccessKey: r.SecretAccessKey,
		SessionToken: r.SessionToken, Region: r.Region}, args...)
}

// Target is where and as whom a command runs.
type Target struct {
	Endpoint                                   string
	AccessKeyID, SecretAccessKey, SessionToken string
	Region                                     string
}

// Exec builds any AWS CLI command (the tests tamper with a bucket through
// `aws s3 cp` and `aws s3 rm`) in the environment validate-logs runs in:
// AWS_ENDPOINT_URL for every client, the given keys, the user's AWS
// configuration out of the way.
func (c CLI) Exec(ctx context.Context, to Target, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, c.Path, args...)
	cmd.Env = append(baseEnv(c.Path, os.TempDir()),
		"AWS_ENDPOINT_URL="+to.Endpoint,
		"AWS_ACCESS_KEY_ID="+to.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY="+to.SecretAccessKey,
		"AWS_DEFAULT_REGION="+to.Region,
		"AWS_REGION="+to.Region,
	)
	if to.SessionToken != "" {
		cmd.Env = append(cmd.Env, "AWS_SESSION_TOKEN="+to.SessionToken)
	}
	return cmd
}

// Result is a finished run.
type Result struct {
	Report   *Report
	ExitCode int
	Stderr   string // kept for messages when the run fails
}

// Validate runs validate-logs and parses its output. Exit codes 0 and 1
// are verdicts; any other is an error carrying the CLI's standard error.
func (c CLI) Validate(ctx context.Context, r Run) (*Result, error) {
	cmd := c.Command(ctx, r)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		return nil, fmt.Errorf("aws cloudtrail validate-logs in %s: %w", r.Region, err)
	}
	if code != 0 && code != 1 {
		return nil, fmt.Errorf("aws cloudtrail validate-logs in %s: exit %d: %s", r.Region, code, tail(stderr.String(), 2000))
	}
	rep, err := Parse(&stdout, &stderr)
	if err != nil {
		return nil, err
	}
	return &Result{Report: rep, ExitCode: code, Stderr: stderr.String()}, nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
