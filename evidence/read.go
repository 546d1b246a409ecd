package evidence

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/trailguard/trailguard"
	"github.com/trailguard/trailguard/awscli"
)

// File names of the layout (see the package documentation).
const (
	fileCallerIdentity  = "caller-identity.json"
	fileDescribeAccount = "describe-account.json"
	fileRegions         = "regions.json"
	fileDescribeTrails  = "describe-trails.json"
	fileErrors          = "errors.json"
	fileTrailStatus     = "get-trail-status.json"
	fileEventSelectors  = "get-event-selectors.json"
	dirTrails           = "trails"
)

// The AWS CLI command behind each file, for reasons read from .err files.
var commandOf = map[string]string{
	fileRegions:        "aws ec2 describe-regions",
	fileDescribeTrails: "aws cloudtrail describe-trails",
	fileTrailStatus:    "aws cloudtrail get-trail-status",
	fileEventSelectors: "aws cloudtrail get-event-selectors",
}

var (
	accountIDPattern = regexp.MustCompile(`^[0-9]{12}$`)
	regionPattern    = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)
)

// IsAccountID reports whether name is an AWS account id (twelve digits),
// which is also what makes a directory of the evidence an account
// directory.
func IsAccountID(name string) bool { return accountIDPattern.MatchString(name) }

// Read reads the evidence directory dir: one account per twelve-digit
// subdirectory, or dir itself when it holds one account's files. Accounts
// come back sorted by id, trails in the order describe-trails listed them
// (shadow trails folded by ARN).
//
// What one account's files lack or get wrong is recorded in that account
// (Account.Error, Account.RegionsError, Trail.StatusError,
// Trail.SelectorsError) and the rest is still read. Read fails only when
// dir cannot be read, holds no account, or holds one account's files whose
// account id cannot be told.
func Read(dir string) ([]trailguard.Account, error) {
	accounts, _, err := read(dir)
	return accounts, err
}

// ReadVerified reads dir as Read does and checks every account directory
// against its manifest.json (see Manifest): the files changed, added or
// removed after collection are warnings on the account, keyed by its id;
// the evidence is still read as it is, so the scan still judges it.
func ReadVerified(dir string) ([]trailguard.Account, Integrity, error) {
	accounts, rootID, err := read(dir)
	if err != nil {
		return nil, Integrity{}, err
	}
	in := Verify(dir)
	if w, ok := in.Warnings[""]; ok {
		delete(in.Warnings, "")
		in.Warnings[rootID] = append(in.Warnings[rootID], w...)
	}
	return accounts, in, nil
}

// read is Read; it also returns the id of the account whose files are in
// dir itself ("" when none).
func read(dir string) ([]trailguard.Account, string, error) {
	rootID := ""
	info, err := os.Stat(dir)
	if err != nil {
		return nil, "", fmt.Errorf("evidence directory: %w", err)
	}
	if !info.IsDir() {
		return nil, "", fmt.Errorf("evidence directory %s: not a directory", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, "", fmt.Errorf("evidence directory: %w", err)
	}
	var accounts []trailguard.Account
	readFrom := map[string]string{}
	for _, e := range entries {
		if !IsAccountID(e.Name()) || !isDir(filepath.Join(dir, e.Name()), e) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		accounts = append(accounts, readAccount(p, e.Name(), false))
		readFrom[e.Name()] = p
	}
	if hasAccountFiles(dir) {
		dirID := ""
		if base := filepath.Base(filepath.Clean(dir)); IsAccountID(base) {
			dirID = base
		}
		acct := readAccount(dir, dirID, true)
		if acct.ID == "" {
			return nil, "", fmt.Errorf("evidence directory %s: %s", dir, acct.Error)
		}
		if other, dup := readFrom[acct.ID]; dup {
			acct.Error = joinReasons(acct.Error, fmt.Sprintf("evidence for account %s is both in %s and in %s: keep one", acct.ID, dir, other))
		}
		accounts = append(accounts, acct)
		rootID = acct.ID
	}
	if len(accounts) == 0 {
		return nil, "", fmt.Errorf("evidence directory %s holds no account: expected <account-id>/%s (one directory per account) or %s", dir, fileDescribeTrails, fileDescribeTrails)
	}
	sort.SliceStable(accounts, func(i, j int) bool { return accounts[i].ID < accounts[j].ID })
	return accounts, rootID, nil
}

// isDir follows a symbolic link to tell whether the entry is a directory.
func isDir(path string, e fs.DirEntry) bool {
	if e.IsDir() {
		return true
	}
	if e.Type()&fs.ModeSymlink == 0 {
		return false
	}
	info, err := os.Stat(path)
	return err == nil && info.IsDir()
}

// hasAccountFiles reports whether dir holds the files of an account
// directly (a single-account directory without the <account-id> level):
// the trail list, the reason it is missing, or the caller identity. A
// stray regions.json alone does not make an account.
func hasAccountFiles(dir string) bool {
	for _, name := range []string{fileDescribeTrails, errFile(fileDescribeTrails), fileCallerIdentity, fileErrors} {
		if _, err := os.Lstat(filepath.Join(dir, name)); err == nil {
			return true
		}
	}
	return false
}

// errFile is the name of the file the collect script saves a failing
// command's error output to: get-trail-status.json → get-trail-status.err.
func errFile(jsonName string) string {
	return strings.TrimSuffix(jsonName, ".json") + ".err"
}

// readAccount reads one account directory. dirID is the account id the
// directory's name gives ("" when none). root is true for a
// single-account directory, whose account id may also come from its files;
// when it cannot be told, the returned account has no ID and Error says
// why.
func readAccount(adir, dirID string, root bool) trailguard.Account {
	var acct trailguard.Account
	var problems []string
	note := func(err error) {
		if err != nil {
			problems = append(problems, err.Error())
		}
	}

	var recorded errorsFile
	if data, found, err := readFile(filepath.Join(adir, fileErrors)); err != nil {
		note(err)
	} else if found {
		recorded, err = parseErrors(filepath.Join(adir, fileErrors), data)
		note(err)
	}

	var ci awscli.CallerIdentity
	if data, found, err := readFile(filepath.Join(adir, fileCallerIdentity)); err != nil {
		note(err)
	} else if found {
		ci, err = parseCallerIdentity(filepath.Join(adir, fileCallerIdentity), data)
		note(err)
		acct.CallerARN = ci.Arn
	}

	var orgID string
	if data, found, err := readFile(filepath.Join(adir, fileDescribeAccount)); err != nil {
		note(err)
	} else if found {
		orgID, acct.Name, err = parseDescribeAccount(filepath.Join(adir, fileDescribeAccount), data)
		note(err)
	}

	acct.Regions, acct.RegionsError = readRegions(adir, recorded.Regions)

	trailsPath := filepath.Join(adir, fileDescribeTrails)
	trailsReason := recorded.DescribeTrails
	if trailsReason == "" {
		trailsReason = readErrFile(filepath.Join(adir, errFile(fileDescribeTrails)), commandOf[fileDescribeTrails])
	}
	data, found, err := readFile(trailsPath)
	switch {
	case err != nil:
		note(err)
		acct.ListingLost = true
	case found:
		acct.Trails, err = parseDescribeTrails(trailsPath, data)
		note(err)
		acct.ListingLost = err != nil
		// A multi-region trail listed again as a shadow trail is one
		// trail; two listings of one ARN that disagree are a Conflict.
		acct.Trails = trailguard.FoldTrails(acct.Trails)
	case trailsReason == "":
		problems = append(problems, fileDescribeTrails+" not found: "+trailsPath)
		acct.ListingLost = true
	}
	if trailsReason != "" {
		// The reason the collection recorded comes first: it is the cause,
		// the rest are consequences.
		problems = append([]string{trailsReason}, problems...)
	}

	// The account id: the directory's name, else (single-account
	// directory) the caller identity, else the account's own trails.
	acct.ID = dirID
	if acct.ID == "" && root {
		acct.ID = ci.Account
		if acct.ID == "" {
			id, err := idFromOwnTrails(acct.Trails)
			if err != nil {
				problems = append(problems, fmt.Sprintf("cannot tell the account id of %s: %v", adir, err))
			}
			acct.ID = id
		}
	}
	if ci.Account != "" && acct.ID != "" && ci.Account != acct.ID {
		problems = append(problems, fmt.Sprintf("%s is for account %s, not %s", filepath.Join(adir, fileCallerIdentity), ci.Account, acct.ID))
	}
	if orgID != "" && acct.ID != "" && orgID != acct.ID {
		problems = append(problems, fmt.Sprintf("%s is for account %s, not %s", filepath.Join(adir, fileDescribeAccount), orgID, acct.ID))
	}

	// Two listed trails with the same name and home region (an
	// organization trail and an own trail) share one directory.
	shared := map[string]int{}
	for _, t := range acct.Trails {
		if rel, err := trailDir(t); err == nil {
			shared[rel]++
		}
	}
	coll := readCollection(adir)
	acct.ReadAt = coll.startedAt // delivery ages are those of the collection
	for i := range acct.Trails {
		t := &acct.Trails[i]
		rel, _ := trailDir(*t)
		readTrailFacts(adir, t, recorded.Trails[t.ARN], shared[rel] > 1, coll)
	}
	acct.Error = joinReasons(problems...)
	return acct
}

// idFromOwnTrails takes the account id from the ARNs of the trails that are
// not organization trails (an organization trail's ARN names the
// management account, whichever account lists it).
func idFromOwnTrails(trails []trailguard.Trail) (string, error) {
	id := ""
	for _, t := range trails {
		if t.IsOrganizationTrail {
			continue
		}
		a := t.OwnerAccount()
		if a == "" {
			continue
		}
		if id != "" && a != id {
			return "", fmt.Errorf("its own trails name two accounts, %s and %s; add %s", id, a, fileCallerIdentity)
		}
		id = a
	}
	if id == "" {
		return "", fmt.Errorf("no %s, the directory is not named after an account, and no trail of the account's own gives it in its ARN", fileCallerIdentity)
	}
	return id, nil
}

// readRegions reads regions.json; regions stay nil when it is missing or
// wrong, with the reason.
func readRegions(adir, recorded string) ([]trailguard.Region, string) {
	if recorded == "" {
		recorded = readErrFile(filepath.Join(adir, errFile(fileRegions)), commandOf[fileRegions])
	}
	path := filepath.Join(adir, fileRegions)
	data, found, err := readFile(path)
	if err != nil {
		return nil, joinReasons(recorded, err.Error())
	}
	if !found {
		if recorded != "" {
			return nil, recorded
		}
		return nil, fileRegions + " not found in " + adir
	}
	regions, err := parseRegions(path, data)
	if err != nil {
		return nil, joinReasons(recorded, err.Error())
	}
	return regions, recorded
}

// readTrailFacts fills the trail's status and selectors from its directory,
// trails/<home-region>/<trail-name>, or says why they are not readable.
// When shared, other listed trails use the same directory, and its files
// count for this trail only if get-event-selectors.json names its ARN.
//
// Facts belong to exactly one trail: a trail listed without a real ARN
// (the CLI always prints TrailARN) gets none, since nothing ties any file
// to it. And evidence is what the CLI printed in this collection: a file
// left from an earlier one is not read (see collection).
func readTrailFacts(adir string, t *trailguard.Trail, recorded trailError, shared bool, coll collection) {
	statusReason := recorded.GetTrailStatus
	selectorsReason := recorded.GetEventSelectors
	if !trailguard.ValidTrailARN(t.ARN) {
		why := fmt.Sprintf("%s lists trail %q without a valid TrailARN (%q): no fact can be tied to it", filepath.Join(adir, fileDescribeTrails), t.Name, t.ARN)
		t.StatusError = orReason(statusReason, why)
		t.SelectorsError = orReason(selectorsReason, why)
		return
	}
	rel, err := trailDir(*t)
	if err != nil {
		t.StatusError = orReason(statusReason, err.Error())
		t.SelectorsError = orReason(selectorsReason, err.Error())
		return
	}
	tdir := filepath.Join(adir, rel)
	if statusReason == "" {
		statusReason = readErrFile(filepath.Join(tdir, errFile(fileTrailStatus)), commandOf[fileTrailStatus])
	}
	if selectorsReason == "" {
		selectorsReason = readErrFile(filepath.Join(tdir, errFile(fileEventSelectors)), commandOf[fileEventSelectors])
	}
	statusReason = orReason(statusReason, coll.listErr)
	selectorsReason = orReason(selectorsReason, coll.listErr)
	stale := coll.trailRun(tdir)
	untrusted := func(path string) string {
		if stale != "" {
			return stale
		}
		return coll.fileAge(path)
	}

	// Problems with a file that is there come before recorded reasons: the
	// file is what was given as evidence.
	statusPath := filepath.Join(tdir, fileTrailStatus)
	data, found, err := readFile(statusPath)
	switch {
	case err != nil:
		t.StatusError, t.StatusLost = err.Error(), true
	case found && untrusted(statusPath) != "":
		t.StatusError, t.StatusLost = untrusted(statusPath), true
	case found:
		t.StatusSource = statusPath
		t.Status, err = parseTrailStatus(statusPath, data)
		if err != nil {
			t.StatusError, t.StatusLost = err.Error(), true
		} else {
			t.StatusError = statusReason
		}
	default:
		t.StatusError = orReason(statusReason, fileTrailStatus+" not found in "+tdir)
		t.StatusLost = statusReason == ""
	}

	var selARN string
	selPath := filepath.Join(tdir, fileEventSelectors)
	data, found, err = readFile(selPath)
	switch {
	case err != nil:
		t.SelectorsError, t.SelectorsLost = err.Error(), true
	case found && untrusted(selPath) != "":
		t.SelectorsError, t.SelectorsLost = untrusted(selPath), true
	case found:
		t.SelectorsSource = selPath
		selARN, t.Selectors, err = parseEventSelectors(selPath, data)
		if err != nil {
			t.SelectorsError, t.SelectorsLost = err.Error(), true
		} else {
			t.SelectorsError = selectorsReason
		}
	default:
		t.SelectorsError = orReason(selectorsReason, fileEventSelectors+" not found in "+tdir)
		t.SelectorsLost = selectorsReason == ""
	}

	// Whose facts are these? get-event-selectors.json names its trail;
	// get-trail-status.json does not.
	var foreign string
	switch {
	case selARN != "" && t.ARN != "" && selARN != t.ARN:
		foreign = fmt.Sprintf("%s holds the facts of trail %s, not of %s", tdir, selARN, t.ARN)
	case shared && (selARN == "" || t.ARN == ""):
		foreign = fmt.Sprintf("%s is shared by trails of the same name and home region, and no %s there names trail %s", tdir, fileEventSelectors, t.ARN)
	}
	if foreign != "" {
		// Facts read are dropped; a fact already not readable keeps its
		// own reason.
		if t.Status != nil {
			t.Status, t.StatusError, t.StatusLost = nil, orReason(statusReason, foreign), true
		}
		if t.Selectors != nil {
			t.Selectors, t.SelectorsError, t.SelectorsLost = nil, orReason(selectorsReason, foreign), true
		}
	}
}

// trailDir is the directory of a trail's facts relative to its account
// directory. The names come from describe-trails.json, outside input: only
// plain path components are accepted, so nothing outside the evidence
// directory is ever read or written.
func trailDir(t trailguard.Trail) (string, error) {
	region := t.HomeRegion
	if region == "" {
		region = trailguard.ARNRegion(t.ARN)
	}
	if !regionPattern.MatchString(region) {
		return "", fmt.Errorf("home region %q of trail %s is not a region name; its facts are not read", region, t.ARN)
	}
	name := trailDirName(t)
	if !safeComponent(name) {
		return "", fmt.Errorf("trail name %q is not a safe directory name; its facts are not read", name)
	}
	return filepath.Join(dirTrails, region, name), nil
}

// trailDirName is the trail's name as its ARN gives it (a member account
// may list an organization trail under its full ARN), else its Name.
func trailDirName(t trailguard.Trail) string {
	const marker = ":trail/"
	if i := strings.LastIndex(t.ARN, marker); i >= 0 {
		return t.ARN[i+len(marker):]
	}
	return t.Name
}

// safeComponent accepts one plain path component: AWS trail names (letters,
// digits, '.', '_', '-') always are one.
func safeComponent(s string) bool {
	if s == "" || s == "." || s == ".." || len(s) > 255 || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == '/' || r == '\\' || r == ':' {
			return false
		}
	}
	return true
}

// readErrFile reads the error output the collect script saved for a
// failed command, as a one-line reason ("" when there is none).
func readErrFile(path, command string) string {
	data, found, err := readFile(path)
	if err != nil {
		return err.Error()
	}
	if !found {
		return ""
	}
	text := strings.Join(strings.Fields(strings.ToValidUTF8(string(toUTF8(data)), "\uFFFD")), " ")
	const max = 2000
	if len(text) > max {
		text = strings.ToValidUTF8(text[:max], "") + " …"
	}
	if text == "" {
		return command + " failed (no error message was saved in " + path + ")"
	}
	return command + " failed: " + text
}

func orReason(first, second string) string {
	if first != "" {
		return first
	}
	return second
}

// joinReasons joins the non-empty reasons with "; ".
func joinReasons(reasons ...string) string {
	var out []string
	for _, r := range reasons {
		if r != "" {
			out = append(out, r)
		}
	}
	return strings.Join(out, "; ")
}
