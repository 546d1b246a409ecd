package aws_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	tgaws "github.com/trailguard/trailguard/aws"
)

// isolateSDK keeps the SDK away from the user's AWS files, environment
// and instance metadata, with static keys.
func isolateSDK(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEEXAMPLE00")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_ENDPOINT_URL", "")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

// TestLoadConfigRegion: a region name that is no region's shape is
// refused before any call; one of a region's shape that is not known is
// warned about, and when its endpoint then does not resolve the error
// says the region is not a known AWS region, not only "no such host";
// with a custom endpoint any name is the endpoint's business.
func TestLoadConfigRegion(t *testing.T) {
	cases := []struct {
		name, region, endpoint, envEndpoint string
		wantErr, wantWarn, wantScanErr      string
	}{
		{name: "known_region", region: "eu-west-1"},
		{name: "not_the_shape_of_a_region", region: "useast1", wantErr: "not a known AWS region"},
		{name: "typo_of_region_shape_warns_and_names_it_on_dns_failure", region: "us-est-1", wantWarn: "did you mean us-east-1?", wantScanErr: "us-est-1 is not a known AWS region"},
		{name: "custom_endpoint_flag_takes_any_region", region: "useast1", endpoint: "http://127.0.0.1:1"},
		{name: "custom_endpoint_environment_takes_any_region", region: "local", envEndpoint: "http://127.0.0.1:1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			isolateSDK(t)
			if tc.envEndpoint != "" {
				t.Setenv("AWS_ENDPOINT_URL", tc.envEndpoint)
			}
			var warnings []string
			cfg, err := tgaws.LoadConfig(context.Background(), tgaws.ConfigOptions{
				Region: tc.region, EndpointURL: tc.endpoint, MaxAttempts: 1,
				Warn: func(m string) { warnings = append(warnings, m) },
			}, nil)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			warned := strings.Join(warnings, "\n")
			if tc.wantWarn == "" && warned != "" {
				t.Errorf("warned %q", warned)
			}
			if tc.wantWarn != "" && !strings.Contains(warned, tc.wantWarn) {
				t.Errorf("warning %q, want %q", warned, tc.wantWarn)
			}
			if tc.wantScanErr != "" {
				acct := tgaws.NewScanner().ScanAccount(context.Background(), cfg)
				if !strings.Contains(acct.Error, tc.wantScanErr) {
					t.Errorf("scan error %q, want %q", acct.Error, tc.wantScanErr)
				}
			}
		})
	}
}
