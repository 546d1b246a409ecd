package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	tgaws "github.com/trailguard/trailguard/aws"
	"github.com/trailguard/trailguard/internal/awsemu"
	"github.com/trailguard/trailguard/logintegrity"
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

// Names and details come from S3 and from digests: neither the text nor
// the JSON report lets a control or bidi character reach the terminal.
func TestValidateLogs_report_escapes_what_S3_holds(t *testing.T) {
	hostile := "AWSLogs/\x1b[2J\u202eevil\x07.json.gz"
	rep := &logIntegrityReport{Trails: []trailIntegrity{{Trail: "arn:aws:cloudtrail:us-east-1:123456789012:trail/t\x1b]0;x\x07", Account: "123456789012",
		Regions: []logintegrity.RegionReport{{Region: "us-east-1", Problems: []logintegrity.Problem{
			{File: "s3://b/" + hostile, Object: logintegrity.ObjectLogFile, Kind: logintegrity.KindHashMismatch, Detail: "records \x9b31m"},
			{File: "s3://b/d", Object: logintegrity.ObjectDigest, Kind: logintegrity.KindGap, Detail: "No log files \u2066were"},
		}}}}}}
	for _, tc := range []struct {
		name  string
		write func(io.Writer, *logIntegrityReport) error
	}{{"text", writeIntegrityText}, {"json", writeIntegrityJSON}} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			if err := tc.write(&b, rep); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			for _, bad := range []string{"\x1b", "\x07", "\u202e", "\u2066", "\x9b", "\u009b"} {
				if strings.Contains(out, bad) {
					t.Errorf("output holds %q:\n%s", bad, out)
				}
			}
			if !strings.Contains(out, "evil") {
				t.Errorf("the file name is gone:\n%s", out)
			}
		})
	}
}

// iam-policy --validate-logs prints every permission validate-logs calls
// with, the bucket's scoped to the bucket named.
func TestIAMPolicy_validate_logs(t *testing.T) {
	code, out, stderr := cli(t, "iam-policy", "--validate-logs", "--log-bucket", "audit-logs")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var p iamPolicy
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatal(err)
	}
	granted := map[string]string{}
	for _, st := range p.Statement {
		for _, a := range st.Action {
			granted[a] = fmt.Sprint(st.Resource)
		}
	}
	for _, a := range append(slices.Clone(logintegrity.Actions), "organizations:DescribeOrganization", "ec2:DescribeRegions") {
		if _, ok := granted[a]; !ok {
			t.Errorf("the policy does not grant %s:\n%s", a, out)
		}
	}
	if granted["s3:GetObject"] != "arn:aws:s3:::audit-logs/*" || granted["s3:ListBucket"] != "arn:aws:s3:::audit-logs" {
		t.Errorf("bucket reads are not scoped to the bucket: %v", granted)
	}
}

// A denied bucket makes every file of a region unreadable for one reason:
// the text names the first few and counts the rest; every invalid file is
// named.
func TestValidateLogs_text_counts_unreadable_files_after_a_few(t *testing.T) {
	var probs []logintegrity.Problem
	for i := range 10 {
		probs = append(probs, logintegrity.Problem{File: fmt.Sprintf("s3://b/denied-%d", i), Object: logintegrity.ObjectLogFile, Kind: logintegrity.KindUnreadable, Detail: "AccessDenied"})
		probs = append(probs, logintegrity.Problem{File: fmt.Sprintf("s3://b/edited-%d", i), Object: logintegrity.ObjectLogFile, Kind: logintegrity.KindHashMismatch, Detail: "hash"})
	}
	rep := &logIntegrityReport{Trails: []trailIntegrity{{Trail: "t", Regions: []logintegrity.RegionReport{{Region: "us-east-1", Problems: probs}}}}}
	var b strings.Builder
	if err := writeIntegrityText(&b, rep); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if n := strings.Count(out, "NOT CHECKED: AccessDenied"); n != maxUnreadShown {
		t.Errorf("%d unreadable files named, want %d:\n%s", n, maxUnreadShown, out)
	}
	if n := strings.Count(out, "INVALID: hash"); n != 10 {
		t.Errorf("%d invalid files named, want all 10:\n%s", n, out)
	}
	if !strings.Contains(out, fmt.Sprintf("and %d more files not read", 10-maxUnreadShown)) {
		t.Errorf("the rest are not counted:\n%s", out)
	}
}
