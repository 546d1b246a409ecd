package awsemu_test

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The acceptance test of the emulator's deliveries: `aws cloudtrail
// validate-logs` (AWS CLI v1, the emulator named by AWS_ENDPOINT_URL for
// CloudTrail, S3 and Organizations alike) reports every digest and log
// file of an untouched delivery valid, in every region it is run for; and
// once a file is tampered with through the real AWS CLI it reports that
// file, with the reason AWS's tool gives.
func TestValidateLogsAWSCLI(t *testing.T) {
	cases := []struct {
		name string
		// tamper gets the us-east-1 log file and the newest and oldest
		// digests.
		tamper  func(t *testing.T, d *deliveredTrail, logKey, newest, oldest string)
		region  string
		exit    int
		want    []string
		invalid string // the INVALID line the CLI must print, "" for none
	}{
		{"untouched_us_east_1", nil, "us-east-1", 0, []string{"2/2 digest files valid", "1/1 log files valid"}, ""},
		{"untouched_eu_west_1", nil, "eu-west-1", 0, []string{"2/2 digest files valid", "1/1 log files valid"}, ""},
		{"untouched_region_without_events", nil, "ap-south-1", 0, []string{"2/2 digest files valid"}, ""},
		{"log_file_deleted", func(t *testing.T, d *deliveredTrail, logKey, _, _ string) {
			d.cliV2(t, "s3", "rm", "s3://"+d.bucket+"/"+logKey)
		}, "us-east-1", 1, []string{"0/1 log files valid"}, "\tINVALID: not found"},
		{"log_file_edited", func(t *testing.T, d *deliveredTrail, logKey, _, _ string) {
			raw, _ := d.get(t, logKey)
			edited := bytes.Replace(raw, []byte(`"AddTags"`), []byte(`"AddTagz"`), 1)
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			zw.Write(edited)
			zw.Close()
			file := filepath.Join(t.TempDir(), "edited.json.gz")
			must(t, os.WriteFile(file, buf.Bytes(), 0o600))
			d.cliV2(t, "s3", "cp", file, "s3://"+d.bucket+"/"+logKey)
		}, "us-east-1", 1, []string{"0/1 log files valid"}, "\tINVALID: hash value doesn't match"},
		{"digest_signature_changed", func(t *testing.T, d *deliveredTrail, _, digestKey, _ string) {
			_, meta := d.get(t, digestKey)
			sig := []byte(meta["signature"])
			if sig[0] == '0' {
				sig[0] = '1'
			} else {
				sig[0] = '0'
			}
			d.cliV2(t, "s3", "cp", "s3://"+d.bucket+"/"+digestKey, "s3://"+d.bucket+"/"+digestKey,
				"--metadata", "signature="+string(sig)+",signature-algorithm=SHA256withRSA", "--metadata-directive", "REPLACE")
		}, "us-east-1", 1, []string{"1/2 digest files valid"}, "\tINVALID: signature verification failed"},
		// The oldest: the newer one names it. (A deleted newest digest is
		// named by none, and the AWS CLI does not notice it.)
		{"digest_deleted", func(t *testing.T, d *deliveredTrail, _, _, digestKey string) {
			d.cliV2(t, "s3", "rm", "s3://"+d.bucket+"/"+digestKey)
		}, "us-east-1", 1, []string{"1/2 digest files valid"}, "\tINVALID: not found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := newDeliveredTrail(t)
			v1 := newCLIv1(t, d.e, d.creds)
			if tc.tamper != nil {
				logKey := d.e.emu.DeliveredObjects(d.bucket, "AWSLogs/"+acctA+"/CloudTrail/us-east-1/")[0]
				digests := d.e.emu.DeliveredObjects(d.bucket, "AWSLogs/"+acctA+"/CloudTrail-Digest/us-east-1/")
				tc.tamper(t, d, logKey, digests[len(digests)-1], digests[0])
			}
			code, out, errOut := v1.run(tc.region, "cloudtrail", "validate-logs", "--trail-arn", d.arn,
				"--start-time", d.t0.Add(-5*time.Minute).Format(time.RFC3339), "--end-time", d.t0.Add(3*time.Hour).Format(time.RFC3339), "--verbose")
			all := out + errOut
			if code != tc.exit {
				t.Fatalf("validate-logs exit %d, want %d:\n%s", code, tc.exit, all)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("validate-logs does not say %q:\n%s", w, all)
				}
			}
			if tc.invalid == "" && strings.Contains(all, "INVALID") {
				t.Errorf("validate-logs reports an untouched delivery invalid:\n%s", all)
			}
			if tc.invalid != "" && !strings.Contains(errOut, tc.invalid) {
				t.Errorf("validate-logs does not report %q:\n%s", tc.invalid, all)
			}
		})
	}
}

// cliV2 runs a command of the v2 AWS CLI (--endpoint-url) that must
// succeed.
func (d *deliveredTrail) cliV2(t *testing.T, args ...string) {
	t.Helper()
	if code, out, errOut := newCLI(t, d.e, d.creds.AccessKeyID, d.creds.SecretAccessKey).run("us-east-1", args...); code != 0 {
		t.Fatalf("aws %s: exit %d: %s%s", strings.Join(args, " "), code, out, errOut)
	}
}
