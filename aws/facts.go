package aws

import (
	"sync"

	"github.com/trailguard/trailguard"
)

// factEntry is what GetTrailStatus and GetEventSelectors said of one trail.
type factEntry struct {
	status       *trailguard.TrailStatus
	selectors    *trailguard.EventSelectors
	statusErr    string
	selectorsErr string
	// statusSrc and selectorsSrc name the call and the account that read
	// the facts, so that a disagreement between two reads names both.
	statusSrc, selectorsSrc string
}

func (f factEntry) complete() bool { return f.status != nil && f.selectors != nil }

// factCache reads each trail's facts once per scan, keyed by ARN, even when
// many accounts ask at once. It only spares calls: whose read counts, and
// what two reads that disagree mean, is decided once, by
// trailguard.ShareTrailFacts when the scan is evaluated. A read that came back incomplete (a member
// account denied access to the organization's trail) answers only the
// account that made it: the next account tries with its own credentials.
type factCache struct {
	mu sync.Mutex
	m  map[string]*factCall
}

type factCall struct {
	done   chan struct{}
	reader string
	f      factEntry
}

// get returns the facts of the trail arn (a valid trail ARN: the cache
// never holds facts under an empty or made-up key), calling read at most once per
// reader account and not at all once some account read them in full.
func (c *factCache) get(arn, reader string, read func() factEntry) factEntry {
	for {
		c.mu.Lock()
		call, ok := c.m[arn]
		if !ok {
			call = &factCall{done: make(chan struct{}), reader: reader}
			c.m[arn] = call
			c.mu.Unlock()
			call.f = read()
			close(call.done)
			return call.f
		}
		c.mu.Unlock()
		<-call.done
		if call.f.complete() || call.reader == reader {
			return call.f
		}
		// Another account could not read it all; take the slot and try.
		c.mu.Lock()
		if c.m[arn] == call {
			delete(c.m, arn)
		}
		c.mu.Unlock()
	}
}
