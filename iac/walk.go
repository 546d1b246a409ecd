package iac

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/trailguard/trailguard"
	"github.com/trailguard/trailguard/terraform"
)

// maxTerraformFileBytes bounds a Terraform file the walk lets the
// Terraform reader open: far above hand-written or generated code, far
// below what would exhaust memory.
const maxTerraformFileBytes = 16 << 20

// found is what the walk found.
type found struct {
	results  []trailguard.Result // module directories not read, and why
	modules  []string            // Terraform root module directories
	files    []string            // JSON and YAML files that may be plans or templates
	explicit map[string]bool     // files named by the caller
	// scope holds, for a module directory reached only through .tf files
	// named by the caller, those files: its results are limited to them.
	scope    map[string]map[string]bool
	notes    []string // what was skipped while walking
	walkDone bool     // every path was walked (not stopped by the context)
}

// collect walks the paths. Directories holding .tf files are module
// directories; those another collected directory calls as a local module
// are read through the caller only. A file named in paths is read
// whatever its name; a path that does not exist is an error. The walk
// stops when ctx ends, returning what it found so far and ctx's error.
// .terraform, .git and node_modules directories are skipped.
//
// The Terraform reader opens every .tf and variable file of a module
// directory by itself, so the walk checks them first: a directory holding
// one that is not a regular file (reading a FIFO blocks, /dev/zero never
// ends) or that is over maxTerraformFileBytes is not read, nor is a
// collected directory that calls it as a local module; each is a result
// naming the file, never silence.
func collect(ctx context.Context, paths []string) (found, error) {
	out := found{explicit: map[string]bool{}, scope: map[string]map[string]bool{}}
	tfDirs := map[string]bool{}
	walkedTF := map[string]bool{} // module directories reached by a walk
	badDirs := map[string]trailguard.Result{}
	checkTF := func(p string) {
		dir := filepath.Clean(filepath.Dir(p))
		if _, seen := badDirs[dir]; seen {
			return
		}
		info, err := os.Stat(p)
		switch {
		case err != nil:
			// A file of the module that cannot be read (a dangling link, a
			// path too long, no permission) may set what decides a trail:
			// a variable file read without it could turn a FAIL into a
			// PASS. The module is not read; the file is named.
			badDirs[dir] = fileError(trailguard.ErrorAt(p, 0, "%v; the module directory %s is not read", err, dir))
		case !info.Mode().IsRegular():
			note := skippedNote(p, info.Mode())
			out.notes = append(out.notes, note)
			badDirs[dir] = trailguard.UnreadResult(p, 1, "module "+dir, "the module directory is not read: "+strings.TrimPrefix(note, "skipped "))
		case info.Size() > maxTerraformFileBytes:
			badDirs[dir] = fileError(trailguard.ErrorAt(p, 0, "%d bytes, more than the %d-byte limit of a Terraform file; the module directory %s is not read", info.Size(), maxTerraformFileBytes, dir))
		}
	}
	addFile := func(p string, named bool) {
		base := filepath.Base(p)
		switch {
		case strings.HasSuffix(p, ".tf") || strings.HasSuffix(p, ".tf.json"):
			dir := filepath.Clean(filepath.Dir(p))
			tfDirs[dir] = true
			if named {
				if out.scope[dir] == nil {
					out.scope[dir] = map[string]bool{}
				}
				out.scope[dir][filepath.Clean(p)] = true
			} else {
				walkedTF[dir] = true
			}
			checkTF(p)
		case base == "terraform.tfvars" || base == "terraform.tfvars.json" ||
			strings.HasSuffix(base, ".auto.tfvars") || strings.HasSuffix(base, ".auto.tfvars.json"):
			checkTF(p)
		case strings.HasSuffix(p, ".tfvars.json"):
		case named, strings.HasSuffix(p, ".json"), strings.HasSuffix(p, ".yaml"), strings.HasSuffix(p, ".yml"), strings.HasSuffix(p, ".template"):
			if named {
				if out.explicit[p] {
					return
				}
				out.explicit[p] = true
			}
			out.files = append(out.files, p)
		}
	}
	for _, root := range paths {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		info, err := os.Stat(root)
		if err != nil {
			return out, err
		}
		if !info.IsDir() {
			addFile(root, true)
			continue
		}
		err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				// A directory that cannot be listed is an ERROR naming it;
				// the rest of the tree is still walked.
				if ctx.Err() != nil {
					return ctx.Err()
				}
				r := fileError(err)
				r.Reasons = []string{"not read, and it may declare a trail: " + err.Error()}
				out.results = append(out.results, r)
				if d != nil && d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if d.IsDir() {
				switch d.Name() {
				case ".terraform", ".git", "node_modules":
					return filepath.SkipDir
				}
				return nil
			}
			addFile(p, false)
			return nil
		})
		if err != nil {
			return out, err
		}
	}
	called := map[string]bool{}
	calls := map[string][]string{}
	for dir := range tfDirs {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		if _, bad := badDirs[dir]; bad {
			continue
		}
		for _, c := range terraform.ModuleCalls(dir) {
			if c != dir {
				called[c] = true
				calls[dir] = append(calls[dir], c)
			}
		}
	}
	for dir := range tfDirs {
		if called[dir] {
			continue
		}
		if r, bad := badDirs[dir]; bad {
			out.results = append(out.results, r)
			continue
		}
		if via := callsBad(dir, calls, badDirs, map[string]bool{}); via != "" {
			out.results = append(out.results, trailguard.UnreadResult(dir, 1, "module "+dir,
				"the module directory is not read: it calls the local module "+Safe(via)+", which is not read"))
			continue
		}
		out.modules = append(out.modules, dir)
	}
	for dir := range walkedTF {
		delete(out.scope, dir) // walked whole: every result is shown
	}
	sort.Slice(out.results, func(i, j int) bool { return out.results[i].File < out.results[j].File })
	sort.Strings(out.modules)
	sort.Strings(out.files)
	out.walkDone = true
	return out, nil
}

// callsBad returns a module directory not to be read that dir calls,
// directly or through other collected directories, or "".
func callsBad(dir string, calls map[string][]string, bad map[string]trailguard.Result, seen map[string]bool) string {
	if seen[dir] {
		return ""
	}
	seen[dir] = true
	for _, c := range calls[dir] {
		if _, ok := bad[c]; ok {
			return c
		}
		if via := callsBad(c, calls, bad, seen); via != "" {
			return via
		}
	}
	return ""
}

// RepositoryRoot is the directory code scanning resolves SARIF URIs
// against for path: the top level of the git work tree holding it (the
// nearest directory upwards with a .git entry, a directory or, in a linked
// work tree or submodule, a file), else the working directory. It looks
// for .git itself rather than running git, which a CI image or a hook's
// environment may lack.
func RepositoryRoot(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	for dir := abs; ; {
		if _, err := os.Lstat(filepath.Join(dir, ".git")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return os.Getwd()
}
