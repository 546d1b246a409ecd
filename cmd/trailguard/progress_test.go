package main

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	tgaws "github.com/trailguard/trailguard/aws"
)

// The organization bar never moves backwards, whatever order the listing
// and the scans report in: the count of listed accounts grows page by page.
func TestOrgBar_never_moves_backwards(t *testing.T) {
	cases := []struct {
		name  string
		steps []tgaws.OrgProgress
	}{
		{"estimate_grows_while_listing", []tgaws.OrgProgress{
			{Done: 10, Listed: 20}, {Done: 11, Listed: 200}, {Done: 15, Listed: 2000}, {Done: 16, Listed: 2000, ListingDone: true},
		}},
		{"listing_done_early", []tgaws.OrgProgress{
			{Done: 1, Listed: 4, ListingDone: true}, {Done: 2, Listed: 4, ListingDone: true}, {Done: 4, Listed: 4, ListingDone: true},
		}},
		{"scan_ahead_of_listing", []tgaws.OrgProgress{
			{Done: 20, Listed: 20}, {Done: 21, Listed: 400}, {Done: 400, Listed: 400, ListingDone: true},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var b orgBar
			prev := 0
			for _, s := range tc.steps {
				line := b.line(s, time.Second)
				n := strings.Count(line, "█")
				if n < prev {
					t.Errorf("%+v: bar went from %d to %d cells: %q", s, prev, n, line)
				}
				if !s.ListingDone && n != 0 {
					t.Errorf("%+v: bar filled (%d) before the total is known: %q", s, n, line)
				}
				prev = n
			}
			if last := tc.steps[len(tc.steps)-1]; last.ListingDone && last.Done == last.Listed && prev != orgBarWidth {
				t.Errorf("finished scan shows %d of %d cells", prev, orgBarWidth)
			}
		})
	}
}

func TestCanRedraw(t *testing.T) {
	for term, want := range map[string]bool{"dumb": false, "xterm-256color": true, "": true} {
		if got := canRedraw(term); got != want {
			t.Errorf("TERM=%q: redraws %v, want %v", term, got, want)
		}
	}
}

// syncBuffer is a buffer the interrupt watcher's goroutine writes to.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Standard error that is not a terminal (a pipe, a CI log) gets no cursor
// control from the progress line nor from the Ctrl-C notice: a plain line.
func TestProgress_plain_on_a_non_terminal(t *testing.T) {
	t.Run("interrupt_notice", func(t *testing.T) {
		var buf syncBuffer
		ctx, cancel := context.WithCancel(context.Background())
		stop := watchInterrupt(ctx, escapingWriter{w: &buf})
		cancel()
		deadline := time.Now().Add(5 * time.Second)
		for buf.String() == "" && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		stop()
		out := buf.String()
		if !strings.Contains(out, "interrupted") {
			t.Fatalf("no interrupt notice: %q", out)
		}
		if strings.ContainsAny(out, "\r\x1b") {
			t.Errorf("notice carries cursor control: %q", out)
		}
	})
	t.Run("progress_line", func(t *testing.T) {
		var buf bytes.Buffer
		p := newProgress(escapingWriter{w: &buf})
		p.say("listing the organization's accounts")
		p.org(tgaws.OrgProgress{Done: 1, Listed: 2})
		p.done()
		if buf.Len() != 0 {
			t.Errorf("progress wrote %q to a non-terminal", buf.String())
		}
	})
}
