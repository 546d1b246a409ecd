package awsemu_test

import (
	"compress/gzip"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/trailguard/trailguard/internal/awsemu"
)

// deliveredTrail is a logging multi-region trail with log file validation
// created through the API, with recorded calls in two regions, delivered
// three times: at t0+1m (log files, chains start), t0+61m and t0+121m
// (one digest per region each).
type deliveredTrail struct {
	e      *env
	creds  awsemu.Credentials
	arn    string
	bucket string
	t0     time.Time
}

func newDeliveredTrail(t *testing.T) *deliveredTrail {
	t.Helper()
	e := newEnv(t)
	creds := e.emu.AddAccount(acctA)
	const bucket = "validated-logs"
	e.bucket(t, creds, "us-east-1", bucket)
	ct := e.ct(creds, "us-east-1")
	out, err := ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("validated"), S3BucketName: aws.String(bucket),
		IsMultiRegionTrail: aws.Bool(true), EnableLogFileValidation: aws.Bool(true)})
	must(t, err)
	arn := aws.ToString(out.TrailARN)
	t0 := time.Now().UTC()
	_, err = ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String(arn)})
	must(t, err)
	_, err = ct.AddTags(ctx, &cloudtrail.AddTagsInput{ResourceId: aws.String(arn), TagsList: []cttypes.Tag{{Key: aws.String("team"), Value: aws.String("audit")}}})
	must(t, err)
	_, err = e.s3(creds, "eu-west-1").CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("eu-bucket"),
		CreateBucketConfiguration: nil})
	// In eu-west-1 without a location constraint S3 refuses the bucket;
	// the refused call is recorded all the same.
	wantCode(t, err, "IllegalLocationConstraintException")
	for _, d := range []time.Duration{time.Minute, 61 * time.Minute, 121 * time.Minute} {
		must(t, e.emu.DeliverLogs(t0.Add(d)))
	}
	return &deliveredTrail{e: e, creds: creds, arn: arn, bucket: bucket, t0: t0}
}

func (d *deliveredTrail) get(t *testing.T, key string) ([]byte, map[string]string) {
	t.Helper()
	out, err := d.e.s3(d.creds, "us-east-1").GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(d.bucket), Key: aws.String(key)})
	must(t, err)
	defer out.Body.Close()
	zr, err := gzip.NewReader(out.Body)
	must(t, err)
	raw, err := io.ReadAll(zr)
	must(t, err)
	return raw, out.Metadata
}

var (
	logKeyPattern    = regexp.MustCompile(`^AWSLogs/111122223333/CloudTrail/([a-z0-9-]+)/(\d{4}/\d{2}/\d{2})/111122223333_CloudTrail_([a-z0-9-]+)_(\d{8}T\d{4}Z)_[A-Za-z0-9]{16}\.json\.gz$`)
	digestKeyPattern = regexp.MustCompile(`^AWSLogs/111122223333/CloudTrail-Digest/([a-z0-9-]+)/(\d{4}/\d{2}/\d{2})/111122223333_CloudTrail-Digest_([a-z0-9-]+)_validated_us-east-1_(\d{8}T\d{6}Z)\.json\.gz$`)
)

type digestDoc struct {
	AWSAccountID                string  `json:"awsAccountId"`
	DigestStartTime             string  `json:"digestStartTime"`
	DigestEndTime               string  `json:"digestEndTime"`
	DigestS3Bucket              string  `json:"digestS3Bucket"`
	DigestS3Object              string  `json:"digestS3Object"`
	DigestPublicKeyFingerprint  string  `json:"digestPublicKeyFingerprint"`
	DigestSignatureAlgorithm    string  `json:"digestSignatureAlgorithm"`
	NewestEventTime             *string `json:"newestEventTime"`
	OldestEventTime             *string `json:"oldestEventTime"`
	PreviousDigestS3Bucket      *string `json:"previousDigestS3Bucket"`
	PreviousDigestS3Object      *string `json:"previousDigestS3Object"`
	PreviousDigestHashValue     *string `json:"previousDigestHashValue"`
	PreviousDigestHashAlgorithm *string `json:"previousDigestHashAlgorithm"`
	PreviousDigestSignature     *string `json:"previousDigestSignature"`
	LogFiles                    []struct {
		S3Bucket, S3Object, HashValue, HashAlgorithm, NewestEventTime, OldestEventTime string
	} `json:"logFiles"`
}

// DeliverLogs writes what CloudTrail writes: log files of each region's
// recorded events under the documented keys, and per region an hourly
// digest listing their SHA-256, chained to the previous digest and
// signed with the region's ListPublicKeys key over the documented
// data-signing string; a region without events still gets its digests.
func TestDeliverLogs(t *testing.T) {
	d := newDeliveredTrail(t)
	keys := d.e.emu.DeliveredObjects(d.bucket, "AWSLogs/")
	logs := map[string][]string{}    // region → log file keys
	digests := map[string][]string{} // region → digest keys, oldest first
	for _, k := range keys {
		if m := logKeyPattern.FindStringSubmatch(k); m != nil && m[1] == m[3] {
			logs[m[1]] = append(logs[m[1]], k)
			continue
		}
		if m := digestKeyPattern.FindStringSubmatch(k); m != nil && m[1] == m[3] {
			digests[m[1]] = append(digests[m[1]], k)
			continue
		}
		t.Errorf("unexpected key %s", k)
	}

	t.Run("log_files_hold_the_recorded_events", func(t *testing.T) {
		want := map[string][]string{"us-east-1": {"StartLogging", "AddTags"}, "eu-west-1": {"CreateBucket"}}
		if len(logs) != len(want) {
			t.Fatalf("log files in %d regions (%v), want %d", len(logs), logs, len(want))
		}
		for region, names := range want {
			if len(logs[region]) != 1 {
				t.Fatalf("%s: %d log files, want 1", region, len(logs[region]))
			}
			raw, _ := d.get(t, logs[region][0])
			var doc struct {
				Records []awsemu.CloudTrailEvent
			}
			must(t, json.Unmarshal(raw, &doc))
			var got []string
			for _, r := range doc.Records {
				got = append(got, r.EventName)
				if r.AWSRegion != region || r.RecipientAccountID != acctA {
					t.Errorf("%s: record of %s/%s", region, r.RecipientAccountID, r.AWSRegion)
				}
			}
			// Events are kept to the second: calls made in the second
			// logging started may come before StartLogging.
			if len(got) < len(names) {
				t.Fatalf("%s records %v, want them to end with %v", region, got, names)
			}
			wantList(t, region+" records", got[len(got)-len(names):], names)
		}
	})

	pub := map[string]*rsa.PublicKey{}
	for _, region := range []string{"us-east-1", "eu-west-1", "ap-south-1"} {
		out, err := d.e.ct(d.creds, region).ListPublicKeys(ctx, &cloudtrail.ListPublicKeysInput{StartTime: aws.Time(d.t0.Add(-time.Hour)), EndTime: aws.Time(d.t0.Add(3 * time.Hour))})
		must(t, err)
		if len(out.PublicKeyList) != 1 {
			t.Fatalf("%s: %d public keys", region, len(out.PublicKeyList))
		}
		k, err := x509.ParsePKCS1PublicKey(out.PublicKeyList[0].Value)
		must(t, err)
		pub[aws.ToString(out.PublicKeyList[0].Fingerprint)] = k
	}

	for _, region := range []string{"us-east-1", "eu-west-1", "ap-south-1"} {
		t.Run("digest_chain_"+region, func(t *testing.T) {
			if len(digests[region]) != 2 {
				t.Fatalf("%d digests, want 2: %v", len(digests[region]), digests[region])
			}
			var prev *digestDoc
			var prevRaw []byte
			var prevSig string
			for i, key := range digests[region] {
				raw, meta := d.get(t, key)
				var doc digestDoc
				must(t, json.Unmarshal(raw, &doc))
				start := d.t0.Add(time.Minute + time.Duration(i)*time.Hour).Truncate(time.Second)
				if doc.AWSAccountID != acctA || doc.DigestS3Bucket != d.bucket || doc.DigestS3Object != key ||
					doc.DigestStartTime != start.Format(time.RFC3339) || doc.DigestEndTime != start.Add(time.Hour).Format(time.RFC3339) ||
					doc.DigestSignatureAlgorithm != "SHA256withRSA" || meta["signature-algorithm"] != "SHA256withRSA" {
					t.Errorf("digest %d: %+v (metadata %v)", i, doc, meta)
				}
				if !strings.Contains(key, start.Add(time.Hour).Format("20060102T150405Z")) {
					t.Errorf("digest %d key %s does not carry its end time", i, key)
				}
				// The data-signing string of "Validating CloudTrail log file
				// integrity with the AWS CLI", verified with the region's key.
				prevField := "null"
				if doc.PreviousDigestSignature != nil {
					prevField = *doc.PreviousDigestSignature
				}
				sum := sha256.Sum256(raw)
				signed := sha256.Sum256([]byte(doc.DigestEndTime + "\n" + doc.DigestS3Bucket + "/" + doc.DigestS3Object + "\n" + hex.EncodeToString(sum[:]) + "\n" + prevField))
				sig, err := hex.DecodeString(meta["signature"])
				must(t, err)
				k := pub[doc.DigestPublicKeyFingerprint]
				if k == nil {
					t.Fatalf("digest %d: fingerprint %s is no ListPublicKeys key", i, doc.DigestPublicKeyFingerprint)
				}
				if err := rsa.VerifyPKCS1v15(k, crypto.SHA256, signed[:], sig); err != nil {
					t.Errorf("digest %d: signature: %v", i, err)
				}
				if want, _ := d.e.emu.SigningKeyFingerprint(region); want != doc.DigestPublicKeyFingerprint {
					t.Errorf("digest %d signed with %s, the key of %s is %s", i, doc.DigestPublicKeyFingerprint, region, want)
				}
				if prev == nil {
					if doc.PreviousDigestS3Bucket != nil || doc.PreviousDigestS3Object != nil || doc.PreviousDigestHashValue != nil || doc.PreviousDigestSignature != nil {
						t.Errorf("first digest names a previous one: %+v", doc)
					}
				} else {
					ph := sha256.Sum256(prevRaw)
					if aws.ToString(doc.PreviousDigestS3Object) != prev.DigestS3Object || aws.ToString(doc.PreviousDigestS3Bucket) != d.bucket ||
						aws.ToString(doc.PreviousDigestHashValue) != hex.EncodeToString(ph[:]) || aws.ToString(doc.PreviousDigestHashAlgorithm) != "SHA-256" ||
						aws.ToString(doc.PreviousDigestSignature) != prevSig {
						t.Errorf("digest %d is not chained to %s: %+v", i, prev.DigestS3Object, doc)
					}
				}
				wantLogs := 0
				if i == 0 {
					wantLogs = len(logs[region])
				}
				if len(doc.LogFiles) != wantLogs || (wantLogs == 0) != (doc.NewestEventTime == nil) || (wantLogs == 0) != (doc.OldestEventTime == nil) {
					t.Fatalf("digest %d lists %d log files (newest %v), want %d", i, len(doc.LogFiles), doc.NewestEventTime, wantLogs)
				}
				for _, lf := range doc.LogFiles {
					content, _ := d.get(t, lf.S3Object)
					h := sha256.Sum256(content)
					if lf.S3Bucket != d.bucket || lf.HashAlgorithm != "SHA-256" || lf.HashValue != hex.EncodeToString(h[:]) || lf.OldestEventTime > lf.NewestEventTime {
						t.Errorf("log file entry %+v does not match the file", lf)
					}
				}
				prev, prevRaw, prevSig = &doc, raw, meta["signature"]
			}
		})
	}

	t.Run("trail_status_follows_digests", func(t *testing.T) {
		st, err := d.e.ct(d.creds, "us-east-1").GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String(d.arn)})
		must(t, err)
		want := d.t0.Add(121 * time.Minute).Truncate(time.Second)
		if st.LatestDigestDeliveryTime == nil || !st.LatestDigestDeliveryTime.Equal(want) {
			t.Errorf("LatestDigestDeliveryTime %v, want %v", st.LatestDigestDeliveryTime, want)
		}
	})
}

// Trails deliver only what their settings say: nothing without logging,
// log files but no digests without validation, a new chain (previous
// fields null) after logging stopped and started again, a last digest
// when validation is turned off, no digests while their delivery fails,
// and files under the S3 key prefix.
func TestDeliverLogsSettings(t *testing.T) {
	e := newEnv(t)
	creds := e.emu.AddAccount(acctA)
	ct := e.ct(creds, "us-east-1")
	// Single-region trails: each delivers only in its home region.
	mkIn := func(region, name string, validation bool, prefix string) string {
		bucket := "logs-" + name
		e.bucket(t, creds, region, bucket)
		in := &cloudtrail.CreateTrailInput{Name: aws.String(name), S3BucketName: aws.String(bucket), EnableLogFileValidation: aws.Bool(validation)}
		if prefix != "" {
			in.S3KeyPrefix = aws.String(prefix)
		}
		out, err := e.ct(creds, region).CreateTrail(ctx, in)
		must(t, err)
		return aws.ToString(out.TrailARN)
	}
	mk := func(name string, validation bool, prefix string) string {
		return mkIn("us-east-1", name, validation, prefix)
	}
	mk("stopped", true, "")
	plain := mk("plain", false, "")
	prefixed := mk("prefixed", true, "audit/ct")
	restarted := mk("restarted", true, "")
	turnedOff := mk("turned-off", true, "")
	// CloudTrail allows five trails a region.
	digestFails := mkIn("us-west-2", "digest-fails", true, "")
	for _, arn := range []string{plain, prefixed, restarted, turnedOff, digestFails} {
		region := strings.Split(arn, ":")[3]
		_, err := e.ct(creds, region).StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String(arn)})
		must(t, err)
	}
	must(t, e.emu.SetDeliveryState(digestFails, awsemu.DeliveryState{DigestDeliveryError: "AccessDenied"}))
	t0 := time.Now().UTC()
	must(t, e.emu.DeliverLogs(t0.Add(time.Minute)))
	_, err := ct.StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String(restarted)})
	must(t, err)
	must(t, e.emu.DeliverLogs(t0.Add(30*time.Minute)))
	_, err = ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String(restarted)})
	must(t, err)
	_, err = ct.UpdateTrail(ctx, &cloudtrail.UpdateTrailInput{Name: aws.String(turnedOff), EnableLogFileValidation: aws.Bool(false)})
	must(t, err)
	must(t, e.emu.DeliverLogs(t0.Add(40*time.Minute)))
	must(t, e.emu.DeliverLogs(t0.Add(101*time.Minute)))

	count := func(bucket, part string) int {
		n := 0
		for _, k := range e.emu.DeliveredObjects(bucket, "") {
			if strings.Contains(k, part) {
				n++
			}
		}
		return n
	}
	cases := []struct {
		name            string
		bucket          string
		logs, digests   int
		keyPrefix       string
		firstOfChainsIn int // digests whose previous fields are null
	}{
		{"not_logging_delivers_nothing", "logs-stopped", 0, 0, "", 0},
		{"no_validation_no_digests", "logs-plain", 1, 0, "AWSLogs/", 0},
		{"key_prefix", "logs-prefixed", 1, 1, "audit/ct/AWSLogs/" + acctA + "/", 1},
		{"restart_begins_a_new_chain", "logs-restarted", 1, 2, "AWSLogs/", 2},
		{"validation_turned_off_ends_the_chain", "logs-turned-off", 1, 1, "AWSLogs/", 1},
		{"digest_delivery_error_no_digests", "logs-digest-fails", 1, 0, "AWSLogs/", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			keys := e.emu.DeliveredObjects(tc.bucket, "")
			if got := count(tc.bucket, "/CloudTrail/"); got != tc.logs {
				t.Errorf("%d log files, want %d: %v", got, tc.logs, keys)
			}
			if got := count(tc.bucket, "/CloudTrail-Digest/"); got != tc.digests {
				t.Errorf("%d digests, want %d: %v", got, tc.digests, keys)
			}
			first := 0
			for _, k := range keys {
				if !strings.HasPrefix(k, tc.keyPrefix) {
					t.Errorf("key %s is not under %s", k, tc.keyPrefix)
				}
				if strings.Contains(k, "/CloudTrail-Digest/") {
					out, err := e.s3(creds, "us-east-1").GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(tc.bucket), Key: aws.String(k)})
					must(t, err)
					zr, err := gzip.NewReader(out.Body)
					must(t, err)
					var doc digestDoc
					must(t, json.NewDecoder(zr).Decode(&doc))
					out.Body.Close()
					if doc.PreviousDigestSignature == nil {
						first++
					}
				}
			}
			if first != tc.firstOfChainsIn {
				t.Errorf("%d digests begin a chain, want %d", first, tc.firstOfChainsIn)
			}
		})
	}
}
