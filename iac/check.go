// Package iac checks CloudTrail trails declared in infrastructure code
// before it is deployed: it walks files and directories, tells Terraform
// module directories, plan JSON and CloudFormation templates apart, reads
// each with its reader (package terraform, package cloudformation) on a
// pool of workers, and judges every trail with the one evaluator
// (trailguard.EvaluateIaC). A command line, a CI step or a Lambda calls
// Check and renders the Outcome as it likes.
//
// The files are outside input: each is read under a size cap and only if
// it is a regular file, each reader has its own depth and expansion
// limits, and a breach is an ERROR for that file while the others are
// still checked. A part of the code that is not read (a module directory
// holding a FIFO, a registry module) is an UNKNOWN result naming it. Check
// observes its context: the walk, the queue of files and the template
// reader stop, and what finished is returned marked partial, so that an
// interrupted run never looks complete.
package iac

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strings"

	"github.com/trailguard/trailguard"
	"github.com/trailguard/trailguard/cloudformation"
	"github.com/trailguard/trailguard/terraform"
)

// Options are what Check reads the code with and judges it by.
type Options struct {
	Terraform      terraform.Options
	CloudFormation cloudformation.Options
	Eval           trailguard.Options
	// RequireTrail makes code that declares no trail at all a FAIL
	// rather than a MUTED result.
	RequireTrail bool
}

// Outcome is what checking the paths gave.
type Outcome struct {
	// Results are the trails judged, the files that could not be read
	// (ERROR) and the parts that were not read (UNKNOWN); when the run
	// was complete and no trail was found, one result that says so.
	Results []trailguard.Result
	// Trails counts the trail resources declared.
	Trails int
	// Notices are what the reader should know that are not results: a
	// file skipped because it is not regular, a --cfn-param no template
	// declares. Names from the walked tree in them are escaped (Safe).
	Notices []string
	// Partial, when not empty, says why the run is incomplete (the
	// context ended) and what was not checked.
	Partial string
	// NoTrail, when not empty, says that the complete run found no trail.
	NoTrail string
}

// Check walks the paths and checks every trail it finds. A path that does
// not exist is an error (a usage error, unless ctx ended first); anything
// else wrong with a file is a result.
func Check(ctx context.Context, paths []string, o Options) (Outcome, error) {
	if len(paths) == 0 {
		return Outcome{}, errors.New("no path to check")
	}
	found, err := collect(ctx, paths)
	if err != nil && ctx.Err() == nil {
		return Outcome{}, err
	}
	// Modules and files are read in parallel, each into its own slot, so
	// the order of the results does not depend on scheduling. A slot is
	// done only when its reader finished: one stopped by the context is
	// not checked. Once ctx ends, the results that arrived are returned
	// at once: a reader that does not watch the context (the Terraform
	// reader) is left behind rather than waited for.
	jobs := len(found.modules) + len(found.files)
	slots := make([]checked, jobs)
	type done struct {
		i int
		c checked
	}
	finished := make(chan done, jobs) // never blocks a worker left behind
	work := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		go func() {
			for i := range work {
				if ctx.Err() != nil {
					finished <- done{i, checked{}}
					continue
				}
				if i < len(found.modules) {
					dir := found.modules[i]
					finished <- done{i, checkModule(dir, found.scope[dir], o.Terraform, o.Eval)}
				} else {
					file := found.files[i-len(found.modules)]
					finished <- done{i, checkFile(ctx, file, found.explicit[file], o.CloudFormation, o.Eval)}
				}
			}
		}()
	}
	go func() {
		defer close(work)
		for i := range jobs {
			select {
			case work <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
collect:
	for range jobs {
		select {
		case r := <-finished:
			slots[r.i] = r.c
		case <-ctx.Done():
			break collect
		}
	}
	for drained := false; !drained; {
		select {
		case r := <-finished:
			slots[r.i] = r.c
		default:
			drained = true
		}
	}
	out := Outcome{Results: found.results}
	var notices, notChecked []string
	declared := map[string]bool{}
	for i, s := range slots {
		if !s.done {
			if i < len(found.modules) {
				notChecked = append(notChecked, found.modules[i])
			} else {
				notChecked = append(notChecked, found.files[i-len(found.modules)])
			}
			continue
		}
		out.Results = append(out.Results, s.results...)
		out.Trails += s.trails
		for _, p := range s.params {
			declared[p] = true
		}
		if s.note != "" {
			notices = append(notices, s.note)
		}
	}
	out.Notices = append(found.notes, notices...)
	if ctx.Err() == nil {
		// A parameter given for nothing is most likely a typo, and the
		// value the user meant was not applied: say so.
		keys := make([]string, 0, len(o.CloudFormation.Params))
		for k := range o.CloudFormation.Params {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if !declared[k] && !strings.HasPrefix(k, "AWS::") {
				out.Notices = append(out.Notices, fmt.Sprintf("--cfn-param %s: no CloudFormation template checked declares this parameter", Safe(k)))
			}
		}
	}
	if ctx.Err() != nil && (len(notChecked) > 0 || !found.walkDone) {
		out.Partial = interruptedReason(ctx, found.walkDone, notChecked, jobs)
	} else if out.Trails == 0 {
		out.NoTrail = noTrailMessage(paths)
		out.Results = append(out.Results, noTrailResult(paths, o.RequireTrail))
	}
	return out, nil
}

// interruptedReason says how much of the run was left undone.
func interruptedReason(ctx context.Context, walkDone bool, notChecked []string, jobs int) string {
	why := "interrupted"
	if errors.Is(context.Cause(ctx), context.DeadlineExceeded) {
		why = "out of time"
	}
	msg := fmt.Sprintf("%s: %d of %d files and module directories found were not checked", why, len(notChecked), jobs)
	if len(notChecked) > 0 {
		shown := make([]string, 0, 5)
		for _, p := range notChecked[:min(len(notChecked), 5)] {
			shown = append(shown, Safe(p))
		}
		msg += " (" + strings.Join(shown, ", ")
		if n := len(notChecked) - 5; n > 0 {
			msg += fmt.Sprintf(" and %d more", n)
		}
		msg += ")"
	}
	if !walkDone {
		msg += "; the paths were not all walked"
	}
	return msg
}

func noTrailMessage(paths []string) string {
	shown := make([]string, len(paths))
	for i, p := range paths {
		shown[i] = Safe(p)
	}
	return "no CloudTrail trail found in " + strings.Join(shown, ", ")
}

// noTrailResult says that the code checked declares no trail: a result,
// so that every format shows it. It is a FAIL with RequireTrail (code
// meant to provide the account's trail that has none), otherwise MUTED:
// most code is not meant to declare a trail, and exit code 0 stays.
func noTrailResult(paths []string, require bool) trailguard.Result {
	r := trailguard.Result{Status: trailguard.StatusFail, File: paths[0], Resource: "(no trail)",
		Reasons: []string{noTrailMessage(paths)}}
	if !require {
		r.Mute(noTrailMessage(paths) + "; none is required here (--require-trail makes this a FAIL)")
	}
	return r
}

func evaluateAll(ts []trailguard.IaCTrail, opts trailguard.Options) []trailguard.Result {
	out := make([]trailguard.Result, 0, len(ts))
	for _, t := range ts {
		out = append(out, trailguard.EvaluateIaC(t, opts))
	}
	return out
}
