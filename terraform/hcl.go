package terraform

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"

	"github.com/trailguard/trailguard"
	"github.com/trailguard/trailguard/internal/ignore"
)

// Options are the values a root module is read with, as terraform plan
// takes them: -var NAME=VALUE and -var-file FILE, after TF_VAR_
// environment variables, terraform.tfvars and *.auto.tfvars of the
// module's directory. Var files are applied before vars (terraform plan
// applies both in command-line order).
type Options struct {
	Vars     map[string]string
	VarFiles []string
	// Workspace is terraform.workspace. Terraform knows it only when it
	// runs (terraform workspace select, TF_WORKSPACE), so without it
	// terraform.workspace is unknown rather than "default".
	Workspace string
}

// Module is what reading a root module found: the trails, the parts that
// were not read (each an UNKNOWN result naming it: a registry, git or
// missing module, a file that is not a regular file, an expansion beyond
// the reader's limits), and the files that could not be read (errors
// naming file and line).
type Module struct {
	Trails []trailguard.IaCTrail
	Unread []trailguard.Result
	Errs   []error
}

// maxModuleDepth bounds local module nesting (and cycles).
const maxModuleDepth = 16

var rootSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
	{Type: "variable", LabelNames: []string{"name"}},
	{Type: "locals"},
	{Type: "resource", LabelNames: []string{"type", "name"}},
	{Type: "module", LabelNames: []string{"name"}},
}}

var variableSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "type"}, {Name: "default"}, {Name: "nullable"}}}

var metaSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "count"}, {Name: "for_each"}, {Name: "source"}}}

// blockSchema is the part of the aws_cloudtrail schema (AWS provider) the
// control depends on.
type blockSchema struct {
	attrs  []string
	blocks map[string]*blockSchema
}

var trailSchema = &blockSchema{
	attrs: []string{"name", "s3_bucket_name", "s3_key_prefix", "kms_key_id", "is_multi_region_trail", "enable_logging",
		"is_organization_trail", "include_global_service_events", "enable_log_file_validation"},
	blocks: map[string]*blockSchema{
		"event_selector": {
			attrs:  []string{"read_write_type", "include_management_events", "exclude_management_event_sources"},
			blocks: map[string]*blockSchema{"data_resource": {attrs: []string{"type", "values"}}},
		},
		"advanced_event_selector": {
			attrs: []string{"name"},
			blocks: map[string]*blockSchema{"field_selector": {attrs: []string{
				"field", "equals", "not_equals", "starts_with", "not_starts_with", "ends_with", "not_ends_with"}}},
		},
	},
}

func (s *blockSchema) hcl() *hcl.BodySchema {
	out := &hcl.BodySchema{}
	for _, a := range s.attrs {
		out.Attributes = append(out.Attributes, hcl.AttributeSchema{Name: a})
	}
	types := make([]string, 0, len(s.blocks))
	for t := range s.blocks {
		types = append(types, t)
	}
	sort.Strings(types)
	for _, t := range types {
		out.Blocks = append(out.Blocks, hcl.BlockHeaderSchema{Type: t})
	}
	return out
}

// functions are the Terraform functions a trail's settings plausibly use,
// from cty's standard library (the same implementations Terraform uses).
// Any other function makes the value that calls it unknown. None reads a
// file or the environment.
var functions = map[string]function.Function{
	"lower": stdlib.LowerFunc, "upper": stdlib.UpperFunc, "format": stdlib.FormatFunc, "join": stdlib.JoinFunc,
	"concat": stdlib.ConcatFunc, "contains": stdlib.ContainsFunc, "length": stdlib.LengthFunc, "coalesce": stdlib.CoalesceFunc,
	"trimspace": stdlib.TrimSpaceFunc, "replace": stdlib.ReplaceFunc, "merge": stdlib.MergeFunc, "lookup": stdlib.LookupFunc,
	"element": stdlib.ElementFunc, "keys": stdlib.KeysFunc, "split": stdlib.SplitFunc, "flatten": stdlib.FlattenFunc,
	"distinct": stdlib.DistinctFunc, "tostring": stdlib.MakeToFunc(cty.String), "tobool": stdlib.MakeToFunc(cty.Bool),
	"tonumber": stdlib.MakeToFunc(cty.Number), "tolist": stdlib.MakeToFunc(cty.List(cty.DynamicPseudoType)),
	"toset": stdlib.MakeToFunc(cty.Set(cty.DynamicPseudoType)), "try": tryfunc.TryFunc, "can": tryfunc.CanFunc,
}

// reader reads one root module and the local modules it calls.
type reader struct {
	parser   *hclparse.Parser
	opts     Options
	mod      Module
	configs  map[string]*config
	comments map[string][]ignore.Comment // by file, for trailguard:ignore
	// jsonComments are the "//" comment properties of the aws_cloudtrail
	// resources of each .tf.json file, by resource name.
	jsonComments map[string]map[string][]string
	expanded     int
	overflow     bool
	budget       *evalBudget
	functions    map[string]function.Function
	root         string // the root module's directory: path.root
	bytes        int    // read so far, against maxModuleBytes
}

// newReader is a reader with its own evaluation budget and functions.
func newReader(o Options) *reader {
	r := &reader{parser: hclparse.NewParser(), opts: o, configs: map[string]*config{}, comments: map[string][]ignore.Comment{},
		jsonComments: map[string]map[string][]string{},
		budget:       &evalBudget{left: maxEvalSteps}, functions: map[string]function.Function{}}
	for name, f := range functions {
		switch name {
		case "try", "can": // they take expressions, not values
			r.functions[name] = f
		default:
			r.functions[name] = guarded(name, f, r.budget)
		}
	}
	return r
}

// Read reads the Terraform root module in dir (its *.tf and *.tf.json
// files, override files merged last) and the local modules it calls. A
// file that does not parse, or that breaches the reader's limits, is an
// error naming file and line; the others are still read. Module.Unread
// holds ready UNKNOWN results for what was not read: a caller reports
// them as they are, next to the results of Module.Trails.
func Read(dir string, o Options) Module {
	r := newReader(o)
	r.root = dir
	inputs := r.rootInputs(dir, o)
	r.load(dir, inputs, "", 0, map[string]bool{}, existence{})
	if h := r.budget.hit; h != nil {
		if h.Filename == "" { // spent by a function call, which has no place
			h = &hcl.Range{Filename: dir, Start: hcl.Pos{Line: 1}}
		}
		r.unread(h.Filename, h.Start.Line, "(evaluation)", fmt.Sprintf("evaluating the configuration takes more than the %d steps this reader allows; values past the limit, from %s:%d on, are unknown", maxEvalSteps, h.Filename, h.Start.Line))
	}
	sort.SliceStable(r.mod.Trails, func(i, j int) bool {
		a, b := r.mod.Trails[i], r.mod.Trails[j]
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line // instances keep their order
	})
	return r.mod
}

// ReadModule is Read for callers that take trails and errors only: a part
// that was not read is returned as an error naming it (never dropped).
func ReadModule(dir string, o Options) ([]trailguard.IaCTrail, []error) {
	m := Read(dir, o)
	errs := m.Errs
	for _, u := range m.Unread {
		errs = append(errs, trailguard.ErrorAt(u.File, u.Line, "%s %s", u.Resource, strings.Join(u.Reasons, "; ")))
	}
	return m.Trails, errs
}

// ModuleCalls returns the directories the module in dir calls as local
// modules, so that a walk does not read them again as root modules.
func ModuleCalls(dir string) []string {
	r := newReader(Options{})
	var out []string
	for _, m := range r.config(dir).modules {
		content, _, _ := m.body.PartialContent(metaSchema)
		if src, ok := content.Attributes["source"]; ok {
			if v, d := src.Expr.Value(nil); !d.HasErrors() && v.Type() == cty.String && v.IsKnown() && !v.IsNull() && isLocal(v.AsString()) {
				out = append(out, filepath.Clean(filepath.Join(dir, v.AsString())))
			}
		}
	}
	return out
}

func isLocal(src string) bool { return strings.HasPrefix(src, "./") || strings.HasPrefix(src, "../") }

// isTerraformFile reports whether Terraform reads the file as part of
// its module: *.tf and *.tf.json, except the names it ignores (a leading
// dot, as editors and tools leave them).
func isTerraformFile(name string) bool {
	if strings.HasPrefix(name, ".") {
		return false
	}
	return strings.HasSuffix(name, ".tf") || strings.HasSuffix(name, ".tf.json")
}

func (r *reader) unread(file string, line int, resource, why string) {
	r.mod.Unread = append(r.mod.Unread, trailguard.UnreadResult(file, line, resource, why))
}

// rangePos is where an HCL range starts.
func rangePos(r hcl.Range) trailguard.Position {
	return trailguard.Position{File: r.Filename, Line: r.Start.Line, Column: r.Start.Column}
}

// diagErr turns HCL diagnostics into one error at the place of the first
// error, or in file when the diagnostic has no place.
func diagErr(file string, diags hcl.Diagnostics) error {
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		pos := trailguard.Position{File: file}
		if d.Subject != nil {
			pos = rangePos(*d.Subject)
		}
		return &trailguard.PositionError{Pos: pos, Err: fmt.Errorf("%s: %s", d.Summary, d.Detail)}
	}
	return nil
}

// diagText is the first error of diagnostics, with its place when it has
// one, for a reason.
func diagText(diags hcl.Diagnostics) string {
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		if d.Subject != nil {
			return diagErr("", hcl.Diagnostics{d}).Error()
		}
		return fmt.Sprintf("%s: %s", d.Summary, d.Detail)
	}
	return "invalid"
}
