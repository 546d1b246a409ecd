package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	tgaws "github.com/trailguard/trailguard/aws"
	"github.com/trailguard/trailguard/internal/awsemu"
)

// createBucket creates a bucket in the emulator through the SDK.
func createBucket(t *testing.T, endpoint string, c awsemu.Credentials, name string) {
	t.Helper()
	cfg := tgaws.StaticConfig(endpoint, "us-east-1", c.AccessKeyID, c.SecretAccessKey, c.SessionToken, nil)
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &name}); err != nil {
		t.Fatalf("create bucket %s: %v", name, err)
	}
}

// validateLogsJSON is the JSON report of validate-logs as a consumer reads it.
type validateLogsJSON struct {
	Trails []struct {
		Trail   string `json:"trail"`
		Account string `json:"account"`
		Error   string `json:"error"`
		Regions []struct {
			Region  string `json:"region"`
			Error   string `json:"error"`
			Digests struct {
				Checked, Valid, Invalid, Unreadable int
			} `json:"digests"`
			LogFiles struct {
				Checked, Valid, Invalid, Unreadable int
			} `json:"log_files"`
			Problems []struct {
				File, Object, Kind, Detail string
			} `json:"problems"`
		} `json:"regions"`
	} `json:"trails"`
	Summary struct {
		Status string `json:"status"`
	} `json:"summary"`
}

func parseValidateLogs(t *testing.T, out string) validateLogsJSON {
	t.Helper()
	var r validateLogsJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("JSON report does not parse: %v\n%s", err, out)
	}
	return r
}

func TestValidateLogs_bad_input(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"not_a_trail_arn", []string{"--trail-arn", "arn:aws:s3:::bucket"}, "is not a trail ARN"},
		{"start_after_end", []string{"--start-time", "2026-11-02T00:00:00Z", "--end-time", "2026-11-01T00:00:00Z"}, "is after --end-time"},
		{"start_not_a_time", []string{"--start-time", "yesterday"}, "is not a time"},
		{"unknown_format", []string{"--format", "csv"}, "--format must be text or json"},
		{"account_id_not_twelve_digits", []string{"--account-id", "1234"}, "is not an account id"},
		{"no_readers", []string{"--concurrency", "0"}, "--concurrency"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := cli(t, append([]string{"validate-logs"}, tc.args...)...)
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 saying %q", code, stderr, tc.want)
			}
		})
	}
}

// A trail that cannot be checked exits 2 and says why and what to do:
// validation off (with the update-trail fix), or no digest in the range.
func TestValidateLogs_cannot_be_checked(t *testing.T) {
	tests := []struct {
		name       string
		validation bool
		want       string
	}{
		{"log_file_validation_off_names_the_fix", false, "--enable-log-file-validation"},
		{"no_digests_in_the_range_is_never_valid", true, "no digest files between"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			emu, srv := awsemu.Start()
			t.Cleanup(srv.Close)
			creds := emu.AddAccount(deliveryAcct)
			arn, err := emu.PutTrail(deliveryAcct, awsemu.TrailSpec{Name: "audit", S3BucketName: "integrity-logs",
				LogFileValidation: tc.validation, Logging: true})
			if err != nil {
				t.Fatal(err)
			}
			isolateAWS(t, creds)
			createBucket(t, srv.URL, creds, "integrity-logs")
			for _, format := range []string{"json", "text"} {
				code, out, stderr := cli(t, "validate-logs", "--endpoint-url", srv.URL, "--trail-arn", arn, "--format", format)
				if code != 2 || !strings.Contains(out, tc.want) {
					t.Errorf("%s: exit %d, want 2 with %q in\n%s\n%s", format, code, tc.want, out, stderr)
				}
				if format == "json" {
					r := parseValidateLogs(t, out)
					if r.Summary.Status != "unchecked" || len(r.Trails) != 1 || r.Trails[0].Trail != arn {
						t.Errorf("report %+v", r)
					}
				}
			}
		})
	}
}
