package evidence

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/trailguard/trailguard"
	"github.com/trailguard/trailguard/awscli"
)

// Write writes the accounts to dir in the evidence layout, each file in the
// shape AWS CLI v2 prints, so that Read gives the same accounts back and an
// auditor can compare the files with the output of their own commands.
//
// Each account goes to dir/<account-id>; what Write wrote there before for
// that account is replaced, other accounts' directories and files Write
// does not know are left alone (several scans may save to one directory).
// A trail's status and selectors go under the account that listed the
// trail, whichever account owns it. Facts that were not read are recorded
// in errors.json with their reasons.
//
// An account without a twelve-digit id cannot be placed and is not written;
// Write then reports it after writing the others.
func Write(dir string, accounts []trailguard.Account) error {
	return WriteWith(dir, accounts, Provenance{})
}

// WriteWith is Write, and records p in each account's manifest.json,
// written last, with the SHA-256 of every file written for the account
// (see Manifest).
func WriteWith(dir string, accounts []trailguard.Account, p Provenance) error {
	if p.Start.IsZero() {
		p.Start = time.Now()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("evidence directory: %w", err)
	}
	var errs []error
	written := map[string]bool{}
	for _, a := range accounts {
		switch {
		case !IsAccountID(a.ID):
			msg := fmt.Sprintf("account %q: not a twelve-digit account id, so it has no directory in the evidence", a.ID)
			if a.Error != "" {
				msg += " (it could not be read: " + a.Error + ")"
			}
			errs = append(errs, errors.New(msg))
		case written[a.ID]:
			errs = append(errs, fmt.Errorf("account %s given twice: written once", a.ID))
		default:
			written[a.ID] = true
			if err := writeAccount(filepath.Join(dir, a.ID), a, p); err != nil {
				errs = append(errs, fmt.Errorf("account %s: %w", a.ID, err))
			}
		}
	}
	return errors.Join(errs...)
}

func writeAccount(adir string, a trailguard.Account, p Provenance) error {
	if err := os.MkdirAll(adir, 0o755); err != nil {
		return err
	}
	if err := removeWritten(adir); err != nil {
		return err
	}
	// Members the domain does not keep (the caller's UserId, a region's
	// Endpoint, the account's e-mail) are left out rather than invented.
	w := fileWriter{hashes: map[string]string{}}
	// The run marker first, as the collect script does: every trail
	// directory written below carries the same one (see collection).
	run := newRunMarker()
	w.json(filepath.Join(adir, fileRunMarker), run)
	w.json(filepath.Join(adir, fileCallerIdentity), awscli.CallerIdentity{Account: a.ID, Arn: a.CallerARN})
	if a.Name != "" {
		w.json(filepath.Join(adir, fileDescribeAccount), awscli.DescribeAccount{Account: &awscli.OrganizationAccount{ID: a.ID, Name: a.Name}})
	}
	if a.Regions != nil {
		w.json(filepath.Join(adir, fileRegions), awscli.RegionsOf(a.Regions))
	}

	recorded := errorsFile{DescribeTrails: a.Error, Regions: a.RegionsError, Trails: map[string]trailError{}}
	if a.Error == "" || len(a.Trails) > 0 {
		list := make([]awscli.Trail, 0, len(a.Trails))
		for _, t := range a.Trails {
			list = append(list, awscli.TrailOf(t))
		}
		w.json(filepath.Join(adir, fileDescribeTrails), awscli.DescribeTrails{TrailList: &list})
	}

	owner, shared := dirOwners(a)
	for i, t := range a.Trails {
		te := trailError{GetTrailStatus: t.StatusError, GetEventSelectors: t.SelectorsError}
		if t.Status != nil || t.Selectors != nil {
			rel, err := trailDir(t)
			switch {
			case err != nil:
				te = notSaved(t, te, err.Error())
			case owner[rel] != i:
				te = notSaved(t, te, fmt.Sprintf("%s holds the facts of trail %s, which has the same name and home region", rel, a.Trails[owner[rel]].ARN))
			case shared[rel] > 1 && t.Selectors == nil:
				// Only get-event-selectors.json names its trail: in a
				// shared directory, a status without it would be
				// nobody's.
				te = notSaved(t, te, fmt.Sprintf("%s is shared by trails of the same name and home region, and without %s the status cannot be told apart", rel, fileEventSelectors))
			default:
				w.json(filepath.Join(adir, rel, fileRunMarker), run)
				if t.Status != nil {
					w.json(filepath.Join(adir, rel, fileTrailStatus), awscli.TrailStatusOf(t.Status))
				}
				if t.Selectors != nil {
					w.json(filepath.Join(adir, rel, fileEventSelectors), awscli.EventSelectorsOf(t.ARN, t.Selectors))
				}
			}
		}
		if te != (trailError{}) {
			recorded.Trails[t.ARN] = te
		}
	}
	if len(recorded.Trails) == 0 {
		recorded.Trails = nil
	}
	if !recorded.empty() {
		w.json(filepath.Join(adir, fileErrors), recorded)
	}
	if w.err != nil {
		return w.err
	}
	// The manifest last: it seals what was written above.
	m := Manifest{
		Tool: "trailguard", ToolVersion: p.ToolVersion, CollectedBy: a.CallerARN,
		StartTime: p.Start.UTC().Format(time.RFC3339), EndTime: time.Now().UTC().Format(time.RFC3339),
		CommandLine: p.CommandLine, RunID: run.RunID, Files: map[string]string{},
	}
	for path, sum := range w.hashes {
		rel, err := filepath.Rel(adir, path)
		if err != nil {
			return err
		}
		m.Files[filepath.ToSlash(rel)] = sum
	}
	w.json(filepath.Join(adir, fileManifest), m)
	return w.err
}

// dirOwners picks, for every trail directory that two trails of the
// account would share, the trail whose facts go there (see rank; the first
// of equals). It also counts the trails that map to each directory.
func dirOwners(a trailguard.Account) (owner, shared map[string]int) {
	owner, shared = map[string]int{}, map[string]int{}
	for i, t := range a.Trails {
		rel, err := trailDir(t)
		if err != nil {
			continue
		}
		shared[rel]++
		if t.Status == nil && t.Selectors == nil {
			continue
		}
		j, taken := owner[rel]
		if !taken || rank(a, t) > rank(a, a.Trails[j]) {
			owner[rel] = i
		}
	}
	return owner, shared
}

// rank orders the trails that want the same directory: one whose selectors
// were read first (only they name the trail in the files), then the
// account's own trail.
func rank(a trailguard.Account, t trailguard.Trail) int {
	r := 0
	if t.Selectors != nil {
		r += 2
	}
	if t.OwnerAccount() == a.ID {
		r++
	}
	return r
}

// notSaved records why facts that were read are not in the evidence.
func notSaved(t trailguard.Trail, te trailError, why string) trailError {
	msg := "read but not saved in the evidence: " + why
	if t.Status != nil {
		te.GetTrailStatus = joinReasons(te.GetTrailStatus, msg)
	}
	if t.Selectors != nil {
		te.GetEventSelectors = joinReasons(te.GetEventSelectors, msg)
	}
	return te
}

// removeWritten removes from an account directory the files Write writes,
// so that facts of an earlier save do not outlive it. Files it does not
// know, and symbolic links, are left alone.
func removeWritten(adir string) error {
	var errs []error
	remove := func(path string) {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	for _, name := range []string{fileManifest, fileRunMarker, fileTrailListErr, fileCallerIdentity, fileDescribeAccount, fileRegions, errFile(fileRegions),
		fileDescribeTrails, errFile(fileDescribeTrails), fileErrors} {
		remove(filepath.Join(adir, name))
	}
	trails := filepath.Join(adir, dirTrails)
	regions, _ := os.ReadDir(trails)
	for _, r := range regions {
		if !r.IsDir() {
			continue
		}
		rdir := filepath.Join(trails, r.Name())
		names, _ := os.ReadDir(rdir)
		for _, n := range names {
			if !n.IsDir() {
				continue
			}
			tdir := filepath.Join(rdir, n.Name())
			for _, f := range []string{fileRunMarker, fileTrailStatus, errFile(fileTrailStatus), fileEventSelectors, errFile(fileEventSelectors)} {
				remove(filepath.Join(tdir, f))
			}
			os.Remove(tdir) // only if now empty
		}
		os.Remove(rdir)
	}
	os.Remove(trails)
	return errors.Join(errs...)
}

// newRunMarker names one collection: the time it started and random bits,
// so that two collections never share a RunId.
func newRunMarker() runMarker {
	now := time.Now().UTC()
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		// Without randomness the time alone still tells collections apart.
		return runMarker{RunID: now.Format("20060102T150405.000000000Z"), StartTime: now.Format(time.RFC3339)}
	}
	return runMarker{RunID: now.Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:]), StartTime: now.Format(time.RFC3339)}
}

// fileWriter writes JSON files, keeps the SHA-256 of each for the
// manifest, and keeps the first error.
type fileWriter struct {
	err    error
	hashes map[string]string // path → SHA-256 in hex
}

// json writes v as the AWS CLI prints JSON: four-space indent, non-ASCII
// and HTML characters as they are, a final newline. The file appears whole
// or not at all.
func (w *fileWriter) json(path string, v any) {
	if w.err != nil {
		return
	}
	data, err := awscli.Marshal(v)
	if err != nil {
		w.err = fmt.Errorf("%s: %w", path, err)
		return
	}
	w.err = writeFileAtomic(path, data)
	if w.err == nil && w.hashes != nil {
		sum := sha256.Sum256(data)
		w.hashes[path] = hex.EncodeToString(sum[:])
	}
}

func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
