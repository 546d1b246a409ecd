package awsemu_test

import (
	"compress/gzip"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/trailguard/trailguard/internal/awsemu"
)

// seededTrail is a logging multi-region trail with validation, in one
// account with every region but three disabled, whose past was seeded.
func seededTrail(t testing.TB, from, to time.Time, perHour int) (*env, awsemu.Credentials, string) {
	t.Helper()
	emu, srv := awsemu.Start()
	t.Cleanup(srv.Close)
	e := &env{emu: emu, srv: srv}
	creds := emu.AddAccount(acctA)
	_, err := emu.PutTrail(acctA, awsemu.TrailSpec{Name: "seeded", HomeRegion: "us-east-1", S3BucketName: "seeded-logs",
		IsMultiRegion: true, IncludeGlobalServiceEvents: true, LogFileValidation: true, Logging: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.s3(creds, "us-east-1").CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("seeded-logs")}); err != nil {
		t.Fatal(err)
	}
	if err := emu.SeedDeliveries(from, to, perHour); err != nil {
		t.Fatal(err)
	}
	return e, creds, "arn:aws:cloudtrail:us-east-1:" + acctA + ":trail/seeded"
}

// SeedDeliveries writes the past as DeliverLogs would have: per region
// one digest an hour with the given number of log files, one chain that
// DeliverLogs continues, and validate-logs finds it all valid.
func TestSeedDeliveries(t *testing.T) {
	to := time.Now().UTC().Add(-10 * time.Minute).Truncate(time.Second)
	from := to.Add(-6 * time.Hour)
	e, creds, arn := seededTrail(t, from, to, 3)
	regions := 17 // the default regions, none opted in

	t.Run("files_per_region_and_hour", func(t *testing.T) {
		keys := e.emu.DeliveredObjects("seeded-logs", "AWSLogs/"+acctA+"/")
		var logs, digests int
		for _, k := range keys {
			switch {
			case strings.Contains(k, "/CloudTrail-Digest/"):
				digests++
			case strings.Contains(k, "/CloudTrail/"):
				logs++
			}
		}
		if logs != regions*6*3 || digests != regions*6 {
			t.Errorf("%d log files and %d digests, want %d and %d", logs, digests, regions*6*3, regions*6)
		}
	})

	t.Run("deliver_logs_continues_the_chain", func(t *testing.T) {
		must(t, e.emu.DeliverLogs(to.Add(time.Hour)))
		digests := e.emu.DeliveredObjects("seeded-logs", "AWSLogs/"+acctA+"/CloudTrail-Digest/eu-west-1/")
		if len(digests) != 7 {
			t.Fatalf("%d digests in eu-west-1 after one more hour, want 7", len(digests))
		}
		out, err := e.s3(creds, "us-east-1").GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("seeded-logs"), Key: aws.String(digests[6])})
		must(t, err)
		zr, err := gzip.NewReader(out.Body)
		must(t, err)
		var doc digestDoc
		must(t, json.NewDecoder(zr).Decode(&doc))
		out.Body.Close()
		if aws.ToString(doc.PreviousDigestS3Object) != digests[5] || doc.DigestStartTime != to.Format(time.RFC3339) {
			t.Errorf("the delivered digest follows %s from %s, want %s from %s", aws.ToString(doc.PreviousDigestS3Object), doc.DigestStartTime, digests[5], to.Format(time.RFC3339))
		}
		st, err := e.ct(creds, "us-east-1").GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String(arn)})
		must(t, err)
		if st.LatestDigestDeliveryTime == nil || !st.LatestDigestDeliveryTime.Equal(to.Add(time.Hour)) {
			t.Errorf("LatestDigestDeliveryTime %v, want %v", st.LatestDigestDeliveryTime, to.Add(time.Hour))
		}
	})

	t.Run("seeding_over_delivered_past_refused", func(t *testing.T) {
		if err := e.emu.SeedDeliveries(from, to, 1); err == nil || !strings.Contains(err.Error(), "seed before delivering") {
			t.Errorf("SeedDeliveries over delivered hours: %v", err)
		}
	})

	t.Run("aws_cli_validates_the_seeded_past", func(t *testing.T) {
		code, out, errOut := newCLIv1(t, e, creds).run("ap-northeast-1", "cloudtrail", "validate-logs", "--trail-arn", arn,
			"--start-time", from.Format(time.RFC3339), "--end-time", to.Add(time.Hour).Format(time.RFC3339))
		if code != 0 || !strings.Contains(out, "7/7 digest files valid") || !strings.Contains(out, "18/18 log files valid") || strings.Contains(out+errOut, "INVALID") {
			t.Errorf("validate-logs: exit %d:\n%s%s", code, out, errOut)
		}
	})
}

// BenchmarkSeedDeliveries seeds 7 days of 17 regions with 7 log files an
// hour (19,992 log files, 2,856 digests), the bucket the log validation
// benchmark reads. Run it with -benchtime=1x.
func BenchmarkSeedDeliveries(b *testing.B) {
	to := time.Now().UTC().Truncate(time.Hour)
	for range b.N {
		seededTrail(b, to.Add(-7*24*time.Hour), to, 7)
	}
}

// A rotated signing key: digests ending before the rotation are signed
// with the old key and the later ones with the new, ListPublicKeys lists
// both for a range across the rotation (newest first, windows meeting at
// it), and validate-logs, which picks the key by fingerprint, finds every
// digest valid.
func TestRotateSigningKey(t *testing.T) {
	to := time.Now().UTC().Add(-10 * time.Minute).Truncate(time.Second)
	from := to.Add(-4 * time.Hour)
	rotation := from.Add(150 * time.Minute)
	emu, srv := awsemu.Start()
	t.Cleanup(srv.Close)
	e := &env{emu: emu, srv: srv}
	creds := emu.AddAccount(acctA)
	arn, err := emu.PutTrail(acctA, awsemu.TrailSpec{Name: "rotated", HomeRegion: "us-east-1", S3BucketName: "rotated-logs",
		LogFileValidation: true, Logging: true})
	must(t, err)
	emu.EnsureTrailBuckets()
	must(t, emu.RotateSigningKey("us-east-1", rotation))
	if err := emu.RotateSigningKey("us-east-1", rotation.Add(-time.Minute)); err == nil {
		t.Error("a rotation before the current key's start was accepted")
	}
	must(t, emu.SeedDeliveries(from, to, 1))

	out, err := e.ct(creds, "us-east-1").ListPublicKeys(ctx, &cloudtrail.ListPublicKeysInput{StartTime: aws.Time(from), EndTime: aws.Time(to)})
	must(t, err)
	if len(out.PublicKeyList) != 2 || !out.PublicKeyList[0].ValidityStartTime.Equal(rotation) || !out.PublicKeyList[1].ValidityEndTime.Equal(rotation) {
		t.Fatalf("ListPublicKeys across the rotation: %+v", out.PublicKeyList)
	}
	newer, older := aws.ToString(out.PublicKeyList[0].Fingerprint), aws.ToString(out.PublicKeyList[1].Fingerprint)
	if now, _ := emu.SigningKeyFingerprint("us-east-1"); now != newer {
		t.Errorf("SigningKeyFingerprint %s, want the new key %s", now, newer)
	}
	digests := emu.DeliveredObjects("rotated-logs", "AWSLogs/"+acctA+"/CloudTrail-Digest/us-east-1/")
	if len(digests) != 4 {
		t.Fatalf("%d digests, want 4", len(digests))
	}
	for i, key := range digests {
		got, err := e.s3(creds, "us-east-1").GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("rotated-logs"), Key: aws.String(key)})
		must(t, err)
		zr, err := gzip.NewReader(got.Body)
		must(t, err)
		var doc digestDoc
		must(t, json.NewDecoder(zr).Decode(&doc))
		got.Body.Close()
		want := older
		if i >= 2 {
			want = newer
		}
		if doc.DigestPublicKeyFingerprint != want {
			t.Errorf("digest %d ending %s signed with %s, want %s", i, doc.DigestEndTime, doc.DigestPublicKeyFingerprint, want)
		}
	}
	code, stdout, stderr := newCLIv1(t, e, creds).run("us-east-1", "cloudtrail", "validate-logs", "--trail-arn", arn,
		"--start-time", from.Format(time.RFC3339), "--end-time", to.Format(time.RFC3339))
	if code != 0 || !strings.Contains(stdout, "4/4 digest files valid") || !strings.Contains(stdout, "4/4 log files valid") {
		t.Errorf("validate-logs across a key rotation: exit %d:\n%s%s", code, stdout, stderr)
	}
}
