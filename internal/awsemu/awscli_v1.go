package awsemu

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// AWSCLIv1 returns an AWS CLI v1 (1.29 or later) for the commands that
// only it can point at the emulator: `aws cloudtrail validate-logs` passes
// --endpoint-url to its CloudTrail client only, and builds its S3 and
// Organizations clients from the session, so the emulator must be named
// by AWS_ENDPOINT_URL, which the v1 CLI honours for every service from
// 1.29 on; the Debian v2 CLI (2.9) does not. It is $TRAILGUARD_AWS_CLI_V1,
// else the first aws on PATH that reports aws-cli/1. With none, the test
// fails when TRAILGUARD_REQUIRE_AWSCLI_V1 is set (.ci/run sets it when
// it finds such a CLI) and is skipped otherwise.
func AWSCLIv1(t testing.TB) string {
	t.Helper()
	p, err := findAWSCLIv1()
	if err == nil {
		return p
	}
	if os.Getenv("TRAILGUARD_REQUIRE_AWSCLI_V1") != "" {
		t.Fatalf("AWS CLI v1 is required here (pip install awscli): %v", err)
	}
	t.Skipf("AWS CLI v1 is not installed (pip install awscli): %v", err)
	return ""
}

var (
	cliV1Once sync.Once
	cliV1Path string
	cliV1Err  error
)

func findAWSCLIv1() (string, error) {
	cliV1Once.Do(func() {
		if p := os.Getenv("TRAILGUARD_AWS_CLI_V1"); p != "" {
			cliV1Path = p
			return
		}
		seen := map[string]bool{}
		for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
			p := filepath.Join(dir, "aws")
			if seen[p] {
				continue
			}
			seen[p] = true
			if fi, err := os.Stat(p); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
				continue
			}
			out, err := exec.Command(p, "--version").CombinedOutput()
			if err == nil && cliV1Recent(string(out)) {
				cliV1Path = p
				return
			}
		}
		cliV1Err = errors.New("no aws on PATH reports aws-cli/1.29 or later")
	})
	return cliV1Path, cliV1Err
}

// cliV1Recent reports whether `aws --version` output is of a v1 CLI that
// honours AWS_ENDPOINT_URL (1.29.0 and later).
func cliV1Recent(version string) bool {
	var minor int
	if _, err := fmt.Sscanf(strings.TrimSpace(version), "aws-cli/1.%d.", &minor); err != nil {
		return false
	}
	return minor >= 29
}
