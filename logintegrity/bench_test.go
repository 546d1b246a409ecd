package logintegrity

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// benchRegions are the 17 regions enabled by default in a commercial account.
var benchRegions = []string{"ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-southeast-1", "ap-southeast-2",
	"ca-central-1", "eu-central-1", "eu-north-1", "eu-west-1", "eu-west-2", "eu-west-3", "sa-east-1",
	"us-east-1", "us-east-2", "us-west-1", "us-west-2"}

// BenchmarkValidate checks 2 days of hourly digests in 17 regions, with 2
// and then 8 log files per digest (1,632 and 6,528 log files), from an
// in-memory bucket that keeps one copy of the log content for all log
// files (so that its own size does not grow with them): the validator's
// own cost, without the network. It reports log files per second and the
// peak heap the run adds above what was live before it, which must stay
// flat as the log files grow fourfold.
func BenchmarkValidate(b *testing.B) {
	s := newSigner()
	for _, perDigest := range []int{2, 8} {
		st := newMemStore()
		st.sameLog = []byte(`{"Records":[{"eventVersion":"1.09","eventSource":"s3.amazonaws.com","eventName":"ListBuckets"}]}`)
		first := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
		var chains []Chain
		for _, r := range benchRegions {
			c := Chain{Bucket: "bench", Account: "111122223333", Region: r, HomeRegion: "us-east-1", TrailName: "org"}
			chains = append(chains, c)
			s.deliver(b, st, c, first, 48, perDigest, -1)
		}
		logs := len(benchRegions) * 48 * perDigest
		b.Run(fmt.Sprintf("log_files=%d", logs), func(b *testing.B) {
			runtime.GC()
			var base runtime.MemStats
			runtime.ReadMemStats(&base)
			var peak atomic.Uint64
			stop := make(chan struct{})
			done := make(chan struct{})
			go func() {
				defer close(done)
				var m runtime.MemStats
				for {
					select {
					case <-stop:
						return
					case <-time.After(2 * time.Millisecond):
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
				reps := Validate(context.Background(), st, memKeys{s.pub}, chains, Options{Start: first, End: first.Add(48 * time.Hour)})
				for _, r := range reps {
					if r.Invalid() || r.Unchecked() || r.LogFiles.Valid != 48*perDigest {
						b.Fatalf("%s: %+v", r.Region, r)
					}
				}
			}
			b.StopTimer()
			close(stop)
			<-done
			b.ReportMetric(float64(logs*b.N)/b.Elapsed().Seconds(), "logfiles/s")
			b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MB")
		})
	}
}
