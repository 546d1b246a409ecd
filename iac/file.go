package iac

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/trailguard/trailguard"
	"github.com/trailguard/trailguard/cloudformation"
	"github.com/trailguard/trailguard/internal/safefile"
	"github.com/trailguard/trailguard/terraform"
)

// checked is what checking one module or file gave.
type checked struct {
	done    bool // the reader finished (not stopped by the context)
	results []trailguard.Result
	trails  int      // trail resources declared
	note    string   // why a file was skipped
	params  []string // CloudFormation parameters declared
}

// checkModule reads and judges one Terraform root module.
//
// Terraform reads every .tf file of a directory as one module, so a file
// named alone (scope) is read with its directory: the values its trails
// use may be set in the other files. Its results are limited to the
// trails and unread module calls of the named files, with every error met
// reading the module (it may change their values), and a note says the
// other files of the directory were read but not reported.
func checkModule(dir string, scope map[string]bool, tfOpts terraform.Options, opts trailguard.Options) checked {
	m := terraform.Read(dir, tfOpts)
	trails := m.Trails
	unread := m.Unread
	note := ""
	if scope != nil {
		trails, unread = nil, nil
		for _, t := range m.Trails {
			if scope[filepath.Clean(t.File)] {
				trails = append(trails, t)
			}
		}
		for _, r := range m.Unread {
			if scope[filepath.Clean(r.File)] {
				unread = append(unread, r)
			}
		}
		note = scopeNote(dir, scope, len(m.Trails)-len(trails)+len(m.Unread)-len(unread))
	}
	results := evaluateAll(trails, opts)
	// A module call that was not read may declare a trail: UNKNOWN, named.
	results = append(results, unread...)
	for _, e := range m.Errs {
		results = append(results, fileError(e))
	}
	return checked{done: true, results: results, trails: len(trails), note: note}
}

// scopeNote says that a named file was read as part of its module
// directory, and what of the directory was left out of the results ("" when
// the named files are all of it).
func scopeNote(dir string, scope map[string]bool, hidden int) string {
	others := 0
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		n := e.Name()
		if (strings.HasSuffix(n, ".tf") || strings.HasSuffix(n, ".tf.json")) && !scope[filepath.Join(dir, n)] {
			others++
		}
	}
	if others == 0 {
		return ""
	}
	named := make([]string, 0, len(scope))
	for f := range scope {
		named = append(named, Safe(f))
	}
	sort.Strings(named)
	return fmt.Sprintf("%s: Terraform reads the module directory %s as a whole, so its %d other .tf file(s) were read too; only the results of the file(s) named are shown (%d trail(s) or module call(s) of the other files left out); name the directory to check all of it",
		strings.Join(named, ", "), Safe(dir), others, hidden)
}

// Size caps of the files Check reads itself (Terraform files are read by
// the terraform package, with its own). A template is read whole and at
// most cloudformation.MaxTemplateBytes; a plan JSON of a large
// configuration is much bigger than any template, but bounded too.
const maxPlanBytes = 256 << 20

// kind is what a JSON or YAML file holds, as far as Check reads it.
type kind int

const (
	notIaC   kind = iota // neither a plan nor a template
	plan                 // Terraform plan JSON
	template             // a CloudFormation template (SAM, CDK output)
	tooLarge             // over the template cap, and looks like IaC
	broken               // does not parse, and looks like IaC
)

// detect tells what b holds. A file that does not parse, or that is too
// large to be read, but carries the marks of a plan or a template (or
// that the user named) is taken for one, so that the reader reports why
// it cannot be read rather than the file being skipped: it may hold a
// trail.
func detect(file string, b []byte, explicit bool) kind {
	switch {
	case strings.HasSuffix(file, ".json") && terraform.IsPlan(b):
		return plan
	case len(b) > cloudformation.MaxTemplateBytes:
		if looksLikeIaC(b) || explicit {
			return tooLarge
		}
		return notIaC
	case cloudformation.IsTemplate(b):
		return template
	case looksLikeIaC(b) && !cloudformation.Parses(b):
		if strings.HasSuffix(file, ".json") && bytes.Contains(b, []byte(`"format_version"`)) {
			return plan // the plan reader names the line of the JSON error
		}
		return broken
	}
	return notIaC
}

// iacMarkers are words only plans and templates (and Terraform) hold.
var iacMarkers = regexp.MustCompile(`AWS::CloudTrail::Trail|AWSTemplateFormatVersion|"format_version"|aws_cloudtrail`)

func looksLikeIaC(b []byte) bool { return iacMarkers.Match(b) }

// checkFile reads and judges one JSON or YAML file: a plan, a template, or
// (quietly, unless the user named it) neither. A file that is not regular
// is skipped with a note; one over its size cap is an ERROR.
func checkFile(ctx context.Context, file string, explicit bool, cfnOpts cloudformation.Options, opts trailguard.Options) checked {
	limit := int64(cloudformation.MaxTemplateBytes)
	if strings.HasSuffix(file, ".json") {
		limit = maxPlanBytes
	}
	b, note, err := readRegular(file, limit)
	if note != "" {
		return checked{done: true, note: note}
	}
	if err != nil {
		return checked{done: true, results: []trailguard.Result{fileError(err)}}
	}
	var ts []trailguard.IaCTrail
	var unread []trailguard.Result
	var params []string
	k := detect(file, b, explicit)
	switch k {
	case plan:
		ts, err = terraform.ReadPlan(file, b)
	case tooLarge:
		_, err = cloudformation.Read(ctx, file, b, cfnOpts) // says the file is too large
	case template:
		var tp *cloudformation.Template
		if tp, err = cloudformation.Read(ctx, file, b, cfnOpts); err == nil {
			ts, unread, params = tp.Trails, tp.Unread, tp.Parameters
		}
	case broken:
		// Broken, and probably a template or plan: say so rather than
		// skip what may hold a trail.
		if _, err = cloudformation.Read(ctx, file, b, cfnOpts); err == nil {
			err = trailguard.ErrorAt(file, 0, "not a template or plan this tool can read")
		}
	}
	if err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return checked{} // stopped: not checked
	}
	out := checked{done: true, results: append(evaluateAll(ts, opts), unread...), trails: len(ts), params: params}
	if err != nil {
		out.results = append(out.results, fileError(err))
	}
	if k == notIaC && explicit {
		out.note = Safe(file) + ": not a Terraform plan or CloudFormation template; nothing checked in it"
	}
	return out
}

// readRegular reads a file of at most limit bytes. A file that is not
// regular (a FIFO, a device, a symlink to one) is not opened for reading
// content: note says why it was skipped. Reading a FIFO blocks and a
// device such as /dev/zero never ends, so the mode is checked before the
// open and again on the open file (non-blocking, in case it was swapped),
// and the read itself is bounded by an io.LimitReader.
func readRegular(file string, limit int64) (b []byte, note string, err error) {
	b, err = safefile.Read(file, limit)
	var notRegular *safefile.NotRegularError
	var tooLarge *safefile.TooLargeError
	switch {
	case errors.As(err, &notRegular):
		return nil, skippedNote(file, notRegular.Mode), nil
	case errors.As(err, &tooLarge) && tooLarge.Size >= 0:
		return nil, "", trailguard.ErrorAt(file, 0, "%d bytes, more than the %d-byte limit of this kind of file", tooLarge.Size, limit)
	case errors.As(err, &tooLarge):
		return nil, "", trailguard.ErrorAt(file, 0, "more than the %d-byte limit of this kind of file", limit)
	case err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, fs.ErrPermission):
		return nil, "", trailguard.ErrorAt(file, 0, "%w", err)
	}
	return b, "", err
}

func skippedNote(file string, mode fs.FileMode) string {
	return fmt.Sprintf("skipped %s: %s, not read", Safe(file), safefile.Kind(mode))
}

// fileError is the ERROR result of a file that could not be read, placed
// where the error says: a trailguard.PositionError carries its file and
// line, an error of the file system its path.
func fileError(err error) trailguard.Result {
	r := trailguard.Result{Status: trailguard.StatusError, Resource: "(file)", Reasons: []string{err.Error()}}
	var pe *trailguard.PositionError
	var pathErr *fs.PathError
	switch {
	case errors.As(err, &pe):
		r.File, r.Line = pe.Pos.File, max(pe.Pos.Line, 1)
		at := pe.Pos
		at.Line = r.Line
		r.Decided = &at
	case errors.As(err, &pathErr):
		r.File, r.Line = pathErr.Path, 1
	}
	if r.File == "" {
		r.File = "(unknown file)"
	}
	return r
}
