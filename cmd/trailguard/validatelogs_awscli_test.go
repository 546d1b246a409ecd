package main

// trailguard validate-logs is held here against AWS's own tool, `aws
// cloudtrail validate-logs`, on the same emulated bucket, tampered with
// through the AWS CLI. The facts the comparison rests on, read from
// awscli/customizations/cloudtrail/validation.py (aws-cli 1.45.11) and
// checked against the emulator:
//
//   - Which CLI: validate-logs builds its S3 and Organizations clients from
//     the session and passes --endpoint-url to its CloudTrail client only,
//     so the emulator must be named by AWS_ENDPOINT_URL, which every client
//     honours in aws-cli v1 from 1.29 (here 1.45.11 under pyenv, first on
//     PATH) and v2 from 2.13. Debian's /usr/bin/aws 2.9.19 ignores
//     AWS_ENDPOINT_URL (its DescribeTrails went to
//     cloudtrail.us-east-1.amazonaws.com) and with --endpoint-url sent
//     DescribeOrganization and the S3 calls to amazonaws.com.
//     internal/awsvalidate.Find picks the CLI.
//   - Calls: DescribeTrails (no parameters; the trail found by TrailARN),
//     DescribeOrganization for an organization trail (--account-id then
//     required), GetBucketLocation from the run's region, ListPublicKeys
//     once with StartTime = --start-time and EndTime = --end-time + 2 h,
//     ListObjects (v1, paged by Marker) with Prefix
//     [prefix/]AWSLogs/[o-id/]<account>/CloudTrail-Digest/<region> and
//     Marker = the digest key of --start-time minus one minute, stopping at
//     keys past --end-time + 1 h; GetObject of each digest (metadata
//     signature, signature-algorithm) and of each log file a valid digest
//     lists, one at a time.
//   - One region per run: --region is the region whose digests are walked;
//     a multi-region trail takes one run per region. The chain is walked
//     newest first by previousDigestS3Object; an invalid or missing digest
//     is reported and the walk resumes at the next older key listed; the
//     log files of an invalid digest are not checked.
//   - Output: with --verbose every valid file on stdout ("Digest
//     file\ts3://b/k\tvalid", "Log file ..."); on stderr always
//     "...\tINVALID: not found | signature verification failed | invalid
//     format | has been moved from its original location | public key not
//     found ... | hash value doesn't match", and "No log files were
//     delivered by CloudTrail between X and Y" for a gap (not invalid);
//     then the summary "Results requested for ...", "N/M digest files
//     valid[, K/M ... INVALID]", the same for log files.
//   - Exit 0 when nothing is invalid (gaps included), 1 when a digest or
//     log file is invalid, 255 when the run fails.

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	tgaws "github.com/trailguard/trailguard/aws"
	"github.com/trailguard/trailguard/internal/awsemu"
	"github.com/trailguard/trailguard/internal/awsvalidate"
)

const (
	cmpAcct   = "444455556666"
	cmpMember = "555566667777"
)

// cmpBucket is a trail's bucket after three hours of delivery, and the
// AWS CLI that tampers with it and validates it.
type cmpBucket struct {
	emu        *awsemu.Emulator
	url        string
	creds      awsemu.Credentials
	arn        string
	bucket     string
	start, end time.Time
	cli        awsvalidate.CLI
	// logsOf is whose logs are compared: the trail's account, or a
	// member of an organization trail (then --account-id to both tools).
	logsOf string
	member bool
}

// newCmpBucket delivers, for a multi-region trail with log file validation,
// three hourly digests in every enabled region and log files in us-east-1
// and eu-west-1 (events recorded between the deliveries). With stopped,
// logging is stopped (through the AWS CLI) for the third hour and started
// again, which ends the chain and starts a new one: a gap.
//
// With org, the trail is the organization trail of cmpAcct's organization
// and the logs compared are those of its member cmpMember, under the
// organization id, read by the management account.
func newCmpBucket(t *testing.T, stopped, org bool) *cmpBucket {
	t.Helper()
	cli := awsvalidate.ValidateLogsCLI(t)
	emu, srv := awsemu.Start()
	t.Cleanup(srv.Close)
	creds := emu.AddAccount(cmpAcct)
	isolateAWS(t, creds)
	b := &cmpBucket{emu: emu, url: srv.URL, creds: creds, bucket: "cmp-trail-logs", cli: cli, logsOf: cmpAcct}
	if org {
		emu.AddAccount(cmpMember)
		emu.SetOrganization(cmpAcct, cmpMember)
		b.logsOf, b.member = cmpMember, true
	}
	ctx := context.Background()
	cfg := func(region string) sdkaws.Config {
		return tgaws.StaticConfig(srv.URL, region, creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken, nil)
	}
	s3c := s3.NewFromConfig(cfg("us-east-1"), func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &b.bucket}); err != nil {
		t.Fatal(err)
	}
	// The trail is put directly: the bucket policy CloudTrail requires is
	// not what is compared here.
	arn, err := emu.PutTrail(cmpAcct, awsemu.TrailSpec{Name: "audit", S3BucketName: b.bucket, IsMultiRegion: true,
		IncludeGlobalServiceEvents: true, LogFileValidation: true, Logging: true, IsOrganizationTrail: org})
	if err != nil {
		t.Fatal(err)
	}
	b.arn = arn
	t0 := time.Now().UTC()
	hours := 4
	if stopped {
		hours = 5
	}
	for h := range hours {
		if stopped && h == 2 {
			b.aws(t, "cloudtrail", "stop-logging", "--name", b.arn)
		}
		// Events in two regions, then a delivery: each hour's log files
		// are listed by that hour's digest.
		at := t0.Add(time.Duration(h)*time.Hour + 30*time.Second).Format(time.RFC3339)
		for _, ev := range []awsemu.CloudTrailEvent{
			{EventName: "AddTags", AWSRegion: "us-east-1"},
			{EventName: "DescribeTrails", AWSRegion: "eu-west-1", ReadOnly: true},
		} {
			ev.EventTime, ev.RecipientAccountID, ev.EventSource, ev.ManagementEvent = at, b.logsOf, "cloudtrail.amazonaws.com", true
			if err := emu.AddEvent(ev); err != nil {
				t.Fatal(err)
			}
		}
		if err := emu.DeliverLogs(t0.Add(time.Duration(h)*time.Hour + time.Minute)); err != nil {
			t.Fatal(err)
		}
		if stopped && h == 2 {
			b.aws(t, "cloudtrail", "start-logging", "--name", b.arn)
		}
	}
	b.start, b.end = t0.Add(-5*time.Minute).Truncate(time.Second), t0.Add(time.Duration(hours)*time.Hour).Truncate(time.Second)
	return b
}

// aws runs an AWS CLI command that must succeed.
func (b *cmpBucket) aws(t *testing.T, args ...string) {
	t.Helper()
	cmd := b.cli.Exec(context.Background(), b.target("us-east-1"), args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func (b *cmpBucket) target(region string) awsvalidate.Target {
	return awsvalidate.Target{Endpoint: b.url, AccessKeyID: b.creds.AccessKeyID, SecretAccessKey: b.creds.SecretAccessKey,
		SessionToken: b.creds.SessionToken, Region: region}
}

// keys lists the delivered keys of a kind ("CloudTrail" or
// "CloudTrail-Digest") of the compared account in a region, oldest first.
func (b *cmpBucket) keys(t *testing.T, kind, region string) []string {
	t.Helper()
	var k []string
	for _, key := range b.emu.DeliveredObjects(b.bucket, "AWSLogs/") {
		if strings.Contains(key, "/"+b.logsOf+"/"+kind+"/"+region+"/") {
			k = append(k, key)
		}
	}
	if len(k) == 0 {
		t.Fatalf("nothing delivered under %s/%s", kind, region)
	}
	return k
}

// regions are the regions the bucket holds digests for, read from the
// keys, not from either tool.
func (b *cmpBucket) regions(t *testing.T) []string {
	t.Helper()
	set := map[string]bool{}
	for _, k := range b.emu.DeliveredObjects(b.bucket, "AWSLogs/") {
		if _, rest, ok := strings.Cut(k, "/"+b.logsOf+"/CloudTrail-Digest/"); ok {
			r, _, _ := strings.Cut(rest, "/")
			set[r] = true
		}
	}
	var out []string
	for r := range set {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// download fetches an object with the AWS CLI and returns the file.
func (b *cmpBucket) download(t *testing.T, key string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), filepath.Base(key))
	b.aws(t, "s3", "cp", "s3://"+b.bucket+"/"+key, file)
	return file
}

// editGzip rewrites a gzipped file in place: gunzip, replace, gzip.
func editGzip(t *testing.T, file, old, new string) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(raw, []byte(old)) {
		t.Fatalf("%s does not contain %q", file, old)
	}
	raw = bytes.Replace(raw, []byte(old), []byte(new), 1)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(raw)
	zw.Close()
	if err := os.WriteFile(file, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// signatureOf reads a digest's signature metadata through the AWS CLI.
func (b *cmpBucket) signatureOf(t *testing.T, key string) string {
	t.Helper()
	cmd := b.cli.Exec(context.Background(), b.target("us-east-1"), "s3api", "head-object", "--bucket", b.bucket, "--key", key, "--output", "json")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("head-object %s: %v", key, err)
	}
	var h struct{ Metadata map[string]string }
	if err := json.Unmarshal(out, &h); err != nil || h.Metadata["signature"] == "" {
		t.Fatalf("head-object %s: no signature metadata (%v): %s", key, err, out)
	}
	return h.Metadata["signature"]
}

// cmpTrailguard is the part of trailguard's JSON report compared.
type cmpTrailguard struct {
	Trails []struct {
		Error   string `json:"error"`
		Regions []struct {
			Region   string `json:"region"`
			Error    string `json:"error"`
			Digests  struct{ Checked, Valid, Invalid, Unreadable int }
			LogFiles struct{ Checked, Valid, Invalid, Unreadable int } `json:"log_files"`
			Problems []struct{ File, Object, Kind, Detail string }
			Omitted  int `json:"problems_omitted"`
		} `json:"regions"`
	} `json:"trails"`
}

// verdicts is one tool's word on the bucket: the class of every file it
// calls invalid ("digest s3://b/k" or "log s3://b/k"), its gaps and its
// valid counts, by region.
type verdicts struct {
	invalid       map[string]awsvalidate.Class
	gaps          map[string]int
	digests, logs map[string]int
	exit          int
}

func newVerdicts() verdicts {
	return verdicts{invalid: map[string]awsvalidate.Class{}, gaps: map[string]int{}, digests: map[string]int{}, logs: map[string]int{}}
}

func (b *cmpBucket) trailguard(t *testing.T) verdicts {
	t.Helper()
	args := []string{"validate-logs", "--endpoint-url", b.url, "--trail-arn", b.arn,
		"--start-time", b.start.Format(time.RFC3339), "--end-time", b.end.Format(time.RFC3339), "--format", "json"}
	if b.member {
		args = append(args, "--account-id", b.logsOf)
	}
	code, out, stderr := cli(t, args...)
	var r cmpTrailguard
	if err := json.Unmarshal([]byte(out), &r); err != nil || len(r.Trails) != 1 {
		t.Fatalf("trailguard validate-logs: exit %d, report %v:\n%s\n%s", code, err, out, stderr)
	}
	v := newVerdicts()
	v.exit = code
	if r.Trails[0].Error != "" {
		t.Fatalf("trailguard could not check the trail: %s", r.Trails[0].Error)
	}
	for _, reg := range r.Trails[0].Regions {
		if reg.Error != "" || reg.Omitted != 0 || reg.Digests.Unreadable+reg.LogFiles.Unreadable != 0 {
			t.Fatalf("trailguard in %s: error %q, %d problems omitted, %d unreadable", reg.Region, reg.Error, reg.Omitted,
				reg.Digests.Unreadable+reg.LogFiles.Unreadable)
		}
		v.digests[reg.Region] = reg.Digests.Valid
		v.logs[reg.Region] = reg.LogFiles.Valid
		for _, p := range reg.Problems {
			if p.Kind == "gap" {
				v.gaps[reg.Region]++
				continue
			}
			kind := awsvalidate.Digest
			if p.Object == "log_file" {
				kind = awsvalidate.LogFile
			}
			bucket, key, _ := strings.Cut(strings.TrimPrefix(p.File, "s3://"), "/")
			v.invalid[awsvalidate.FileID(kind, bucket, key)] = awsvalidate.Class(p.Kind)
		}
	}
	return v
}

// awsCLI runs aws cloudtrail validate-logs once per region, as it works,
// two at a time.
func (b *cmpBucket) awsCLI(t *testing.T, regions []string) verdicts {
	t.Helper()
	v := newVerdicts()
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	errs := make(chan error, len(regions))
	for _, region := range regions {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			run := awsvalidate.Run{Endpoint: b.url, AccessKeyID: b.creds.AccessKeyID,
				SecretAccessKey: b.creds.SecretAccessKey, SessionToken: b.creds.SessionToken, Region: region,
				TrailARN: b.arn, Start: b.start, End: b.end, Verbose: true}
			if b.member {
				run.AccountID = b.logsOf
			}
			res, err := b.cli.Validate(ctx, run)
			if err != nil {
				errs <- err
				return
			}
			rep := res.Report
			if len(rep.Unrecognized) > 0 {
				errs <- fmt.Errorf("aws cloudtrail validate-logs in %s printed what the parser does not know: %q", region, rep.Unrecognized)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			v.exit = max(v.exit, res.ExitCode)
			v.digests[region] = rep.Digests.Valid + rep.Backfill.Valid
			v.logs[region] = rep.Logs.Valid
			for _, o := range rep.Outcomes {
				switch o.Class {
				case awsvalidate.Valid:
				case awsvalidate.ChainGap:
					v.gaps[region]++
				default:
					v.invalid[awsvalidate.FileID(o.Kind, o.Bucket, o.Key)] = o.Class
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return v
}

// Every file either tool calls invalid, the other calls invalid with the
// same reason class; in the regions AWS's tool was run, both count the
// same valid digests and log files and the same gaps; both exit alike.
func TestValidateLogs_agrees_with_aws_cli(t *testing.T) {
	cases := []struct {
		name string
		// tamper changes the bucket through the AWS CLI and returns the
		// regions it touched (AWS's tool runs there; "" in the list: every
		// region of the bucket).
		tamper func(t *testing.T, b *cmpBucket) []string
		// want: the invalid files by class, as "digest <n>" (n-th oldest
		// digest of us-east-1) or "log <n>" (n-th log file of us-east-1).
		want map[string]awsvalidate.Class
		exit int
		// stopped: logging stopped for an hour (a gap in every region).
		stopped bool
		// org: an organization trail, a member's logs.
		org bool
	}{
		{"untouched_every_region", func(*testing.T, *cmpBucket) []string { return nil }, nil, 0, false, false},
		{"logging_stopped_for_an_hour", func(*testing.T, *cmpBucket) []string { return []string{"us-east-1", "eu-west-1"} }, nil, 0, true, false},
		{"log_file_deleted", func(t *testing.T, b *cmpBucket) []string {
			b.aws(t, "s3", "rm", "s3://"+b.bucket+"/"+b.keys(t, "CloudTrail", "us-east-1")[1])
			return []string{"us-east-1"}
		}, map[string]awsvalidate.Class{"log 1": awsvalidate.NotFound}, 1, false, false},
		{"log_file_edited", func(t *testing.T, b *cmpBucket) []string {
			key := b.keys(t, "CloudTrail", "us-east-1")[1]
			file := b.download(t, key)
			editGzip(t, file, `"AddTags"`, `"AddTagz"`)
			b.aws(t, "s3", "cp", file, "s3://"+b.bucket+"/"+key)
			return []string{"us-east-1"}
		}, map[string]awsvalidate.Class{"log 1": awsvalidate.HashMismatch}, 1, false, false},
		{"log_file_replaced_by_plain_json", func(t *testing.T, b *cmpBucket) []string {
			key := b.keys(t, "CloudTrail", "us-east-1")[1]
			file := filepath.Join(t.TempDir(), "plain.json")
			if err := os.WriteFile(file, []byte(`{"Records":[]}`), 0o600); err != nil {
				t.Fatal(err)
			}
			b.aws(t, "s3", "cp", file, "s3://"+b.bucket+"/"+key)
			return []string{"us-east-1"}
		}, map[string]awsvalidate.Class{"log 1": awsvalidate.InvalidFormat}, 1, false, false},
		{"oldest_digest_deleted", func(t *testing.T, b *cmpBucket) []string {
			b.aws(t, "s3", "rm", "s3://"+b.bucket+"/"+b.keys(t, "CloudTrail-Digest", "us-east-1")[0])
			return []string{"us-east-1"}
		}, map[string]awsvalidate.Class{"digest 0": awsvalidate.NotFound}, 1, false, false},
		{"digest_replaced_by_an_older_one", func(t *testing.T, b *cmpBucket) []string {
			d := b.keys(t, "CloudTrail-Digest", "us-east-1")
			b.aws(t, "s3", "cp", "s3://"+b.bucket+"/"+d[0], "s3://"+b.bucket+"/"+d[1])
			return []string{"us-east-1"}
		}, map[string]awsvalidate.Class{"digest 1": awsvalidate.Moved}, 1, false, false},
		{"digest_edited_signature_kept", func(t *testing.T, b *cmpBucket) []string {
			key := b.keys(t, "CloudTrail-Digest", "us-east-1")[1]
			sig := b.signatureOf(t, key)
			file := b.download(t, key)
			editGzip(t, file, `"hashValue":"`, `"hashValue":"0`)
			b.aws(t, "s3", "cp", file, "s3://"+b.bucket+"/"+key, "--metadata", "signature="+sig+",signature-algorithm=SHA256withRSA")
			return []string{"us-east-1"}
		}, map[string]awsvalidate.Class{"digest 1": awsvalidate.InvalidSignature}, 1, false, false},
		{"digest_signature_metadata_changed", func(t *testing.T, b *cmpBucket) []string {
			d := b.keys(t, "CloudTrail-Digest", "us-east-1")
			// Another digest's signature: well-formed, but not this one's.
			other := b.signatureOf(t, d[0])
			b.aws(t, "s3", "cp", "s3://"+b.bucket+"/"+d[2], "s3://"+b.bucket+"/"+d[2],
				"--metadata", "signature="+other+",signature-algorithm=SHA256withRSA", "--metadata-directive", "REPLACE")
			return []string{"us-east-1"}
		}, map[string]awsvalidate.Class{"digest 2": awsvalidate.InvalidSignature}, 1, false, false},
		{"digest_replaced_by_garbage", func(t *testing.T, b *cmpBucket) []string {
			key := b.keys(t, "CloudTrail-Digest", "us-east-1")[1]
			sig := b.signatureOf(t, key)
			file := filepath.Join(t.TempDir(), "garbage.json.gz")
			if err := os.WriteFile(file, []byte("not gzip"), 0o600); err != nil {
				t.Fatal(err)
			}
			b.aws(t, "s3", "cp", file, "s3://"+b.bucket+"/"+key, "--metadata", "signature="+sig+",signature-algorithm=SHA256withRSA")
			return []string{"us-east-1"}
		}, map[string]awsvalidate.Class{"digest 1": awsvalidate.InvalidFormat}, 1, false, false},
		{"two_regions_tampered", func(t *testing.T, b *cmpBucket) []string {
			b.aws(t, "s3", "rm", "s3://"+b.bucket+"/"+b.keys(t, "CloudTrail", "us-east-1")[1])
			eu := b.keys(t, "CloudTrail", "eu-west-1")[0]
			file := b.download(t, eu)
			editGzip(t, file, `"DescribeTrails"`, `"DescribeTrailz"`)
			b.aws(t, "s3", "cp", file, "s3://"+b.bucket+"/"+eu)
			return []string{"us-east-1", "eu-west-1"}
		}, map[string]awsvalidate.Class{"log 1": awsvalidate.NotFound, "eu-log 0": awsvalidate.HashMismatch}, 1, false, false},
		{"organization_trail_member_log_file_deleted", func(t *testing.T, b *cmpBucket) []string {
			key := b.keys(t, "CloudTrail", "us-east-1")[1]
			if !strings.HasPrefix(key, "AWSLogs/o-") {
				t.Fatalf("an organization trail's log file %s is not under the organization id", key)
			}
			b.aws(t, "s3", "rm", "s3://"+b.bucket+"/"+key)
			return []string{"us-east-1", "eu-west-1"}
		}, map[string]awsvalidate.Class{"log 1": awsvalidate.NotFound}, 1, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := newCmpBucket(t, tc.stopped, tc.org)
			want := map[string]awsvalidate.Class{}
			for name, class := range tc.want {
				kind, n, _ := strings.Cut(name, " ")
				var i int
				fmt.Sscan(n, &i)
				switch kind {
				case "digest":
					want[awsvalidate.FileID(awsvalidate.Digest, b.bucket, b.keys(t, "CloudTrail-Digest", "us-east-1")[i])] = class
				case "log":
					want[awsvalidate.FileID(awsvalidate.LogFile, b.bucket, b.keys(t, "CloudTrail", "us-east-1")[i])] = class
				case "eu-log":
					want[awsvalidate.FileID(awsvalidate.LogFile, b.bucket, b.keys(t, "CloudTrail", "eu-west-1")[i])] = class
				}
			}
			regions := tc.tamper(t, b)
			if regions == nil {
				regions = b.regions(t)
				if len(regions) < 2 {
					t.Fatalf("a multi-region trail delivered for %v only", regions)
				}
			}
			tg := b.trailguard(t)
			aws := b.awsCLI(t, regions)
			compareVerdicts(t, regions, tg, aws, want)
			for _, r := range regions {
				if tc.stopped && aws.gaps[r] == 0 {
					t.Errorf("%s: logging stopped for an hour and aws cloudtrail validate-logs reports no gap", r)
				}
			}
			if tg.exit != tc.exit || aws.exit != tc.exit {
				t.Errorf("exit codes: trailguard %d, aws %d, want %d", tg.exit, aws.exit, tc.exit)
			}
		})
	}
}

func compareVerdicts(t *testing.T, regions []string, tg, aws verdicts, want map[string]awsvalidate.Class) {
	t.Helper()
	for _, who := range []struct {
		name string
		v    verdicts
	}{{"trailguard", tg}, {"aws cloudtrail validate-logs", aws}} {
		for f, class := range want {
			if got := who.v.invalid[f]; got != class {
				t.Errorf("%s calls %s %q, the tampering makes it %q", who.name, f, got, class)
			}
		}
	}
	files := map[string]bool{}
	for f := range tg.invalid {
		files[f] = true
	}
	for f := range aws.invalid {
		files[f] = true
	}
	for f := range files {
		if tg.invalid[f] != aws.invalid[f] {
			t.Errorf("%s: trailguard %q, aws cloudtrail validate-logs %q", f, orValid(tg.invalid[f]), orValid(aws.invalid[f]))
		}
	}
	for _, r := range regions {
		if tg.digests[r] != aws.digests[r] || tg.logs[r] != aws.logs[r] || tg.gaps[r] != aws.gaps[r] {
			t.Errorf("%s: valid digests %d / %d, valid log files %d / %d, gaps %d / %d (trailguard / aws)", r,
				tg.digests[r], aws.digests[r], tg.logs[r], aws.logs[r], tg.gaps[r], aws.gaps[r])
		}
		if aws.digests[r] == 0 {
			t.Errorf("%s: aws cloudtrail validate-logs found no valid digest: the comparison proves nothing there", r)
		}
	}
}

func orValid(c awsvalidate.Class) string {
	if c == "" {
		return "valid"
	}
	return string(c)
}
