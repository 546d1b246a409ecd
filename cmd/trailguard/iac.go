package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/trailguard/trailguard"
	"github.com/trailguard/trailguard/cloudformation"
	"github.com/trailguard/trailguard/iac"
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
'trailguard:ignore cis-aws-3.1 <reason>' on or above a resource (in .tf.json,
the resource's "//" property) mutes it.

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
	fl.StringVar(&f.out.sarifBase, "sarif-base", "", "directory SARIF file URIs are relative to (`DIR`; default: the git repository root of the first path, else the working directory)")
	fl.BoolVar(&f.requireTrail, "require-trail", false, "fail (exit 1) when the paths declare no CloudTrail trail at all")
	return cmd
}

// runIaC checks the paths with iac.Check and prints the outcome: the
// report, and on standard error the notices, an interruption and code
// that declares no trail. It observes ctx (cancelled on Ctrl-C and
// SIGTERM): what finished is reported marked partial (exit code 2), so an
// interrupted run never looks complete. A path that does not exist is a
// usage error.
func runIaC(ctx context.Context, stdout, stderr io.Writer, paths []string, f iacFlags) error {
	if err := f.out.validate(); err != nil {
		return err
	}
	o := iac.Options{
		Terraform:      terraform.Options{Vars: map[string]string{}, VarFiles: f.varFiles, Workspace: f.workspace},
		CloudFormation: cloudformation.Options{Params: map[string]string{}},
		Eval:           trailguard.Options{Strict: f.out.strict},
		RequireTrail:   f.requireTrail,
	}
	for _, v := range f.vars {
		k, val, ok := strings.Cut(v, "=")
		if !ok || k == "" {
			return usageErr("--var %q: want NAME=VALUE", v)
		}
		o.Terraform.Vars[k] = val
	}
	for _, p := range f.cfnParams {
		k, val, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return usageErr("--cfn-param %q: want KEY=VALUE", p)
		}
		o.CloudFormation.Params[k] = val
	}
	if f.out.sarifBase == "" {
		// Code scanning maps only URIs relative to the repository root.
		root, err := iac.RepositoryRoot(paths[0])
		if err != nil {
			return usageErr("SARIF base: %v", err)
		}
		f.out.sarifBase = root
	} else if info, err := os.Stat(f.out.sarifBase); err != nil || !info.IsDir() {
		return usageErr("--sarif-base %s: not a directory", f.out.sarifBase)
	}
	started := time.Now()
	out, err := iac.Check(ctx, paths, o)
	if err != nil {
		return usageErr("%v", err)
	}
	rep := report.New(toolVersion(), report.Scan{Source: "iac:" + strings.Join(paths, ","), Strict: f.out.strict,
		StartedAt: started.UTC(), DurationMS: time.Since(started).Milliseconds()}, out.Results, nil)
	if out.Partial != "" {
		rep.Partial = &report.Partial{Reason: out.Partial, NotScanned: []string{}}
		fmt.Fprintln(stderr, "trailguard: interrupted: reporting the files checked so far")
	}
	rep.Notices = append(rep.Notices, out.Notices...)
	for _, n := range out.Notices {
		fmt.Fprintln(stderr, "trailguard:", n)
	}
	if out.NoTrail != "" {
		fmt.Fprintln(stderr, "trailguard:", out.NoTrail)
	}
	f.out.applyMutes(stderr, rep)
	if out.Partial == "" {
		rep.Summary.TrailsFound = &out.Trails
	}
	f.out.stderr = stderr
	return f.out.write(stdout, rep)
}
