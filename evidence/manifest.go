package evidence

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"time"
)

// fileManifest is the name of an account directory's manifest.
const fileManifest = "manifest.json"

// Limits on what Verify walks: an account directory holds a few files per
// trail, so these are far beyond real evidence and only stop a hostile
// directory from making the scan hash without end.
const (
	maxManifestFiles = 20000
	maxWalkDepth     = 6
)

// Manifest is manifest.json, written last into every account directory by
// Write and by the collect script: who collected the evidence, when, with
// what, and the SHA-256 of every file the collection wrote, so that a file
// changed, added or removed afterwards is seen (see Verify).
type Manifest struct {
	// Tool is "trailguard" (scan --save-evidence) or
	// "trailguard collect-script" (the auditor's script).
	Tool        string `json:"Tool" cli:"required"`
	ToolVersion string `json:"ToolVersion"`
	// CollectedBy is the caller ARN of the credentials that read the
	// account ("" when it could not be read).
	CollectedBy string   `json:"CollectedBy"`
	StartTime   string   `json:"StartTime"`
	EndTime     string   `json:"EndTime"`
	CommandLine []string `json:"CommandLine"`
	// RunId is the collection's run marker (collect-run.json).
	RunID string `json:"RunId"`
	// Files maps each file's path, relative to the account directory and
	// with "/" separators, to its SHA-256 in lower-case hex.
	Files map[string]string `json:"Files" cli:"required"`
}

// Provenance is what Write records in each manifest besides the files.
type Provenance struct {
	ToolVersion string
	CommandLine []string
	// Start is when the collection began (zero: when Write was called).
	Start time.Time
}

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Integrity is what the manifests say about an evidence directory.
type Integrity struct {
	// Warnings are, per account id, the files changed, added or removed
	// after collection, or why the manifest could not be checked. The
	// account is still evaluated; its result carries these.
	Warnings map[string][]string
	// Notices are said once for the whole directory: the accounts without
	// a manifest (evidence collected by hand is allowed one).
	Notices []string
}

// verifyAccount checks the account directory adir against its manifest.
// skipDirs are subdirectories that are not this account's (the account
// directories inside a single-account root). It returns the warnings and
// whether a manifest was there.
func verifyAccount(adir string, skipDirs map[string]bool) (warnings []string, found bool) {
	mpath := filepath.Join(adir, fileManifest)
	data, found, err := readFile(mpath)
	if !found && err == nil {
		return nil, false
	}
	if err != nil {
		return []string{fmt.Sprintf("evidence integrity not verified: %v", err)}, true
	}
	var m Manifest
	if err := decodeJSON(mpath, data, &m); err != nil {
		return []string{fmt.Sprintf("evidence integrity not verified: %v", err)}, true
	}
	if len(m.Files) > maxManifestFiles {
		return []string{fmt.Sprintf("evidence integrity not verified: %s lists %d files, more than the %d an account directory can hold", mpath, len(m.Files), maxManifestFiles)}, true
	}
	listed := map[string]bool{}
	names := make([]string, 0, len(m.Files))
	for name := range m.Files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		want := m.Files[name]
		if !safeRelPath(name) || name == fileManifest {
			warnings = append(warnings, fmt.Sprintf("%s lists %q, which is not a file of the account directory: not checked", mpath, name))
			continue
		}
		listed[name] = true
		p := filepath.Join(adir, filepath.FromSlash(name))
		if !sha256Hex.MatchString(want) {
			warnings = append(warnings, fmt.Sprintf("%s gives %q as the SHA-256 of %s, which is not one: the file is not verified", mpath, want, p))
			continue
		}
		got, err := hashFile(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			warnings = append(warnings, fmt.Sprintf("evidence file removed after collection: %s is listed in %s but missing", p, mpath))
		case err != nil:
			warnings = append(warnings, fmt.Sprintf("evidence file not verified: %s: %v", p, err))
		case got != want:
			warnings = append(warnings, fmt.Sprintf("evidence file changed after collection: %s (SHA-256 %s, %s recorded %s)", p, got, fileManifest, want))
		}
	}
	added, err := unlistedFiles(adir, listed, skipDirs)
	for _, name := range added {
		warnings = append(warnings, fmt.Sprintf("evidence file added after collection: %s is not in %s", filepath.Join(adir, filepath.FromSlash(name)), mpath))
	}
	if err != nil {
		warnings = append(warnings, fmt.Sprintf("evidence integrity not fully verified: %v", err))
	}
	return warnings, true
}

// safeRelPath accepts a manifest entry only as a plain relative path
// inside the account directory: the manifest is outside input and must not
// make the reader open anything else.
func safeRelPath(name string) bool {
	if name == "" || strings.HasPrefix(name, "/") || strings.Contains(name, "\\") || path.Clean(name) != name {
		return false
	}
	for _, part := range strings.Split(name, "/") {
		if !safeComponent(part) {
			return false
		}
	}
	return true
}

// unlistedFiles walks adir and returns, sorted, the files (anything but a
// directory: a link or a FIFO added is added too) that the manifest does
// not list, the manifest itself aside.
func unlistedFiles(adir string, listed, skipDirs map[string]bool) ([]string, error) {
	var out []string
	seen := 0
	// The trailing separator makes the walk follow an account directory
	// that is a symbolic link, as Read does; links below it are not
	// followed.
	err := filepath.WalkDir(adir+string(filepath.Separator), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, rerr := filepath.Rel(adir, p)
		if rerr != nil {
			return rerr
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel == "." {
				return nil
			}
			if skipDirs[rel] || strings.Count(rel, "/") >= maxWalkDepth {
				return fs.SkipDir
			}
			return nil
		}
		if seen++; seen > maxManifestFiles {
			return fmt.Errorf("more than %d files in %s: the rest are not checked", maxManifestFiles, adir)
		}
		if rel != fileManifest && !listed[rel] {
			out = append(out, rel)
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

// hashFile returns the SHA-256 of a regular file in lower-case hex. Like
// readFile it refuses anything but a regular file (a FIFO would block).
func hashFile(p string) (string, error) {
	info, err := os.Lstat(p)
	if err != nil {
		return "", err
	}
	if !info.Mode().IsRegular() {
		return "", fmt.Errorf("not a regular file (%s)", info.Mode().Type())
	}
	if info.Size() > int64(maxFileSize) {
		return "", fmt.Errorf("larger than %d bytes: not AWS CLI output", maxFileSize)
	}
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if info, err := f.Stat(); err != nil || !info.Mode().IsRegular() {
		return "", errors.New("not a regular file")
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.LimitReader(f, int64(maxFileSize)+1)); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Verify checks every account directory of the evidence directory dir
// against its manifest.json (see ReadVerified).
func Verify(dir string) Integrity {
	in := Integrity{Warnings: map[string][]string{}}
	var unmanifested []string
	check := func(adir, id string, skip map[string]bool) {
		w, found := verifyAccount(adir, skip)
		if !found {
			unmanifested = append(unmanifested, adir)
			return
		}
		if len(w) > 0 {
			in.Warnings[id] = append(in.Warnings[id], w...)
		}
	}
	entries, _ := os.ReadDir(dir)
	accountDirs := map[string]bool{}
	for _, e := range entries {
		if IsAccountID(e.Name()) && isDir(filepath.Join(dir, e.Name()), e) {
			accountDirs[e.Name()] = true
			check(filepath.Join(dir, e.Name()), e.Name(), nil)
		}
	}
	if hasAccountFiles(dir) {
		// A single-account directory: its id is what Read found for it.
		check(dir, "", accountDirs)
	}
	if n := len(unmanifested); n > 0 {
		// Said once, however many accounts: a few named, the rest counted.
		shown := strings.Join(unmanifested[:min(n, 5)], ", ")
		if n > 5 {
			shown += fmt.Sprintf(" and %d more account directories", n-5)
		}
		in.Notices = append(in.Notices, fmt.Sprintf("no %s in %s: the evidence was collected by hand or by an older trailguard, so its files are read but not verified against a manifest", fileManifest, shown))
	}
	return in
}
