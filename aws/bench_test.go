package aws_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	tgaws "github.com/trailguard/trailguard/aws"
	"github.com/trailguard/trailguard/internal/awsemu"
)

// BenchmarkScanAccount scans one account with one multi-region trail over
// HTTP. With emulated latency L per call, the scan has two dependent rounds
// (identity, regions and DescribeTrails at once; then status and selectors
// at once), so its bound is 2L; "bound-ratio" reports wall time ÷ 2L.
func BenchmarkScanAccount(b *testing.B) {
	for _, latency := range []time.Duration{0, 20 * time.Millisecond} {
		b.Run(fmt.Sprintf("latency=%s", latency), func(b *testing.B) {
			emu := awsemu.New()
			srv := httptest.NewServer(emu)
			defer srv.Close()
			c := emu.AddAccount(acct)
			if _, err := emu.PutTrail(acct, multiRegion("main", "us-west-2")); err != nil {
				b.Fatal(err)
			}
			emu.SetLatency(latency)
			counter := tgaws.NewCallCounter()
			cfg := tgaws.StaticConfig(srv.URL, "us-east-1", c.AccessKeyID, c.SecretAccessKey, c.SessionToken, counter)
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				a := tgaws.NewScanner().ScanAccount(context.Background(), cfg)
				if a.Error != "" || len(a.Trails) != 1 || a.Trails[0].Status == nil {
					b.Fatalf("scan: %+v", a)
				}
			}
			elapsed := time.Since(start)
			b.ReportMetric(float64(counter.Total())/float64(b.N), "calls/scan")
			if latency > 0 {
				b.ReportMetric(float64(elapsed)/float64(b.N)/float64(2*latency), "bound-ratio")
			}
		})
	}
}
