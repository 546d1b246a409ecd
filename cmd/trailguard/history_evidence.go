package main

import (
	"context"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"

	"github.com/trailguard/trailguard"
	tgaws "github.com/trailguard/trailguard/aws"
	"github.com/trailguard/trailguard/evidence"
	"github.com/trailguard/trailguard/report"
)

// evidenceHistory reads the trails and the saved lookup-events output of
// an evidence directory and replays each account. The state was read when
// the evidence was collected: the replay starts there, and the window ends
// there (after it the evidence proves nothing), earlier if --until says so.
func evidenceHistory(hf *historyFlags, opts trailguard.Options) (*report.History, *report.Report, error) {
	sc, err := tgaws.Scan(context.Background(), sdkaws.Config{}, tgaws.ScanOptions{Evidence: hf.evidenceDir, Evaluate: opts})
	if err != nil {
		return nil, nil, usageErr("--evidence: %v", err)
	}
	hists, err := evidence.ReadHistory(hf.evidenceDir)
	if err != nil {
		return nil, nil, usageErr("--evidence: %v", err)
	}
	byID := map[string]evidence.AccountHistory{}
	var at, since time.Time
	for _, ah := range hists {
		byID[ah.Account] = ah
		if ah.Until.After(at) {
			at = ah.Until
		}
		if ah.Since.After(since) {
			since = ah.Since
		}
		for _, e := range ah.Events {
			if e.Time.After(at) {
				at = e.Time
			}
		}
	}
	if at.IsZero() {
		return nil, nil, usageErr("--evidence: %s records no lookup-events collection time and no events: collect it with the script 'trailguard collect-script' prints", hf.evidenceDir)
	}
	until := at
	if hf.untilSet && hf.to.Before(at) {
		until = hf.to
	}
	from := hf.from
	if hf.since == "90d" {
		// The default window is event history's 90 days before the
		// collection, not before today.
		from = at.Add(-maxWindow)
	}
	if since.After(from) {
		// The lookups asked no further back: before it nothing is known.
		from = since
	}
	if !from.Before(until) {
		return nil, nil, usageErr("--evidence: the window %s → %s holds none of the evidence's history", from.Format(time.RFC3339), until.Format(time.RFC3339))
	}
	src := evidenceSource{byID: byID}
	for _, a := range sc.Accounts {
		for _, t := range a.Trails {
			if t.IsOrganizationTrail && a.ID != "" && t.OwnerAccount() == a.ID {
				// The account that owns an organization trail is the
				// management account: its events answer for the members.
				src.mgmt = a.ID
			}
		}
	}
	h := replayAll(context.Background(), sc, src, from, until, at, opts, 1, nil)
	h.Source = "evidence:" + hf.evidenceDir
	rep := scanReport("evidence:"+hf.evidenceDir, "", opts, sc)
	h.Notices = append(h.Notices, rep.Notices...)
	return h, rep, nil
}

// evidenceSource reads the saved lookup-events output of each account.
type evidenceSource struct {
	byID map[string]evidence.AccountHistory
	mgmt string
}

func (s evidenceSource) management() string { return s.mgmt }

func (s evidenceSource) lookup(_ context.Context, id string, _ []string, _, _ time.Time) accountEvents {
	ah, ok := s.byID[id]
	if !ok {
		return accountEvents{errs: []string{"no lookup-events output for account " + id + " in the evidence (collect it with the script 'trailguard collect-script' prints)"}}
	}
	return accountEvents{events: ah.Events, regions: ah.Regions, errs: ah.Errors, read: true}
}
