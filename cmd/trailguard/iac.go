package main

import (
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
	"sync"
	"time"

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
expression, unless the trail fails (or passes) whatever it is. A comment
'trailguard:ignore cis-aws-3.1 <reason>' on or above a resource mutes it.
A file that does not parse is an ERROR naming file and line; the rest is still
checked. .terraform/ directories are skipped.

Exit codes: 0 all PASS or MUTED, 1 a FAIL, 2 UNKNOWN, ERROR or a usage error.`,
		Example: `  trailguard iac .
  trailguard iac infra/ --var-file prod.tfvars --format sarif -o trailguard.sarif
  terraform show -json plan.out > plan.json && trailguard iac plan.json
  trailguard iac template.yaml --cfn-param Env=prod --format junit -o junit.xml`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runIaC(cmd.OutOrStdout(), cmd.ErrOrStderr(), args, f)
		},
	}
	f.out.register(cmd)
	fl := cmd.Flags()
	fl.StringArrayVar(&f.vars, "var", nil, "Terraform input variable `NAME=VALUE` for root modules (repeatable)")
	fl.StringArrayVar(&f.varFiles, "var-file", nil, "Terraform variable definitions `FILE` for root modules (repeatable)")
	fl.StringVar(&f.workspace, "workspace", "", "Terraform workspace `NAME` for terraform.workspace (unknown without it)")
	fl.StringArrayVar(&f.cfnParams, "cfn-param", nil, "CloudFormation parameter `KEY=VALUE`, over the template's default (repeatable)")
	return cmd
}

func runIaC(stdout, stderr io.Writer, paths []string, f iacFlags) error {
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
	found, err := collectIaC(paths)
	if err != nil {
		return usageErr("%v", err)
	}
	opts := trailguard.Options{Strict: f.out.strict}
	// Modules and files are read in parallel, each into its own slot, so
	// the report's order does not depend on scheduling.
	jobs := len(found.modules) + len(found.files)
	slots := make([][]trailguard.Result, jobs)
	work := make(chan int)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if i < len(found.modules) {
					slots[i] = checkModule(found.modules[i], tfOpts, opts)
				} else {
					slots[i] = checkFile(found.files[i-len(found.modules)], cfnOpts, opts)
				}
			}
		}()
	}
	for i := range jobs {
		work <- i
	}
	close(work)
	wg.Wait()
	var results []trailguard.Result
	for _, s := range slots {
		results = append(results, s...)
	}
	rep := report.New(toolVersion(), report.Scan{Source: "iac:" + strings.Join(paths, ","), Strict: f.out.strict,
		StartedAt: started.UTC(), DurationMS: time.Since(started).Milliseconds()}, results, nil)
	if len(results) == 0 {
		fmt.Fprintln(stderr, "trailguard: no CloudTrail trail found in", strings.Join(paths, ", "))
	}
	f.out.applyMutes(stderr, rep)
	return f.out.write(stdout, rep)
}

func evaluateAll(ts []trailguard.IaCTrail, opts trailguard.Options) []trailguard.Result {
	out := make([]trailguard.Result, 0, len(ts))
	for _, t := range ts {
		out = append(out, trailguard.EvaluateIaC(t, opts))
	}
	return out
}

// checkModule reads and judges one Terraform root module.
func checkModule(dir string, tfOpts terraform.Options, opts trailguard.Options) []trailguard.Result {
	ts, errs := terraform.ReadModule(dir, tfOpts)
	results := evaluateAll(ts, opts)
	for _, e := range errs {
		results = append(results, fileError(e))
	}
	return results
}

// checkFile reads and judges one JSON or YAML file: a plan, a template, or
// (quietly) neither.
func checkFile(file string, cfnOpts cloudformation.Options, opts trailguard.Options) []trailguard.Result {
	b, err := os.ReadFile(file)
	if err != nil {
		return []trailguard.Result{fileError(err)}
	}
	var ts []trailguard.IaCTrail
	switch {
	case strings.HasSuffix(file, ".json") && terraform.IsPlan(b):
		ts, err = terraform.ReadPlan(file, b)
	case cloudformation.IsTemplate(b):
		ts, err = cloudformation.Read(file, b, cfnOpts)
	case looksLikeIaC(b) && !parses(b):
		// Broken, and probably a template or plan: say so rather than
		// skip what may hold a trail.
		if _, err = cloudformation.Read(file, b, cfnOpts); err == nil {
			err = fmt.Errorf("%s: not a template or plan this tool can read", file)
		}
	}
	results := evaluateAll(ts, opts)
	if err != nil {
		results = append(results, fileError(err))
	}
	return results
}

type iacFiles struct {
	modules []string // Terraform root module directories
	files   []string // JSON and YAML files that may be plans or templates
}

// collectIaC walks the paths. Directories holding .tf files are module
// directories; those another collected directory calls as a local module
// are read through the caller only.
func collectIaC(paths []string) (iacFiles, error) {
	var out iacFiles
	tfDirs := map[string]bool{}
	addFile := func(p string) {
		switch {
		case strings.HasSuffix(p, ".tf") || strings.HasSuffix(p, ".tf.json"):
			tfDirs[filepath.Clean(filepath.Dir(p))] = true
		case strings.HasSuffix(p, ".json"), strings.HasSuffix(p, ".yaml"), strings.HasSuffix(p, ".yml"), strings.HasSuffix(p, ".template"):
			if !strings.HasSuffix(p, ".tfvars.json") {
				out.files = append(out.files, p)
			}
		}
	}
	for _, root := range paths {
		info, err := os.Stat(root)
		if err != nil {
			return out, err
		}
		if !info.IsDir() {
			addFile(root)
			continue
		}
		err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				switch d.Name() {
				case ".terraform", ".git", "node_modules":
					return filepath.SkipDir
				}
				return nil
			}
			addFile(p)
			return nil
		})
		if err != nil {
			return out, err
		}
	}
	called := map[string]bool{}
	for dir := range tfDirs {
		for _, c := range terraform.ModuleCalls(dir) {
			if c != dir {
				called[c] = true
			}
		}
	}
	for dir := range tfDirs {
		if !called[dir] {
			out.modules = append(out.modules, dir)
		}
	}
	sort.Strings(out.modules)
	sort.Strings(out.files)
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
