package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	tgaws "github.com/trailguard/trailguard/aws"
	"github.com/trailguard/trailguard/internal/awsemu"
)

// BenchmarkValidateLogs runs `trailguard validate-logs` over HTTP against
// the emulator on 2 days of a multi-region trail's deliveries in its 17
// regions (816 digests), with 2 and then 8 log files an hour per region
// (1,632 and 6,528 log files). It reports digests and log files checked
// per second and the peak heap the run adds above what was live before it
// (the emulator's bucket included in that baseline): flat as the log
// files grow fourfold, since log files are hashed while they stream.
func BenchmarkValidateLogs(b *testing.B) {
	for _, perHour := range []int{2, 8} {
		emu, srv := awsemu.Start()
		creds := emu.AddAccount(deliveryAcct)
		cfg := tgaws.StaticConfig(srv.URL, "us-east-1", creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken, nil)
		ctx := context.Background()
		bucket := "bench-logs"
		s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
		policy := `{"Version":"2012-10-17","Statement":[` +
			`{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:GetBucketAcl","Resource":"arn:aws:s3:::` + bucket + `"},` +
			`{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::` + bucket + `/*"}]}`
		if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
			b.Fatal(err)
		}
		if _, err := s3c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: &bucket, Policy: &policy}); err != nil {
			b.Fatal(err)
		}
		ct := cloudtrail.NewFromConfig(cfg)
		out, err := ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: sdkaws.String("bench"), S3BucketName: &bucket,
			IsMultiRegionTrail: sdkaws.Bool(true), EnableLogFileValidation: sdkaws.Bool(true)})
		if err != nil {
			b.Fatal(err)
		}
		arn := sdkaws.ToString(out.TrailARN)
		if _, err := ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: &arn}); err != nil {
			b.Fatal(err)
		}
		end := time.Now().UTC().Truncate(time.Hour)
		start := end.Add(-48 * time.Hour)
		if err := emu.SeedDeliveries(start, end, perHour); err != nil {
			b.Fatal(err)
		}
		dir := b.TempDir()
		for k, v := range map[string]string{"AWS_CONFIG_FILE": dir + "/config", "AWS_SHARED_CREDENTIALS_FILE": dir + "/credentials",
			"AWS_ACCESS_KEY_ID": creds.AccessKeyID, "AWS_SECRET_ACCESS_KEY": creds.SecretAccessKey, "AWS_SESSION_TOKEN": creds.SessionToken,
			"AWS_REGION": "us-east-1", "AWS_PROFILE": "", "AWS_ENDPOINT_URL": "", "AWS_EC2_METADATA_DISABLED": "true"} {
			b.Setenv(k, v)
		}
		args := []string{"validate-logs", "--endpoint-url", srv.URL, "--trail-arn", arn, "--format", "json",
			"--start-time", start.Format(time.RFC3339), "--end-time", end.Format(time.RFC3339)}
		b.Run(fmt.Sprintf("log_files=%d", 48*perHour*17), func(b *testing.B) {
			if code := run(ctx, args, io.Discard, io.Discard); code != 0 {
				b.Fatalf("validate-logs exit %d on an untouched delivery", code)
			}
			runtime.GC()
			var base runtime.MemStats
			runtime.ReadMemStats(&base)
			var peak atomic.Uint64
			stop, done := make(chan struct{}), make(chan struct{})
			go func() {
				defer close(done)
				var m runtime.MemStats
				for {
					select {
					case <-stop:
						return
					case <-time.After(5 * time.Millisecond):
					}
					runtime.ReadMemStats(&m)
					if m.HeapAlloc > base.HeapAlloc && m.HeapAlloc-base.HeapAlloc > peak.Load() {
						peak.Store(m.HeapAlloc - base.HeapAlloc)
					}
				}
			}()
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if code := run(ctx, args, io.Discard, io.Discard); code != 0 {
					b.Fatalf("exit %d", code)
				}
			}
			b.StopTimer()
			close(stop)
			<-done
			b.ReportMetric(float64(48*perHour*17*b.N)/b.Elapsed().Seconds(), "logfiles/s")
			b.ReportMetric(float64(48*17*b.N)/b.Elapsed().Seconds(), "digests/s")
			b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MB")
		})
		srv.Close()
	}
}
