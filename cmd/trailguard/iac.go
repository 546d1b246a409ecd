package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/trailguard/trailguard"
	"github.com/trailguard/trailguard/cloudformation"
	"github.com/trailguard/trailguard/report"
	"github.com/trailguard/trailguard/terraform"
)

type iacFlags struct {
	out       outputFlags
	vars      []string
	varFiles  []string
	cfnParams []string
	// requireTrail makes code that declares no trail a FAIL.
	requireTrail bool
	// workspace is terraform.workspace; unknown when not given.
	workspace string
}

func newIaCCmd() *cobra.Command {
	var f iacFlags
	cmd := &cobra.Command{
		Use:   "iac PATH...",
		Short: "Check CloudTrail trails in Terraform, plan JSON and CloudFormation before they are deployed",
		Long: `iac walks files and directories and checks every CloudTrail trail it finds
against CIS 3.1, with the same rules as a live scan:

  Terraform       aws_cloudtrail in *.tf / *.tf.json, with variables (defaults,
                  terraform.tfvars, *.auto.tfvars, --var-file, --var), locals,
                  functions, conditionals, count, for_each, local modules and
                  dynamic blocks; directories called as local modules are read
                  through their callers
  plan JSON       terraform show -json PLANFILE > plan.json
  CloudFormation  AWS::CloudTrail::Trail in YAML or JSON templates, SAM, and
                  CDK synth output (cdk.out/*.template.json)

A value that cannot be resolved statically makes the trail UNKNOWN, naming the
expression, unless the trail fails (or passes) whatever it is. Whether a trail
is created at all is such a value: a count, for_each or CloudFormation
Condition that cannot be known is UNKNOWN, one that is false is FAIL. In
CloudFormation, pseudo parameters (AWS::AccountId, AWS::Region, ... unless
given with --cfn-param), Systems Manager parameter types, {{resolve:...}},
Fn::GetAtt and Fn::ImportValue are unknown; a nested stack, a registry module
or a macro that may add a trail is an UNKNOWN result naming it. A
configuration AWS rejects is FAIL. A comment
'trailguard:ignore cis-aws-3.1 <reason>' on or above a resource mutes it.

A file that does not parse, is too large (templates: 4 MiB), nests too deep,
expands YAML aliases too far or repeats a key is an ERROR naming file and
line; the rest is still checked. A file that is not regular (a FIFO, a
device, a symlink to one) is skipped with a note. .terraform/ directories are
skipped. When the paths declare no trail at all, the report says so (MUTED,
or FAIL with --require-trail). Ctrl-C or SIGTERM stops the walk and the
readers and prints what was checked, marked partial (exit code 2).

Exit codes: 0 all PASS or MUTED, 1 a FAIL, 2 UNKNOWN, ERROR, a partial run or
a usage error.`,
		Example: `  trailguard iac .
  trailguard iac infra/ --var-file prod.tfvars --format sarif -o trailguard.sarif
  terraform show -json plan.out > plan.json && trailguard iac plan.json
  trailguard iac template.yaml --cfn-param Env=prod --format junit -o junit.xml`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runIaC(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), args, f)
		},
	}
	f.out.register(cmd.Flags())
	fl := cmd.Flags()
	fl.StringArrayVar(&f.vars, "var", nil, "Terraform input variable `NAME=VALUE` for root modules (repeatable)")
	fl.StringArrayVar(&f.varFiles, "var-file", nil, "Terraform variable definitions `FILE` for root modules (repeatable)")
	fl.StringVar(&f.workspace, "workspace", "", "Terraform workspace `NAME` for terraform.workspace (unknown without it)")
	fl.StringArrayVar(&f.cfnParams, "cfn-param", nil, "CloudFormation parameter `KEY=VALUE`, over the template's default (repeatable)")
	fl.BoolVar(&f.requireTrail, "require-trail", false, "fail (exit 1) when the paths declare no CloudTrail trail at all")
	return cmd
}

// runIaC checks the paths. The files are outside input: each is read
// under a size cap and only if it is a regular file (readRegular), each
// reader has its own depth and expansion limits, and a breach is an ERROR
// for that file while the others are still checked. What the user asked
// for and is not there is reported: a path that does not exist (usage
// error), code with no trail at all, a --cfn-param no template declares.
// It observes ctx (cancelled on Ctrl-C and SIGTERM): the walk, the queue
// of files and the template reader stop, and what finished is reported
// marked partial (exit code 2), so an interrupted run never looks
// complete.
func runIaC(ctx context.Context, stdout, stderr io.Writer, paths []string, f iacFlags) error {
	if err := f.out.validate(); err != nil {
		return err
	}
	tfOpts := terraform.Options{Vars: map[string]string{}, VarFiles: f.varFiles, Workspace: f.workspace}
	for _, v := range f.vars {
		k, val, ok := strings.Cut(v, "=")
		if !ok || k == "" {
			return usageErr("--var %q: want NAME=VALUE", v)
		}
		tfOpts.Vars[k] = val
	}
	cfnOpts := cloudformation.Options{Params: map[string]string{}}
	for _, p := range f.cfnParams {
		k, val, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return usageErr("--cfn-param %q: want KEY=VALUE", p)
		}
		cfnOpts.Params[k] = val
	}
	started := time.Now()
	found, err := collectIaC(ctx, paths)
	if err != nil && ctx.Err() == nil {
		return usageErr("%v", err)
	}
	opts := trailguard.Options{Strict: f.out.strict}
	// Modules and files are read in parallel, each into its own slot, so
	// the report's order does not depend on scheduling. A slot is done only
	// when its reader finished: one stopped by the context is not checked.
	// Once ctx ends, the results that arrived are reported at once: a
	// reader that does not watch the context (the Terraform reader) is
	// left behind rather than waited for.
	jobs := len(found.modules) + len(found.files)
	slots := make([]iacChecked, jobs)
	type checked struct {
		i int
		c iacChecked
	}
	finished := make(chan checked, jobs) // never blocks a worker left behind
	work := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		go func() {
			for i := range work {
				if ctx.Err() != nil {
					finished <- checked{i, iacChecked{}}
					continue
				}
				if i < len(found.modules) {
					finished <- checked{i, checkModule(found.modules[i], tfOpts, opts)}
				} else {
					file := found.files[i-len(found.modules)]
					finished <- checked{i, checkFile(ctx, file, found.explicit[file], cfnOpts, opts)}
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
	results := found.results
	var notices, notChecked []string
	trails := 0
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
		results = append(results, s.results...)
		trails += s.trails
		for _, p := range s.params {
			declared[p] = true
		}
		if s.note != "" {
			notices = append(notices, s.note)
		}
	}
	notices = append(found.notes, notices...)
	if ctx.Err() == nil {
		// A parameter given for nothing is most likely a typo, and the
		// value the user meant was not applied: say so.
		for _, k := range sortedKeys(cfnOpts.Params) {
			if !declared[k] && !strings.HasPrefix(k, "AWS::") {
				notices = append(notices, fmt.Sprintf("--cfn-param %s: no CloudFormation template checked declares this parameter", safe(k)))
			}
		}
	}
	var partial *report.Partial
	if ctx.Err() != nil && (len(notChecked) > 0 || !found.walkDone) {
		partial = &report.Partial{Reason: interruptedReason(ctx, found.walkDone, notChecked, jobs), NotScanned: []string{}}
		fmt.Fprintln(stderr, "trailguard: interrupted: reporting the files checked so far")
	} else if trails == 0 {
		results = append(results, noTrailResult(paths, f.requireTrail))
	}
	rep := report.New(toolVersion(), report.Scan{Source: "iac:" + strings.Join(paths, ","), Strict: f.out.strict,
		StartedAt: started.UTC(), DurationMS: time.Since(started).Milliseconds()}, results, nil)
	rep.Partial = partial
	rep.Notices = append(rep.Notices, notices...)
	for _, n := range notices {
		fmt.Fprintln(stderr, "trailguard:", n)
	}
	if partial == nil && trails == 0 {
		fmt.Fprintln(stderr, "trailguard:", noTrailMessage(paths))
	}
	f.out.applyMutes(stderr, rep)
	if partial == nil {
		rep.Summary.TrailsFound = &trails
	}
	return f.out.write(stdout, rep)
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
			shown = append(shown, safe(p))
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
		shown[i] = safe(p)
	}
	return "no CloudTrail trail found in " + strings.Join(shown, ", ")
}

// noTrailResult says that the code checked declares no trail: a result,
// so that every format shows it. It is a FAIL with --require-trail (code
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

// iacChecked is what checking one module or file gave.
type iacChecked struct {
	done    bool // the reader finished (not stopped by the context)
	results []trailguard.Result
	trails  int      // trail resources declared
	note    string   // why a file was skipped
	params  []string // CloudFormation parameters declared
}

// checkModule reads and judges one Terraform root module.
func checkModule(dir string, tfOpts terraform.Options, opts trailguard.Options) iacChecked {
	m := terraform.Read(dir, tfOpts)
	results := evaluateAll(m.Trails, opts)
	// A module call that was not read may declare a trail: UNKNOWN, named.
	results = append(results, m.Unread...)
	for _, e := range m.Errs {
		results = append(results, fileError(e))
	}
	return iacChecked{done: true, results: results, trails: len(m.Trails)}
}

// Size caps of the files iac reads itself (Terraform files are read by
// the terraform package, with its own). A template is read whole and at
// most cloudformation.MaxTemplateBytes; a plan JSON of a large
// configuration is much bigger than any template, but bounded too.
const maxPlanBytes = 256 << 20

// checkFile reads and judges one JSON or YAML file: a plan, a template, or
// (quietly, unless the user named it) neither. A file that is not regular
// is skipped with a note; one over its size cap is an ERROR.
func checkFile(ctx context.Context, file string, explicit bool, cfnOpts cloudformation.Options, opts trailguard.Options) iacChecked {
	limit := int64(cloudformation.MaxTemplateBytes)
	if strings.HasSuffix(file, ".json") {
		limit = maxPlanBytes
	}
	b, note, err := readRegular(file, limit)
	if note != "" {
		return iacChecked{done: true, note: note}
	}
	if err != nil {
		return iacChecked{done: true, results: []trailguard.Result{fileError(err)}}
	}
	var ts []trailguard.IaCTrail
	var unread []trailguard.Result
	var params []string
	isIaC := true
	switch {
	case strings.HasSuffix(file, ".json") && terraform.IsPlan(b):
		ts, err = terraform.ReadPlan(file, b)
	case len(b) > cloudformation.MaxTemplateBytes:
		if looksLikeIaC(b) || explicit {
			_, err = cloudformation.Read(ctx, file, b, cfnOpts) // says the file is too large
		} else {
			isIaC = false
		}
	case cloudformation.IsTemplate(b):
		var tp *cloudformation.Template
		if tp, err = cloudformation.Read(ctx, file, b, cfnOpts); err == nil {
			ts, unread, params = tp.Trails, tp.Unread, tp.Parameters
		}
	case looksLikeIaC(b) && !parses(b):
		// Broken, and probably a template or plan: say so rather than
		// skip what may hold a trail.
		if _, err = cloudformation.Read(ctx, file, b, cfnOpts); err == nil {
			err = fmt.Errorf("%s: not a template or plan this tool can read", file)
		}
	default:
		isIaC = false
	}
	if err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return iacChecked{} // stopped: not checked
	}
	out := iacChecked{done: true, results: append(evaluateAll(ts, opts), unread...), trails: len(ts), params: params}
	if err != nil {
		out.results = append(out.results, fileError(err))
	}
	if !isIaC && explicit {
		out.note = safe(file) + ": not a Terraform plan or CloudFormation template; nothing checked in it"
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
	info, err := os.Stat(file)
	if err != nil {
		return nil, "", err
	}
	if !info.Mode().IsRegular() {
		return nil, skippedNote(file, info.Mode()), nil
	}
	if info.Size() > limit {
		return nil, "", fmt.Errorf("%s: %d bytes, more than the %d-byte limit of this kind of file", file, info.Size(), limit)
	}
	f, err := os.OpenFile(file, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	if info, err = f.Stat(); err != nil {
		return nil, "", fmt.Errorf("%s: %w", file, err)
	}
	if !info.Mode().IsRegular() {
		return nil, skippedNote(file, info.Mode()), nil
	}
	b, err = io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", file, err)
	}
	if int64(len(b)) > limit {
		return nil, "", fmt.Errorf("%s: more than the %d-byte limit of this kind of file", file, limit)
	}
	return b, "", nil
}

func skippedNote(file string, mode fs.FileMode) string {
	kind := "not a regular file"
	switch {
	case mode&fs.ModeNamedPipe != 0:
		kind = "a named pipe (FIFO)"
	case mode&fs.ModeCharDevice != 0:
		kind = "a character device"
	case mode&fs.ModeDevice != 0:
		kind = "a device"
	case mode&fs.ModeSocket != 0:
		kind = "a socket"
	case mode.IsDir():
		kind = "a directory"
	}
	return fmt.Sprintf("skipped %s: %s, not read", safe(file), kind)
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

// maxTerraformFileBytes bounds a Terraform file the walk lets the
// Terraform reader open: far above hand-written or generated code, far
// below what would exhaust memory.
const maxTerraformFileBytes = 16 << 20

type iacFiles struct {
	results  []trailguard.Result // module directories not read, and why
	modules  []string            // Terraform root module directories
	files    []string            // JSON and YAML files that may be plans or templates
	explicit map[string]bool     // files named on the command line
	notes    []string            // what was skipped while walking
	walkDone bool                // every path was walked (not stopped by the context)
}

// collectIaC walks the paths. Directories holding .tf files are module
// directories; those another collected directory calls as a local module
// are read through the caller only. A file named on the command line is
// read whatever its name; a path that does not exist is an error. The
// walk stops when ctx ends, returning what it found so far and ctx's
// error.
//
// The Terraform reader opens every .tf and variable file of a module
// directory by itself, so the walk checks them first: a directory holding
// one that is not a regular file (reading a FIFO blocks, /dev/zero never
// ends) or that is over maxTerraformFileBytes is not read, nor is a
// collected directory that calls it as a local module; each is a result
// naming the file, never silence.
func collectIaC(ctx context.Context, paths []string) (iacFiles, error) {
	out := iacFiles{explicit: map[string]bool{}}
	tfDirs := map[string]bool{}
	badDirs := map[string]trailguard.Result{}
	checkTF := func(p string) {
		dir := filepath.Clean(filepath.Dir(p))
		if _, seen := badDirs[dir]; seen {
			return
		}
		info, err := os.Stat(p)
		switch {
		case err != nil:
			// A dangling link: the Terraform reader reports it.
		case !info.Mode().IsRegular():
			note := skippedNote(p, info.Mode())
			out.notes = append(out.notes, note)
			badDirs[dir] = trailguard.UnreadResult(p, 1, "module "+dir, "the module directory is not read: "+strings.TrimPrefix(note, "skipped "))
		case info.Size() > maxTerraformFileBytes:
			badDirs[dir] = fileError(fmt.Errorf("%s: %d bytes, more than the %d-byte limit of a Terraform file; the module directory %s is not read", p, info.Size(), maxTerraformFileBytes, dir))
		}
	}
	addFile := func(p string, named bool) {
		base := filepath.Base(p)
		switch {
		case strings.HasSuffix(p, ".tf") || strings.HasSuffix(p, ".tf.json"):
			tfDirs[filepath.Clean(filepath.Dir(p))] = true
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
				return err
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
				"the module directory is not read: it calls the local module "+safe(via)+", which is not read"))
			continue
		}
		out.modules = append(out.modules, dir)
	}
	sort.Slice(out.results, func(i, j int) bool { return out.results[i].File < out.results[j].File })
	sort.Strings(out.modules)
	sort.Strings(out.files)
	out.walkDone = true
	return out, nil
}

var iacMarkers = regexp.MustCompile(`AWS::CloudTrail::Trail|AWSTemplateFormatVersion|"format_version"|aws_cloudtrail`)

func looksLikeIaC(b []byte) bool { return iacMarkers.Match(b) }

func parses(b []byte) bool { return cloudformation.Parses(b) }

var errLine = regexp.MustCompile(`^(.*?):(\d+):\s*(.*)$`)

// fileError is the ERROR result of a file that could not be read, placed
// at the file and line the error names.
func fileError(err error) trailguard.Result {
	msg := err.Error()
	r := trailguard.Result{Status: trailguard.StatusError, Resource: "(file)", Reasons: []string{msg}}
	if m := errLine.FindStringSubmatch(msg); m != nil {
		r.File = m[1]
		r.Line, _ = strconv.Atoi(m[2])
	} else if i := strings.Index(msg, ": "); i > 0 {
		r.File = msg[:i]
		r.Line = 1
	}
	if r.File == "" {
		r.File = "(unknown file)"
	}
	return r
}

// safe escapes what a terminal would act on in a name that comes from the
// files walked (control characters, bidirectional overrides, invalid
// UTF-8), for the notes iac writes to standard error itself: a file
// called "\x1b[2J.yaml" is printed as such, not obeyed.
func safe(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unicode.IsControl(r), unicode.Is(unicode.Bidi_Control, r), r == '\\':
			if r < 0x80 {
				fmt.Fprintf(&b, `\x%02x`, r)
			} else {
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
