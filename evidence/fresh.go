package evidence

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Evidence is what the CLI printed in this collection. A status or
// selectors file left in a trail's directory by an earlier collection
// would otherwise answer for a trail whose state has since changed (logging
// stopped, then a re-run that could not list the trails leaves yesterday's
// "IsLogging": true in place). Two rules keep such files out:
//
//  1. The run marker. The collect script (and Write) first writes
//     collect-run.json, {"RunId": "...", "StartTime": "..."}, into the
//     account directory, then clears every trail directory's files, and
//     writes the same marker into a trail's directory before it reads that
//     trail. When the account directory has a marker, a trail's files count
//     only if its directory holds the same RunId: anything else is left
//     from another collection and not trusted. Markers travel with the
//     files through any copy (cp, zip, a ticket attachment), unlike times.
//  2. Times. Without a marker (evidence collected by hand, DESIGN section
//     3), a status or selectors file whose modification time is more than
//     staleTolerance before that of the describe-trails.json it belongs to
//     was provably written before the trails were listed, so by an earlier
//     collection. The tolerance absorbs a copy that does not keep times
//     (cp without -p writes files in directory order, seconds apart);
//     copies that keep them (cp -p, rsync -a, tar, zip) keep the order.
//
// A file that is not trusted is not read: the fact is "not readable", with
// the reason, so it can make the verdict UNKNOWN but never PASS.
const (
	fileRunMarker = "collect-run.json"
	// fileTrailListErr is where the collect script saves why it could not
	// list the trails to read their facts.
	fileTrailListErr = "trail-list.err"
	staleTolerance   = time.Minute
)

// runMarker is collect-run.json.
type runMarker struct {
	RunID     string `json:"RunId" cli:"required"`
	StartTime string `json:"StartTime,omitempty"`
}

// parseRunMarker reads collect-run.json. The RunId must be there and not
// empty: a marker without one ties nothing together.
func parseRunMarker(path string, data []byte) (runMarker, error) {
	var m runMarker
	if err := decodeJSON(path, data, &m); err != nil {
		return runMarker{}, err
	}
	if m.RunID == "" {
		return runMarker{}, &FileError{Path: path, Err: errors.New("empty RunId: not a run marker")}
	}
	return m, nil
}

// collection is what a trail's files are checked against: the account's
// run marker and the time of its describe-trails.json.
type collection struct {
	marked   bool
	runID    string
	markErr  string    // why the account's marker could not be read
	listedAt time.Time // zero when describe-trails.json is missing
	// startedAt is when the collection began: the run marker's
	// StartTime, else when describe-trails.json was written; zero when
	// neither is known.
	startedAt time.Time
	listErr   string // why the collect script could not list the trails
}

func readCollection(adir string) collection {
	var c collection
	path := filepath.Join(adir, fileRunMarker)
	if data, found, err := readFile(path); err != nil {
		c.marked, c.markErr = true, err.Error()
	} else if found {
		c.marked = true
		if m, err := parseRunMarker(path, data); err != nil {
			c.markErr = err.Error()
		} else {
			c.runID = m.RunID
			if t, err := time.Parse(time.RFC3339, m.StartTime); err == nil {
				c.startedAt = t
			}
		}
	}
	if info, err := os.Stat(filepath.Join(adir, fileDescribeTrails)); err == nil && info.Mode().IsRegular() {
		c.listedAt = info.ModTime()
		if c.startedAt.IsZero() {
			c.startedAt = c.listedAt
		}
	}
	if reason := readErrFile(filepath.Join(adir, fileTrailListErr), "aws cloudtrail describe-trails --query"); reason != "" {
		c.listErr = "the collect script could not list the trails to read their facts: " + reason
	}
	return c
}

// trailRun reads the run marker of a trail directory and says why its files
// are not from the account's collection ("" when they are, or when the
// account has no marker).
func (c collection) trailRun(tdir string) string {
	path := filepath.Join(tdir, fileRunMarker)
	data, found, err := readFile(path)
	var run string
	switch {
	case err != nil:
		return fmt.Sprintf("not trusted: %v", err)
	case found:
		m, err := parseRunMarker(path, data)
		if err != nil {
			return fmt.Sprintf("not trusted: %v", err)
		}
		run = m.RunID
	}
	switch {
	case !c.marked && run == "":
		return ""
	case c.markErr != "":
		return "not trusted: the account's run marker cannot be read: " + c.markErr
	case !c.marked:
		return fmt.Sprintf("left from another collection: %s names run %q but the account directory has no %s", path, run, fileRunMarker)
	case run == "":
		return fmt.Sprintf("left from an earlier collection: %s has no %s of run %q (the collect script writes it before reading the trail)", tdir, fileRunMarker, c.runID)
	case run != c.runID:
		return fmt.Sprintf("left from another collection: %s names run %q, the account's describe-trails.json is from run %q", path, run, c.runID)
	}
	return ""
}

// fileAge says why a fact file is older than the trail list it belongs to
// ("" when it is not provably so).
func (c collection) fileAge(path string) string {
	if c.listedAt.IsZero() {
		return ""
	}
	info, err := os.Stat(path)
	if err != nil {
		return ""
	}
	if gap := c.listedAt.Sub(info.ModTime()); gap > staleTolerance {
		return fmt.Sprintf("left from an earlier collection: %s was written %s before %s, so before the trails were listed", path, gap.Round(time.Second), fileDescribeTrails)
	}
	return ""
}
