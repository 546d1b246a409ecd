package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	tgaws "github.com/trailguard/trailguard/aws"
	"github.com/trailguard/trailguard/internal/awsemu"
)

// emuDelivery is a logging multi-region trail with log file validation,
// made through the API in the emulator, with calls recorded in two
// regions and delivered at t0+1m (log files, chains start), t0+61m and
// t0+121m (a digest per region each), as CloudTrail would have.
type emuDelivery struct {
	emu    *awsemu.Emulator
	url    string
	creds  awsemu.Credentials
	arn    string
	bucket string
	t0     time.Time
	s3     *s3.Client
}

func newEmuDelivery(t *testing.T) *emuDelivery {
	t.Helper()
	emu, srv := awsemu.Start()
	t.Cleanup(srv.Close)
	creds := emu.AddAccount(deliveryAcct)
	isolateAWS(t, creds)
	const bucket = "validated-logs"
	createBucket(t, srv.URL, creds, bucket)
	ctx := context.Background()
	cfg := tgaws.StaticConfig(srv.URL, "us-east-1", creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken, nil)
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	policy := `{"Version":"2012-10-17","Statement":[` +
		`{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:GetBucketAcl","Resource":"arn:aws:s3:::` + bucket + `"},` +
		`{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::` + bucket + `/*"}]}`
	if _, err := s3c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: sdkaws.String(bucket), Policy: &policy}); err != nil {
		t.Fatal(err)
	}
	ct := cloudtrail.NewFromConfig(cfg)
	out, err := ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: sdkaws.String("validated"), S3BucketName: sdkaws.String(bucket),
		IsMultiRegionTrail: sdkaws.Bool(true), EnableLogFileValidation: sdkaws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	arn := sdkaws.ToString(out.TrailARN)
	t0 := time.Now().UTC()
	if _, err := ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: &arn}); err != nil {
		t.Fatal(err)
	}
	if _, err := ct.AddTags(ctx, &cloudtrail.AddTagsInput{ResourceId: &arn, TagsList: []cttypes.Tag{{Key: sdkaws.String("team"), Value: sdkaws.String("audit")}}}); err != nil {
		t.Fatal(err)
	}
	eu := cloudtrail.NewFromConfig(cfg, func(o *cloudtrail.Options) { o.Region = "eu-west-1" })
	// A call in a second region; refused or not, it is recorded there.
	_, _ = eu.ListTrails(ctx, &cloudtrail.ListTrailsInput{})
	for _, d := range []time.Duration{time.Minute, 61 * time.Minute, 121 * time.Minute} {
		if err := emu.DeliverLogs(t0.Add(d)); err != nil {
			t.Fatal(err)
		}
	}
	return &emuDelivery{emu: emu, url: srv.URL, creds: creds, arn: arn, bucket: bucket, t0: t0,
		s3: s3c}
}

// objects are the delivered keys under AWSLogs/<account>/<kind>/<region>/, oldest first.
func (d *emuDelivery) objects(kind, region string) []string {
	return d.emu.DeliveredObjects(d.bucket, "AWSLogs/"+deliveryAcct+"/"+kind+"/"+region+"/")
}

func (d *emuDelivery) validate(t *testing.T, extra ...string) (int, validateLogsJSON, string) {
	t.Helper()
	args := append([]string{"validate-logs", "--endpoint-url", d.url, "--trail-arn", d.arn,
		"--start-time", d.t0.Add(-5 * time.Minute).Format(time.RFC3339), "--end-time", d.t0.Add(3 * time.Hour).Format(time.RFC3339)}, extra...)
	code, out, stderr := cli(t, append(args, "--format", "json")...)
	r := parseValidateLogs(t, out)
	_, text, _ := cli(t, args...)
	return code, r, text + stderr
}

func (d *emuDelivery) getRaw(t *testing.T, key string) ([]byte, map[string]string) {
	t.Helper()
	out, err := d.s3.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &d.bucket, Key: &key})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b, out.Metadata
}

// flipHex changes one hex digit of a signature.
func flipHex(c byte) byte {
	if c == '0' {
		return '1'
	}
	return '0'
}

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gunzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// regionProblems returns "object kind file" of the problems in region.
func regionProblems(r validateLogsJSON, region string) []string {
	var out []string
	for _, tr := range r.Trails {
		for _, rr := range tr.Regions {
			if rr.Region == region {
				for _, p := range rr.Problems {
					out = append(out, p.Object+" "+p.Kind+" "+p.File)
				}
			}
		}
	}
	return out
}

// validate-logs over HTTP against the emulator's deliveries: untouched,
// every region of the multi-region trail is valid in one run; each
// tampering (through the SDK) is reported on the file it touched, with
// the AWS CLI's reason class, and exits 1.
func TestValidateLogs_emulated_delivery(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		// tamper gets the us-east-1 log file and the newest and oldest
		// us-east-1 digests, and returns the file the report must name.
		tamper func(t *testing.T, d *emuDelivery, logKey, newest, oldest string) string
		kind   string // the problem kind, "" for none
		object string
	}{
		{name: "untouched_delivery_is_valid_in_every_region"},
		{name: "log_file_deleted_is_not_found", kind: "not_found", object: "log_file",
			tamper: func(t *testing.T, d *emuDelivery, logKey, _, _ string) string {
				if _, err := d.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &d.bucket, Key: &logKey}); err != nil {
					t.Fatal(err)
				}
				return logKey
			}},
		{name: "log_file_edited_hash_does_not_match", kind: "hash_mismatch", object: "log_file",
			tamper: func(t *testing.T, d *emuDelivery, logKey, _, _ string) string {
				raw, _ := d.getRaw(t, logKey)
				edited := bytes.Replace(gunzipped(t, raw), []byte(`"AddTags"`), []byte(`"AddTagz"`), 1)
				if _, err := d.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: &d.bucket, Key: &logKey, Body: bytes.NewReader(gzipped(t, edited))}); err != nil {
					t.Fatal(err)
				}
				return logKey
			}},
		{name: "digest_deleted_breaks_the_chain", kind: "not_found", object: "digest",
			tamper: func(t *testing.T, d *emuDelivery, _, _, oldest string) string {
				if _, err := d.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &d.bucket, Key: &oldest}); err != nil {
					t.Fatal(err)
				}
				return oldest
			}},
		{name: "signature_metadata_changed_is_invalid_signature", kind: "invalid_signature", object: "digest",
			tamper: func(t *testing.T, d *emuDelivery, _, newest, _ string) string {
				_, meta := d.getRaw(t, newest)
				sig := []byte(meta["signature"])
				sig[0] = flipHex(sig[0])
				src := d.bucket + "/" + newest
				if _, err := d.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: &d.bucket, Key: &newest, CopySource: &src,
					MetadataDirective: s3types.MetadataDirectiveReplace,
					Metadata:          map[string]string{"signature": string(sig), "signature-algorithm": "SHA256withRSA"}}); err != nil {
					t.Fatal(err)
				}
				return newest
			}},
		{name: "digest_edited_is_invalid_signature", kind: "invalid_signature", object: "digest",
			tamper: func(t *testing.T, d *emuDelivery, _, newest, _ string) string {
				raw, meta := d.getRaw(t, newest)
				edited := bytes.Replace(gunzipped(t, raw), []byte(`"logFiles":`), []byte(` "logFiles":`), 1)
				if _, err := d.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: &d.bucket, Key: &newest, Body: bytes.NewReader(gzipped(t, edited)), Metadata: meta}); err != nil {
					t.Fatal(err)
				}
				return newest
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newEmuDelivery(t)
			logs, digests := d.objects("CloudTrail", "us-east-1"), d.objects("CloudTrail-Digest", "us-east-1")
			if len(logs) == 0 || len(digests) != 2 {
				t.Fatalf("the emulator delivered log files %q and digests %q in us-east-1", logs, digests)
			}
			var file string
			if tc.tamper != nil {
				file = "s3://" + d.bucket + "/" + tc.tamper(t, d, logs[0], digests[len(digests)-1], digests[0])
			}
			code, r, text := d.validate(t)
			if len(r.Trails) != 1 || r.Trails[0].Error != "" {
				t.Fatalf("trails %+v\n%s", r.Trails, text)
			}
			regions := r.Trails[0].Regions
			if len(regions) < 17 {
				t.Errorf("%d regions checked, want every enabled region of the multi-region trail", len(regions))
			}
			for _, rr := range regions {
				if rr.Error != "" || rr.Digests.Checked != 2 {
					t.Errorf("%s: error %q, %d digests checked, want 2", rr.Region, rr.Error, rr.Digests.Checked)
				}
				if rr.Region != "us-east-1" && (len(rr.Problems) > 0 || rr.Digests.Valid != 2) {
					t.Errorf("%s was not tampered with: %+v", rr.Region, rr)
				}
			}
			got := regionProblems(r, "us-east-1")
			if tc.kind == "" {
				if code != 0 || len(got) != 0 || r.Summary.Status != "valid" {
					t.Fatalf("untouched: exit %d, problems %q, status %s\n%s", code, got, r.Summary.Status, text)
				}
				if !strings.Contains(text, "all valid") {
					t.Errorf("the text does not say all valid:\n%s", text)
				}
				return
			}
			want := []string{tc.object + " " + tc.kind + " " + file}
			if code != 1 || !slices.Equal(got, want) || r.Summary.Status != "invalid" {
				t.Errorf("exit %d, problems %q; want 1 and %q\n%s", code, got, want, text)
			}
			if !strings.Contains(text, file) || !strings.Contains(text, "INVALID") {
				t.Errorf("the text report does not name %s INVALID:\n%s", file, text)
			}
		})
	}
}

// Tampering done by the real AWS CLI (aws s3 rm, aws s3 cp of an edited
// file, a copy that replaces the signature metadata) is found, file by
// file, with the class the AWS CLI's validate-logs gives.
func TestValidateLogs_tampered_through_the_aws_cli(t *testing.T) {
	aws := awsemu.AWSCLI(t)
	tests := []struct {
		name   string
		tamper func(t *testing.T, d *emuDelivery, run func(...string), logKey, newest, oldest string) string
		want   string
	}{
		{"aws_s3_rm_of_a_log_file", func(t *testing.T, d *emuDelivery, run func(...string), logKey, _, _ string) string {
			run("s3", "rm", "s3://"+d.bucket+"/"+logKey)
			return "log_file not_found s3://" + d.bucket + "/" + logKey
		}, ""},
		{"aws_s3_cp_of_an_edited_log_file", func(t *testing.T, d *emuDelivery, run func(...string), logKey, _, _ string) string {
			raw, _ := d.getRaw(t, logKey)
			edited := bytes.Replace(gunzipped(t, raw), []byte(`"AddTags"`), []byte(`"AddTagz"`), 1)
			file := filepath.Join(t.TempDir(), "edited.json.gz")
			if err := os.WriteFile(file, gzipped(t, edited), 0o600); err != nil {
				t.Fatal(err)
			}
			run("s3", "cp", file, "s3://"+d.bucket+"/"+logKey)
			return "log_file hash_mismatch s3://" + d.bucket + "/" + logKey
		}, ""},
		{"aws_s3_rm_of_a_digest", func(t *testing.T, d *emuDelivery, run func(...string), _, _, oldest string) string {
			run("s3", "rm", "s3://"+d.bucket+"/"+oldest)
			return "digest not_found s3://" + d.bucket + "/" + oldest
		}, ""},
		{"aws_s3_cp_replacing_the_signature", func(t *testing.T, d *emuDelivery, run func(...string), _, newest, _ string) string {
			_, meta := d.getRaw(t, newest)
			sig := []byte(meta["signature"])
			sig[len(sig)-1] = flipHex(sig[len(sig)-1])
			run("s3", "cp", "s3://"+d.bucket+"/"+newest, "s3://"+d.bucket+"/"+newest,
				"--metadata", "signature="+string(sig)+",signature-algorithm=SHA256withRSA", "--metadata-directive", "REPLACE")
			return "digest invalid_signature s3://" + d.bucket + "/" + newest
		}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newEmuDelivery(t)
			run := func(args ...string) {
				t.Helper()
				cmd := exec.Command(aws, append([]string{"--endpoint-url", d.url, "--region", "us-east-1"}, args...)...)
				// isolateAWS sets AWS_PROFILE empty, which the AWS CLI
				// takes for a profile named "".
				cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "AWS_PROFILE=") })
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
				}
			}
			logs, digests := d.objects("CloudTrail", "us-east-1"), d.objects("CloudTrail-Digest", "us-east-1")
			want := tc.tamper(t, d, run, logs[0], digests[len(digests)-1], digests[0])
			code, r, text := d.validate(t)
			if got := regionProblems(r, "us-east-1"); code != 1 || !slices.Equal(got, []string{want}) {
				t.Errorf("exit %d, problems %q; want 1 and %q\n%s", code, got, want, text)
			}
		})
	}
}

// A trail stopped and started again begins a new chain: validate-logs says
// "No log files were delivered by CloudTrail between X and Y", as the AWS
// CLI does, and counts it as no invalid file (exit 0).
func TestValidateLogs_stopped_and_restarted_trail_is_a_gap(t *testing.T) {
	emu, srv := awsemu.Start()
	t.Cleanup(srv.Close)
	creds := emu.AddAccount(deliveryAcct)
	isolateAWS(t, creds)
	createBucket(t, srv.URL, creds, "gap-logs")
	arn, err := emu.PutTrail(deliveryAcct, awsemu.TrailSpec{Name: "gappy", S3BucketName: "gap-logs", LogFileValidation: true, Logging: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ct := cloudtrail.NewFromConfig(tgaws.StaticConfig(srv.URL, "us-east-1", creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken, nil))
	t0 := time.Now().UTC()
	for _, step := range []struct {
		at   time.Duration
		then func() error
	}{
		{time.Minute, nil},
		{61 * time.Minute, func() error { _, err := ct.StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: &arn}); return err }},
		{70 * time.Minute, func() error { _, err := ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: &arn}); return err }},
		{80 * time.Minute, nil},
		{141 * time.Minute, nil},
	} {
		if err := emu.DeliverLogs(t0.Add(step.at)); err != nil {
			t.Fatal(err)
		}
		if step.then != nil {
			if err := step.then(); err != nil {
				t.Fatal(err)
			}
		}
	}
	args := []string{"validate-logs", "--endpoint-url", srv.URL, "--trail-arn", arn,
		"--start-time", t0.Add(-5 * time.Minute).Format(time.RFC3339), "--end-time", t0.Add(3 * time.Hour).Format(time.RFC3339)}
	code, out, stderr := cli(t, append(args, "--format", "json")...)
	r := parseValidateLogs(t, out)
	if code != 0 || r.Summary.Status != "valid" || len(r.Trails) != 1 || len(r.Trails[0].Regions) != 1 {
		t.Fatalf("exit %d, report %+v\n%s", code, r, stderr)
	}
	reg := r.Trails[0].Regions[0]
	if reg.Digests.Valid < 2 || reg.Digests.Invalid != 0 {
		t.Errorf("digests %+v", reg.Digests)
	}
	var gaps int
	for _, p := range reg.Problems {
		if p.Kind != "gap" || !strings.HasPrefix(p.Detail, "No log files were delivered by CloudTrail between ") {
			t.Errorf("problem %+v, want only the gap", p)
		}
		gaps++
	}
	if gaps != 1 {
		t.Errorf("%d gaps, want 1: %+v", gaps, reg.Problems)
	}
	if _, text, _ := cli(t, args...); !strings.Contains(text, "No log files were delivered by CloudTrail between") || !strings.Contains(text, "all valid") {
		t.Errorf("text report:\n%s", text)
	}
}

// An organization trail delivers each member's logs under the
// organization's id; from the management account, --org --account-id
// checks a member's, with or without --trail-arn.
func TestValidateLogs_organization_trail_member_logs(t *testing.T) {
	const mgmt, member = "111111111111", "222222222222"
	emu, srv := awsemu.Start()
	t.Cleanup(srv.Close)
	mgmtCreds := emu.AddAccount(mgmt)
	memberCreds := emu.AddAccount(member)
	emu.SetOrganization(mgmt, member)
	isolateAWS(t, mgmtCreds)
	createBucket(t, srv.URL, mgmtCreds, "org-logs")
	arn, err := emu.PutTrail(mgmt, awsemu.TrailSpec{Name: "org-trail", HomeRegion: "us-east-1", S3BucketName: "org-logs",
		IsOrganizationTrail: true, IncludeGlobalServiceEvents: true, LogFileValidation: true, Logging: true})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().UTC()
	for _, d := range []time.Duration{time.Minute, 61 * time.Minute, 121 * time.Minute} {
		if err := emu.DeliverLogs(t0.Add(d)); err != nil {
			t.Fatal(err)
		}
	}
	window := []string{"--endpoint-url", srv.URL, "--start-time", t0.Add(-5 * time.Minute).Format(time.RFC3339), "--end-time", t0.Add(3 * time.Hour).Format(time.RFC3339), "--format", "json"}
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"by_trail_arn", []string{"--trail-arn", arn, "--account-id", member}},
		{"every_organization_trail_of_the_scan", []string{"--org", "--account-id", member}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, stderr := cli(t, append(append([]string{"validate-logs"}, tc.args...), window...)...)
			r := parseValidateLogs(t, out)
			if code != 0 || len(r.Trails) != 1 || r.Trails[0].Account != member || len(r.Trails[0].Regions) != 1 {
				t.Fatalf("exit %d, report %+v\n%s%s", code, r, out, stderr)
			}
			reg := r.Trails[0].Regions[0]
			if reg.Digests.Valid != 2 || len(reg.Problems) != 0 {
				t.Errorf("member's region %+v", reg)
			}
		})
	}
	// From the member, without --account-id, the logs checked are the
	// member's own (the bucket is the management account's: what the
	// member may not read is named, never called valid).
	t.Run("member_checks_its_own_logs", func(t *testing.T) {
		isolateAWS(t, memberCreds)
		code, out, stderr := cli(t, append([]string{"validate-logs", "--trail-arn", arn}, window...)...)
		r := parseValidateLogs(t, out)
		if len(r.Trails) != 1 || r.Trails[0].Account != member {
			t.Fatalf("exit %d, report %+v\n%s", code, r, stderr)
		}
		if code == 2 && !strings.Contains(out, "s3:") && !strings.Contains(out, "cloudtrail:") && !strings.Contains(out, "organizations:") {
			t.Errorf("exit 2 without naming the permission:\n%s", out)
		}
		if code == 1 {
			t.Errorf("the member's untouched logs were called invalid:\n%s", out)
		}
	})
}

// A trail's bucket may lie in another region than the caller's. S3 answers
// a request signed for the wrong region with a 301 that names the
// bucket's region (x-amz-bucket-region); the emulator does not, so a
// wrapper here answers as S3 does. validate-logs asks the bucket's region
// once and reads it from there.
func TestValidateLogs_bucket_in_another_region(t *testing.T) {
	emu := awsemu.New()
	const bucket = "eu-logs"
	scope := regexp.MustCompile(`Credential=[^/]+/\d{8}/([a-z0-9-]+)/s3/`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/"+bucket) {
			if m := scope.FindStringSubmatch(r.Header.Get("Authorization")); m != nil && m[1] != "eu-west-1" {
				w.Header().Set("x-amz-bucket-region", "eu-west-1")
				w.WriteHeader(http.StatusMovedPermanently)
				if r.Method != http.MethodHead {
					io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>PermanentRedirect</Code><Message>The bucket you are attempting to access must be addressed using the specified endpoint.</Message></Error>`)
				}
				return
			}
		}
		emu.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	creds := emu.AddAccount(deliveryAcct)
	isolateAWS(t, creds)
	cfg := tgaws.StaticConfig(srv.URL, "eu-west-1", creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken, nil)
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: sdkaws.String(bucket),
		CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraintEuWest1}}); err != nil {
		t.Fatal(err)
	}
	arn, err := emu.PutTrail(deliveryAcct, awsemu.TrailSpec{Name: "audit", S3BucketName: bucket, LogFileValidation: true, Logging: true})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().UTC()
	for _, d := range []time.Duration{time.Minute, 61 * time.Minute, 121 * time.Minute} {
		if err := emu.DeliverLogs(t0.Add(d)); err != nil {
			t.Fatal(err)
		}
	}
	code, out, stderr := cli(t, "validate-logs", "--endpoint-url", srv.URL, "--region", "us-east-1", "--trail-arn", arn, "--format", "json",
		"--start-time", t0.Add(-5*time.Minute).Format(time.RFC3339), "--end-time", t0.Add(3*time.Hour).Format(time.RFC3339))
	r := parseValidateLogs(t, out)
	if code != 0 || len(r.Trails) != 1 || len(r.Trails[0].Regions) != 1 || r.Trails[0].Regions[0].Digests.Valid != 2 {
		t.Fatalf("exit %d, report\n%s\n%s", code, out, stderr)
	}
}

// A read that is denied is never valid: validate-logs exits 2 and names
// the permission to grant, for the objects and the public keys. (The
// emulator does not yet deny ListObjectsV2 under s3:ListBucket, so the
// listing's denial is not among the cases.)
func TestValidateLogs_denied_reads_name_the_permission(t *testing.T) {
	tests := []struct {
		deny string
		want string
	}{
		{"s3:GetObject", "s3:GetObject on arn:aws:s3:::validated-logs/*"},
		{"cloudtrail:ListPublicKeys", "cloudtrail:ListPublicKeys"},
		{"s3:ListBucket", "s3:ListBucket on arn:aws:s3:::validated-logs"},
	}
	for _, tc := range tests {
		t.Run(strings.ReplaceAll(tc.deny, ":", "_"), func(t *testing.T) {
			d := newEmuDelivery(t)
			d.emu.Deny(tc.deny)
			code, r, text := d.validate(t)
			if code != 2 || r.Summary.Status != "unchecked" {
				t.Fatalf("exit %d, status %s; want 2, unchecked\n%s", code, r.Summary.Status, text)
			}
			if !strings.Contains(text, tc.want) || !strings.Contains(text, "grant") {
				t.Errorf("the report does not name %q with what to grant:\n%s", tc.want, text)
			}
			if strings.Contains(text, "INVALID:") {
				t.Errorf("a denied read is called INVALID:\n%s", text)
			}
		})
	}
}

// CloudTrail rotates a region's signing key: digests on either side are
// signed with different keys, ListPublicKeys lists both, and each digest
// is verified with the key its fingerprint names.
func TestValidateLogs_across_a_signing_key_rotation(t *testing.T) {
	emu, srv := awsemu.Start()
	t.Cleanup(srv.Close)
	creds := emu.AddAccount(deliveryAcct)
	isolateAWS(t, creds)
	createBucket(t, srv.URL, creds, "rotated-logs")
	arn, err := emu.PutTrail(deliveryAcct, awsemu.TrailSpec{Name: "audit", S3BucketName: "rotated-logs", LogFileValidation: true, Logging: true})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().UTC()
	for i, d := range []time.Duration{time.Minute, 61 * time.Minute, 121 * time.Minute, 181 * time.Minute} {
		if i == 2 {
			if err := emu.RotateSigningKey("us-east-1", t0.Add(90*time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
		if err := emu.DeliverLogs(t0.Add(d)); err != nil {
			t.Fatal(err)
		}
	}
	s3c := s3.NewFromConfig(tgaws.StaticConfig(srv.URL, "us-east-1", creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken, nil),
		func(o *s3.Options) { o.UsePathStyle = true })
	fingerprints := map[string]bool{}
	for _, k := range emu.DeliveredObjects("rotated-logs", "AWSLogs/"+deliveryAcct+"/CloudTrail-Digest/") {
		obj, err := s3c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: sdkaws.String("rotated-logs"), Key: &k})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(obj.Body)
		obj.Body.Close()
		var doc struct {
			FP string `json:"digestPublicKeyFingerprint"`
		}
		if err := json.Unmarshal(gunzipped(t, b), &doc); err != nil {
			t.Fatal(err)
		}
		fingerprints[doc.FP] = true
	}
	if len(fingerprints) != 2 {
		t.Fatalf("the digests name %d signing keys, want 2 (one each side of the rotation)", len(fingerprints))
	}
	code, out, stderr := cli(t, "validate-logs", "--endpoint-url", srv.URL, "--trail-arn", arn, "--format", "json",
		"--start-time", t0.Add(-5*time.Minute).Format(time.RFC3339), "--end-time", t0.Add(4*time.Hour).Format(time.RFC3339))
	r := parseValidateLogs(t, out)
	if code != 0 || len(r.Trails) != 1 || len(r.Trails[0].Regions) != 1 || r.Trails[0].Regions[0].Digests.Valid != 3 {
		t.Fatalf("exit %d, report\n%s\n%s", code, out, stderr)
	}
}
