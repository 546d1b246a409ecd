package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

// The benchmark's heavy part (seeding a week of deliveries, running the
// AWS CLI 17 times a run) is not run by go test; these check the parts
// that decide what it prints.

func TestStats_median_and_spread(t *testing.T) {
	for _, tc := range []struct {
		name  string
		walls []time.Duration
		want  [3]time.Duration
	}{
		{"three_runs_out_of_order", []time.Duration{3 * time.Second, time.Second, 2 * time.Second}, [3]time.Duration{time.Second, 2 * time.Second, 3 * time.Second}},
		{"one_run", []time.Duration{time.Second}, [3]time.Duration{time.Second, time.Second, time.Second}},
		{"even_count_takes_the_lower_middle", []time.Duration{4, 1, 3, 2}, [3]time.Duration{1, 2, 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s []sample
			for i, w := range tc.walls {
				s = append(s, sample{wall: w, cpu: 2 * w, peakRSS: int64(len(tc.walls) - i)})
			}
			w, c, r := stats(s)
			if w != tc.want {
				t.Errorf("wall stats %v, want %v", w, tc.want)
			}
			if c != [3]time.Duration{2 * tc.want[0], 2 * tc.want[1], 2 * tc.want[2]} {
				t.Errorf("CPU stats %v, want twice %v", c, tc.want)
			}
			if r[0] != 1 || r[2] != int64(len(tc.walls)) {
				t.Errorf("RSS stats %v", r)
			}
		})
	}
}

// A region or trail trailguard could not check makes the benchmark fail
// rather than time a run that checked less.
func TestCountTrailguard(t *testing.T) {
	for _, tc := range []struct {
		name, json string
		digests    int
		logs       int
		invalid    int
		err        string
	}{
		{"two_regions", `{"trails":[{"trail":"t","regions":[{"region":"a","digests":{"valid":2},"log_files":{"valid":5}},{"region":"b","digests":{"valid":3,"invalid":1},"log_files":{"valid":1,"unreadable":2}}]}]}`, 5, 6, 3, ""},
		{"region_not_checked", `{"trails":[{"trail":"t","regions":[{"region":"a","error":"AccessDenied"}]}]}`, 0, 0, 0, "could not check a"},
		{"trail_not_checked", `{"trails":[{"trail":"t","error":"no bucket"}]}`, 0, 0, 0, "could not check t"},
		{"not_json", `exit 2`, 0, 0, 0, "trailguard's JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, l, inv, err := countTrailguard([]byte(tc.json))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || d != tc.digests || l != tc.logs || inv != tc.invalid {
				t.Errorf("got %d digests, %d logs, %d invalid, %v; want %d, %d, %d", d, l, inv, err, tc.digests, tc.logs, tc.invalid)
			}
		})
	}
}

func TestRun_bad_flags(t *testing.T) {
	for _, args := range [][]string{{"--days", "0"}, {"--runs", "0"}, {"--logs-per-hour", "-1"}, {"--no-such-flag"}} {
		t.Run(strings.Join(args, "_"), func(t *testing.T) {
			if code := run(context.Background(), args, io.Discard, io.Discard); code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
		})
	}
}
