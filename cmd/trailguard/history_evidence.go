package main

import (
	"github.com/trailguard/trailguard"
	"github.com/trailguard/trailguard/report"
)

// evidenceHistory is not wired yet: the evidence directory's lookup-events
// reader lands separately.
func evidenceHistory(_ *historyFlags, _ trailguard.Options) (*report.History, *report.Report, error) {
	return nil, nil, usageErr("--evidence: reading saved lookup-events output is not available in this build yet")
}
