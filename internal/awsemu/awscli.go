package awsemu

import (
	"errors"
	"os"
	"os/exec"
	"testing"
)

// AWSCLI returns the AWS CLI that tests use as the emulator's independent
// client: $TRAILGUARD_AWS_CLI, else /usr/bin/aws (the Debian awscli package
// that CI installs), else aws on PATH. With none, the calling test fails
// when TRAILGUARD_REQUIRE_AWSCLI is set (as in CI) and is skipped, with the
// reason, otherwise.
func AWSCLI(t testing.TB) string {
	t.Helper()
	p, err := findAWSCLI()
	if err == nil {
		return p
	}
	if os.Getenv("TRAILGUARD_REQUIRE_AWSCLI") != "" {
		t.Fatalf("the AWS CLI is required here (Debian package awscli): %v", err)
	}
	t.Skipf("the AWS CLI is not installed (Debian package awscli; .ci/run installs it): %v", err)
	return ""
}

func findAWSCLI() (string, error) {
	if p := os.Getenv("TRAILGUARD_AWS_CLI"); p != "" {
		return p, nil
	}
	if _, err := os.Stat("/usr/bin/aws"); err == nil {
		return "/usr/bin/aws", nil
	}
	if p, err := exec.LookPath("aws"); err == nil {
		return p, nil
	}
	return "", errors.New("no aws in /usr/bin or on PATH")
}
