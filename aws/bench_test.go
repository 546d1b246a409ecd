package aws_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	tgaws "github.com/trailguard/trailguard/aws"
	"github.com/trailguard/trailguard/internal/awsemu"
	"github.com/trailguard/trailguard/internal/demo"
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

// BenchmarkScanOrganization scans a generated 200-account organization
// with 10 ms per call at the default concurrency. A member covered by the
// organization trail has two dependent calls (AssumeRole, then
// DescribeTrails), so the bound is accounts × 2 × latency ÷ concurrency;
// "bound-ratio" is wall time ÷ that bound. cmd/orgbench runs the same
// measurement on the real binary, at 1,000 accounts and 50 ms.
func BenchmarkScanOrganization(b *testing.B) {
	const n, latency = 200, 10 * time.Millisecond
	emu := awsemu.New()
	srv := httptest.NewServer(emu)
	defer srv.Close()
	org, err := demo.BuildOrg(emu, demo.OrgSpec{Accounts: n, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	emu.SetLatency(latency)
	cfg := tgaws.StaticConfig(srv.URL, "us-east-1", org.Management.AccessKeyID, org.Management.SecretAccessKey, "", nil)
	emu.ResetCalls()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		got, err := tgaws.NewScanner().ScanOrganization(context.Background(), cfg, tgaws.OrgOptions{})
		if err != nil || len(got.Accounts) != n || got.Partial != "" {
			b.Fatalf("scan: %v, %d accounts, partial %q", err, len(got.Accounts), got.Partial)
		}
	}
	elapsed := time.Since(start)
	bound := float64(n*2) * float64(latency) / float64(tgaws.DefaultConcurrency)
	b.ReportMetric(float64(elapsed)/float64(b.N)/bound, "bound-ratio")
	calls := 0
	for _, a := range org.Accounts[1:] {
		for _, c := range emu.AccountCalls(a.ID) {
			calls += c
		}
	}
	calls += emu.AccountCalls(demo.OrgManagement)["sts:AssumeRole"]
	b.ReportMetric(float64(calls)/float64(b.N)/float64(n-1), "calls/member")
}
