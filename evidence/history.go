package evidence

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/trailguard/trailguard/awscli"
	"github.com/trailguard/trailguard/history"
)

// The event history of an account directory, as the collect script saves
// it:
//
//	history/collect-run.json                          the run marker, with the --start-time asked
//	history/<region>/lookup-events-<EventName>.json   aws cloudtrail lookup-events --lookup-attributes AttributeKey=EventName,AttributeValue=<EventName>
//	history/<region>/lookup-events-<EventName>.err    its error output, when it failed
//	history/region-list.err                           why the regions could not be listed
//
// one file for each enabled region and each history.CoverageEvents name.
const (
	dirHistory       = "history"
	fileRegionList   = "region-list.err"
	lookupFilePrefix = "lookup-events-"
)

// AccountHistory is the event history of one account read from evidence.
type AccountHistory struct {
	Account string
	// Regions are the regions whose history was read in full: every
	// coverage event name's file there, each read without error.
	Regions []string
	// Events are the coverage events of every region read (also of a
	// region read in part), each once, oldest first.
	Events []history.Event
	// Errors say what could not be read: a region without its files, a
	// failed lookup, a malformed file or event (naming the file and the
	// event's index). A region named in an error is not in Regions.
	Errors []string
	// Since is the --start-time the lookups asked (zero when none was
	// recorded: event history then reaches 90 days before Until); Until
	// is when the collection started (zero when not recorded): events
	// after it are not in the evidence.
	Since, Until time.Time
}

// historyMarker is history/collect-run.json: the account's run marker
// with the --start-time the lookups asked.
type historyMarker struct {
	RunID     string `json:"RunId" cli:"required"`
	StartTime string `json:"StartTime,omitempty"`
	Since     string `json:"Since,omitempty"`
}

// ReadHistory reads the event history saved in the evidence directory dir
// (one account per twelve-digit subdirectory, or dir itself for one
// account), accounts sorted by id. Every file is read through
// internal/safefile and decoded exactly (awscli.Decode), and each event's
// CloudTrailEvent with history.ParseRecord.
//
// Nothing is skipped silently: what cannot be read is an entry in the
// account's Errors, naming the file (and, for an event, its index in
// Events), and that region is left out of Regions, so the history of the
// account is known to be incomplete; the rest is still read. A region the
// account has enabled (its regions.json) without its lookup files, a
// failed lookup (.err), an output the CLI did not finish paginating, an
// event of another account or region than its file: each is an error.
// ReadHistory itself fails only when dir cannot be read or holds no
// account.
func ReadHistory(dir string) ([]AccountHistory, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("evidence directory: %w", err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("evidence directory %s: not a directory", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("evidence directory: %w", err)
	}
	var out []AccountHistory
	for _, e := range entries {
		if IsAccountID(e.Name()) && isDir(filepath.Join(dir, e.Name()), e) {
			out = append(out, readAccountHistory(filepath.Join(dir, e.Name()), e.Name()))
		}
	}
	if hasAccountFiles(dir) || dirExists(filepath.Join(dir, dirHistory)) {
		id := ""
		if base := filepath.Base(filepath.Clean(dir)); IsAccountID(base) {
			id = base
		} else if ci, err := readCallerAccount(dir); err == nil {
			id = ci
		}
		if id == "" {
			return nil, fmt.Errorf("evidence directory %s: the account of its event history cannot be told: save %s (aws sts get-caller-identity) beside it, or put it in a directory named after the account id", dir, fileCallerIdentity)
		}
		out = append(out, readAccountHistory(dir, id))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("evidence directory %s holds no account: expected <account-id>/%s/<region>/%s<EventName>.json", dir, dirHistory, lookupFilePrefix)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Account < out[j].Account })
	return out, nil
}

func dirExists(p string) bool {
	info, err := os.Stat(p)
	return err == nil && info.IsDir()
}

// readCallerAccount is the Account of a single-account directory's
// caller-identity.json.
func readCallerAccount(dir string) (string, error) {
	path := filepath.Join(dir, fileCallerIdentity)
	data, found, err := readFile(path)
	if err != nil || !found {
		return "", fmt.Errorf("no %s", fileCallerIdentity)
	}
	var ci awscli.CallerIdentity
	if err := decodeJSON(path, data, &ci); err != nil {
		return "", err
	}
	if !IsAccountID(ci.Account) {
		return "", fmt.Errorf("%s: no account id", path)
	}
	return ci.Account, nil
}

// readAccountHistory reads one account directory's history/.
func readAccountHistory(adir, account string) AccountHistory {
	h := AccountHistory{Account: account}
	hdir := filepath.Join(adir, dirHistory)
	if !dirExists(hdir) {
		h.Errors = append(h.Errors, fmt.Sprintf("%s: no event history was collected (no %s directory): collect it again with the collect script (trailguard collect-script)", adir, dirHistory))
		return h
	}
	if reason := historyRun(adir, hdir, &h); reason != "" {
		// Files of another collection cannot answer for this one.
		h.Errors = append(h.Errors, reason)
		return h
	}
	if reason := readErrFile(filepath.Join(hdir, fileRegionList), "aws ec2 describe-regions --query"); reason != "" {
		h.Errors = append(h.Errors, fmt.Sprintf("%s: the collect script could not list the regions to read event history in: %s", hdir, reason))
	}
	// The regions history must cover: those enabled for the account, as
	// its regions.json lists them, and any other region saved.
	want := map[string]bool{}
	if regions, reason := readRegions(adir, ""); regions == nil {
		h.Errors = append(h.Errors, fmt.Sprintf("which regions event history must cover is not known: %s", reason))
	} else {
		for _, r := range regions {
			if r.Enabled() {
				want[r.Name] = true
			}
		}
	}
	entries, err := os.ReadDir(hdir)
	if err != nil {
		h.Errors = append(h.Errors, fmt.Sprintf("%s: %v", hdir, unwrapPathErr(err)))
	}
	for _, e := range entries {
		if regionPattern.MatchString(e.Name()) && isDir(filepath.Join(hdir, e.Name()), e) {
			want[e.Name()] = true
		}
	}
	regions := make([]string, 0, len(want))
	for r := range want {
		regions = append(regions, r)
	}
	sort.Strings(regions)
	seen := map[string]bool{}
	for _, region := range regions {
		complete := true
		for _, name := range history.CoverageEvents {
			evs, reason := readLookupFile(filepath.Join(hdir, region), account, region, name)
			if reason != "" {
				complete = false
				h.Errors = append(h.Errors, reason)
			}
			for _, ev := range evs {
				if !seen[ev.ID] {
					seen[ev.ID] = true
					h.Events = append(h.Events, ev)
				}
			}
		}
		if complete {
			h.Regions = append(h.Regions, region)
		}
	}
	sort.SliceStable(h.Events, func(i, j int) bool {
		if !h.Events[i].Time.Equal(h.Events[j].Time) {
			return h.Events[i].Time.Before(h.Events[j].Time)
		}
		return h.Events[i].ID < h.Events[j].ID
	})
	return h
}

// historyRun checks history/collect-run.json against the account's run
// marker, as trail directories are checked (fresh.go), and records the
// window it names. It returns why the history files are not trusted.
func historyRun(adir, hdir string, h *AccountHistory) string {
	coll := readCollection(adir)
	if reason := coll.trailRun(hdir); reason != "" {
		return fmt.Sprintf("event history %s", reason)
	}
	path := filepath.Join(hdir, fileRunMarker)
	data, found, err := readFile(path)
	if err != nil {
		return err.Error()
	}
	if !found {
		return ""
	}
	var m historyMarker
	if err := decodeJSON(path, data, &m); err != nil {
		return err.Error()
	}
	if m.Since != "" {
		t, err := time.Parse(time.RFC3339, m.Since)
		if err != nil {
			return fmt.Sprintf("%s: Since %q is not an ISO 8601 time: the window the history covers is not known", path, m.Since)
		}
		h.Since = t.UTC()
	}
	if m.StartTime != "" {
		if t, err := time.Parse(time.RFC3339, m.StartTime); err == nil {
			h.Until = t.UTC()
		}
	}
	return ""
}

// readLookupFile reads one lookup-events output: the events it holds and
// why it cannot be read in full ("" when it can).
func readLookupFile(rdir, account, region, name string) ([]history.Event, string) {
	path := filepath.Join(rdir, lookupFilePrefix+name+".json")
	command := "aws cloudtrail lookup-events (EventName " + name + ", " + region + ")"
	if reason := readErrFile(errFile(path), command); reason != "" {
		return nil, fmt.Sprintf("%s: %s", errFile(path), reason)
	}
	data, found, err := readFile(path)
	if err != nil {
		return nil, err.Error()
	}
	if !found {
		return nil, fmt.Sprintf("%s: missing: the event history of %s was not saved (%s)", path, region, command)
	}
	return parseLookupEvents(path, data, account, region, name)
}

// parseLookupEvents reads the lookup-events output data, of the file
// path, which must hold name events of account recorded in region.
func parseLookupEvents(path string, data []byte, account, region, name string) ([]history.Event, string) {
	var out awscli.LookupEvents
	if err := decodeJSON(path, data, &out); err != nil {
		return nil, err.Error()
	}
	if out.NextToken != "" {
		return nil, fmt.Sprintf("%s: holds one page only (NextToken is set: the CLI was told to stop with --no-paginate or --max-items): save the whole output", path)
	}
	var evs []history.Event
	for i, le := range *out.Events {
		where := fmt.Sprintf("%s: Events[%d]", path, i)
		if le.CloudTrailEvent == nil {
			return evs, where + ": CloudTrailEvent missing or null"
		}
		ev, err := history.ParseRecord([]byte(*le.CloudTrailEvent))
		if err != nil {
			return evs, fmt.Sprintf("%s: CloudTrailEvent: %v", where, err)
		}
		switch {
		case ev.Name != name:
			return evs, fmt.Sprintf("%s: event %q is a %q, in the file of %s: not this lookup's output", where, ev.ID, ev.Name, name)
		case ev.Region != region:
			return evs, fmt.Sprintf("%s: event %q was recorded in %s, in the file of %s: not this lookup's output", where, ev.ID, ev.Region, region)
		case ev.Account != account:
			return evs, fmt.Sprintf("%s: event %q is of account %s, in the evidence of %s", where, ev.ID, ev.Account, account)
		case le.EventID != "" && le.EventID != ev.ID:
			return evs, fmt.Sprintf("%s: EventId %q differs from the eventID %q of its CloudTrailEvent", where, le.EventID, ev.ID)
		}
		evs = append(evs, ev)
	}
	return evs, ""
}
