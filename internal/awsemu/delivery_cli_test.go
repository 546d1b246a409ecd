package awsemu_test

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/trailguard/trailguard/internal/awsemu"
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

// An organization trail delivers each member's events under the
// organization id, with a digest chain per member and region:
// validate-logs run by the management account with --account-id finds
// the member's files valid.
func TestDeliverLogsOrganizationTrail(t *testing.T) {
	e := newEnv(t)
	mgmtCreds, memberCreds := e.emu.AddAccount(mgmt), e.emu.AddAccount(member)
	e.emu.SetOrganization(mgmt, member)
	arn, err := e.emu.PutTrail(mgmt, awsemu.TrailSpec{Name: "org-trail", HomeRegion: "us-east-1", S3BucketName: "org-validated",
		IsMultiRegion: true, IsOrganizationTrail: true, IncludeGlobalServiceEvents: true, LogFileValidation: true, Logging: true})
	must(t, err)
	if made := e.emu.EnsureTrailBuckets(); len(made) != 1 || made[0] != "org-validated" {
		t.Fatalf("EnsureTrailBuckets made %v", made)
	}
	org, err := e.org(mgmtCreds).DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	must(t, err)
	orgID := aws.ToString(org.Organization.Id)
	_, err = e.s3(memberCreds, "us-east-1").CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("member-bucket")})
	must(t, err)
	t0 := time.Now().UTC()
	must(t, e.emu.DeliverLogs(t0.Add(time.Minute)))
	must(t, e.emu.DeliverLogs(t0.Add(61*time.Minute)))

	base := "AWSLogs/" + orgID + "/" + member + "/"
	logs := e.emu.DeliveredObjects("org-validated", base+"CloudTrail/us-east-1/")
	digests := e.emu.DeliveredObjects("org-validated", base+"CloudTrail-Digest/us-east-1/")
	if len(logs) != 1 || len(digests) != 1 || !strings.Contains(digests[0], "/"+member+"_CloudTrail-Digest_us-east-1_org-trail_us-east-1_") {
		t.Fatalf("member files: logs %v digests %v", logs, digests)
	}
	if n := len(e.emu.DeliveredObjects("org-validated", "AWSLogs/"+orgID+"/"+mgmt+"/CloudTrail-Digest/")); n != 17 {
		t.Errorf("%d digests for the management account, want one per region (17)", n)
	}
	code, out, errOut := newCLIv1(t, e, mgmtCreds).run("us-east-1", "cloudtrail", "validate-logs", "--trail-arn", arn, "--account-id", member,
		"--start-time", t0.Add(-5*time.Minute).Format(time.RFC3339), "--end-time", t0.Add(2*time.Hour).Format(time.RFC3339))
	if code != 0 || !strings.Contains(out, "1/1 digest files valid") || !strings.Contains(out, "1/1 log files valid") {
		t.Errorf("validate-logs --account-id %s: exit %d:\n%s%s", member, code, out, errOut)
	}
}
