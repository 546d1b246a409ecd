package terraform

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/dynblock"
	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
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

// decl is a top-level block, with the override blocks merged into its body.
type decl struct {
	file  string
	block *hcl.Block
	body  hcl.Body
}

type localDecl struct {
	file string
	attr *hcl.Attribute
}

// config is one module directory, read and merged: what Terraform
// builds from its files before evaluating anything.
type config struct {
	vars      map[string]*decl
	locals    map[string]localDecl
	resources []*decl // aws_cloudtrail
	modules   []*decl
	needed    map[string]bool // see neededLocals
}

// reader reads one root module and the local modules it calls.
type reader struct {
	parser    *hclparse.Parser
	opts      Options
	mod       Module
	configs   map[string]*config
	comments  map[string][]ignore.Comment // by file, for trailguard:ignore
	expanded  int
	overflow  bool
	budget    *evalBudget
	functions map[string]function.Function
	root      string // the root module's directory: path.root
	bytes     int    // read so far, against maxModuleBytes
}

// newReader is a reader with its own evaluation budget and functions.
func newReader(o Options) *reader {
	r := &reader{parser: hclparse.NewParser(), opts: o, configs: map[string]*config{}, comments: map[string][]ignore.Comment{},
		budget: &evalBudget{left: maxEvalSteps}, functions: map[string]function.Function{}}
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

// parseFile reads and parses one file within the limits; nil when it
// could not be (the reason is recorded).
func (r *reader) parseFile(name string) *hcl.File {
	if f := r.parser.Files()[name]; f != nil {
		return f
	}
	src, err := readFile(name)
	switch {
	case errors.Is(err, errNotRegular):
		r.unread(name, 1, "(file)", err.Error()+": skipped")
		return nil
	case err != nil:
		r.mod.Errs = append(r.mod.Errs, err)
		return nil
	}
	if r.bytes += len(src); r.bytes > maxModuleBytes {
		r.mod.Errs = append(r.mod.Errs, trailguard.ErrorAt(name, 0, "not read: the files of this configuration exceed %d bytes in total", maxModuleBytes))
		return nil
	}
	json := strings.HasSuffix(name, ".json")
	if json {
		err = checkJSON(name, src, true)
	} else {
		err = checkSource(name, src)
	}
	if err != nil {
		r.mod.Errs = append(r.mod.Errs, err)
		return nil
	}
	var file *hcl.File
	var diags hcl.Diagnostics
	if json {
		file, diags = r.parser.ParseJSON(src, name)
	} else {
		file, diags = r.parser.ParseHCL(src, name)
	}
	if diags.HasErrors() {
		r.mod.Errs = append(r.mod.Errs, diagErr(diags))
		return nil
	}
	if body, ok := file.Body.(*hclsyntax.Body); ok {
		meter(body, r.budget)
	}
	if !json {
		r.comments[name] = comments(name, src)
	}
	return file
}

// config reads a module directory once: primary files in lexical order,
// then override files in lexical order merged into what they override.
func (r *reader) config(dir string) *config {
	if c, ok := r.configs[dir]; ok {
		return c
	}
	c := &config{vars: map[string]*decl{}, locals: map[string]localDecl{}}
	r.configs[dir] = c
	entries, err := os.ReadDir(dir)
	if err != nil {
		r.mod.Errs = append(r.mod.Errs, trailguard.ErrorAt(dir, 0, "%w", err))
		return c
	}
	var primary, overrides []string
	for _, e := range entries {
		if e.IsDir() || !isTerraformFile(e.Name()) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if isOverrideFile(p) {
			overrides = append(overrides, p)
		} else {
			primary = append(primary, p)
		}
	}
	sort.Strings(primary)
	sort.Strings(overrides)
	resources := map[string]*decl{}
	modules := map[string]*decl{}
	for _, name := range primary {
		content := r.content(name)
		if content == nil {
			continue
		}
		for _, b := range content.Blocks {
			d := &decl{file: name, block: b, body: b.Body}
			switch b.Type {
			case "variable":
				r.declare(c.vars, b.Labels[0], d, "variable")
			case "resource":
				if b.Labels[0] == "aws_cloudtrail" && r.declare(resources, b.Labels[1], d, "resource aws_cloudtrail") {
					c.resources = append(c.resources, d)
				}
			case "module":
				if r.declare(modules, b.Labels[0], d, "module") {
					c.modules = append(c.modules, d)
				}
			case "locals":
				attrs, _ := b.Body.JustAttributes()
				for _, a := range sortedAttrs(attrs) {
					if prev, dup := c.locals[a.Name]; dup {
						r.mod.Errs = append(r.mod.Errs, trailguard.ErrorAt(name, a.Range.Start.Line, "local.%s is also defined at %s:%d: Terraform rejects a duplicate local value", a.Name, prev.file, prev.attr.Range.Start.Line))
						continue
					}
					c.locals[a.Name] = localDecl{file: name, attr: a}
				}
			}
		}
	}
	for _, name := range overrides {
		content := r.content(name)
		if content == nil {
			continue
		}
		for _, b := range content.Blocks {
			var base *decl
			what := b.Type
			switch b.Type {
			case "variable":
				base, what = c.vars[b.Labels[0]], "variable "+b.Labels[0]
			case "resource":
				if b.Labels[0] != "aws_cloudtrail" {
					continue
				}
				base, what = resources[b.Labels[1]], "resource aws_cloudtrail."+b.Labels[1]
			case "module":
				base, what = modules[b.Labels[0]], "module "+b.Labels[0]
			case "locals":
				attrs, _ := b.Body.JustAttributes()
				for _, a := range sortedAttrs(attrs) {
					if _, ok := c.locals[a.Name]; !ok {
						r.mod.Errs = append(r.mod.Errs, trailguard.ErrorAt(name, a.Range.Start.Line, "override of local.%s, which no other file defines: Terraform rejects it", a.Name))
						continue
					}
					c.locals[a.Name] = localDecl{file: name, attr: a}
				}
				continue
			}
			if base == nil {
				r.mod.Errs = append(r.mod.Errs, trailguard.ErrorAt(name, b.DefRange.Start.Line, "override of %s, which no other file declares: Terraform rejects it", what))
				continue
			}
			base.body = mergedBody{base: base.body, override: b.Body}
		}
	}
	return c
}

func (r *reader) content(name string) *hcl.BodyContent {
	file := r.parseFile(name)
	if file == nil {
		return nil
	}
	content, _, diags := file.Body.PartialContent(rootSchema)
	if diags.HasErrors() {
		r.mod.Errs = append(r.mod.Errs, diagErr(diags))
		return nil
	}
	return content
}

// declare adds a top-level block under its name; a second one is the
// error Terraform gives, and the first one stays.
func (r *reader) declare(m map[string]*decl, name string, d *decl, what string) bool {
	if prev, dup := m[name]; dup {
		r.mod.Errs = append(r.mod.Errs, trailguard.ErrorAt(d.file, d.block.DefRange.Start.Line, "%s %q is also declared at %s:%d: Terraform rejects a duplicate", what, name, prev.file, prev.block.DefRange.Start.Line))
		return false
	}
	m[name] = d
	return true
}

func sortedAttrs(attrs hcl.Attributes) []*hcl.Attribute {
	out := make([]*hcl.Attribute, 0, len(attrs))
	for _, a := range attrs {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Range.Start.Byte != out[j].Range.Start.Byte {
			return out[i].Range.Start.Byte < out[j].Range.Start.Byte
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// rangePos is where an HCL range starts.
func rangePos(r hcl.Range) trailguard.Position {
	return trailguard.Position{File: r.Filename, Line: r.Start.Line, Column: r.Start.Column}
}

// diagErr turns HCL diagnostics into one error at the file and line of
// the first error.
func diagErr(diags hcl.Diagnostics) error {
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		if d.Subject != nil {
			return &trailguard.PositionError{Pos: rangePos(*d.Subject), Err: fmt.Errorf("%s: %s", d.Summary, d.Detail)}
		}
		return fmt.Errorf("%s: %s", d.Summary, d.Detail)
	}
	return nil
}

func diagText(diags hcl.Diagnostics) string {
	if err := diagErr(diags); err != nil {
		return err.Error()
	}
	return "invalid"
}

// input is a value given for a variable: a value (tfvars, a module
// argument) or a raw -var string that Terraform parses according to the
// variable's type.
type input struct {
	v     cty.Value
	raw   string
	isRaw bool
	src   string // where it is given, for reasons
	why   string // not empty: the value is not (wholly) known, and why
}

// rootInputs gathers the root module's variable values as Terraform does:
// TF_VAR_ environment variables, terraform.tfvars, terraform.tfvars.json, *.auto.tfvars and
// *.auto.tfvars.json in lexical order, then --var-file, then --var, later
// winning.
func (r *reader) rootInputs(dir string, o Options) map[string]input {
	inputs := map[string]input{}
	// TF_VAR_name in the environment, the lowest precedence, parsed as
	// Terraform parses it: like a -var value.
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "TF_VAR_") && len(k) > len("TF_VAR_") {
			name := strings.TrimPrefix(k, "TF_VAR_")
			inputs[name] = input{raw: v, isRaw: true, src: "environment variable " + k}
		}
	}
	files := []string{filepath.Join(dir, "terraform.tfvars"), filepath.Join(dir, "terraform.tfvars.json")}
	var autos []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !e.IsDir() && (strings.HasSuffix(e.Name(), ".auto.tfvars") || strings.HasSuffix(e.Name(), ".auto.tfvars.json")) {
			autos = append(autos, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(autos)
	files = append(files, autos...)
	for i, f := range append(files, o.VarFiles...) {
		if _, err := os.Stat(f); err != nil {
			if i >= len(files) {
				r.mod.Errs = append(r.mod.Errs, &trailguard.PositionError{Pos: trailguard.Position{File: f}, Err: fmt.Errorf("--var-file: %w", err)})
			}
			continue
		}
		file := r.parseFile(f)
		if file == nil {
			continue
		}
		attrs, diags := file.Body.JustAttributes()
		if diags.HasErrors() {
			r.mod.Errs = append(r.mod.Errs, diagErr(diags))
		}
		for _, a := range sortedAttrs(attrs) {
			src := fmt.Sprintf("%s:%d", f, a.Range.Start.Line)
			v, d := a.Expr.Value(nil)
			if d.HasErrors() {
				inputs[a.Name] = input{v: cty.DynamicVal, src: src, why: fmt.Sprintf("the value of %s at %s: %s", a.Name, src, diagText(d))}
				continue
			}
			inputs[a.Name] = input{v: v, src: src}
		}
	}
	names := make([]string, 0, len(o.Vars))
	for name := range o.Vars {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		inputs[name] = input{raw: o.Vars[name], isRaw: true, src: "--var " + name}
	}
	return inputs
}

// existence says whether what a module instance declares is created:
// absent (count = 0 on the module call), or not known.
type existence struct {
	absent, unknown string
}

func (e existence) with(absent, unknown string) existence {
	if e.absent == "" {
		e.absent = absent
	}
	e.unknown = joinWhy(e.unknown, unknown)
	return e
}

// load evaluates one module instance: its variables (from inputs or
// defaults), locals, trails and module calls. prefix is its address
// ("module.a.").
func (r *reader) load(dir string, inputs map[string]input, prefix string, depth int, visiting map[string]bool, exist existence) {
	abs, _ := filepath.Abs(dir)
	if depth > maxModuleDepth || visiting[abs] {
		r.mod.Errs = append(r.mod.Errs, trailguard.ErrorAt(dir, 0, "module calls nest deeper than %d or form a cycle; %s not read", maxModuleDepth, prefix))
		return
	}
	visiting[abs] = true
	defer delete(visiting, abs)
	c := r.config(dir)

	vars := map[string]cty.Value{}
	why := map[string]string{} // "var.x", "local.y", "terraform.workspace" → why not known
	names := make([]string, 0, len(c.vars))
	for name := range c.vars {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		in, given := inputs[name]
		v, w := r.variable(name, c.vars[name], in, given)
		vars[name] = v
		if w != "" {
			why["var."+name] = w
		}
	}
	workspace := cty.UnknownVal(cty.String)
	if r.opts.Workspace != "" {
		workspace = cty.StringVal(r.opts.Workspace)
	} else {
		why["terraform.workspace"] = "terraform.workspace is known only when Terraform runs (give --workspace)"
	}
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{
			"var":       objectOrEmpty(vars),
			"terraform": cty.ObjectVal(map[string]cty.Value{"workspace": workspace, "applying": cty.UnknownVal(cty.Bool)}),
			"path":      cty.ObjectVal(map[string]cty.Value{"module": cty.StringVal(dir), "root": cty.StringVal(r.root), "cwd": cty.StringVal(r.root)}),
		},
		Functions: r.functions,
	}
	ctx.Variables["local"] = r.locals(c, ctx, why)
	if rejected := r.validations(c, names, ctx); rejected != "" {
		exist = exist.with(rejected, "")
	}

	for _, d := range c.resources {
		addr := prefix + "aws_cloudtrail." + d.block.Labels[1]
		for _, inst := range r.instances(d, ctx, why, addr) {
			t := trailFromObject(addr+inst.key, r.object(dynblock.Expand(d.body, inst.ctx), trailSchema, inst.ctx, why, addr+inst.key))
			t.File, t.Line = d.file, d.block.DefRange.Start.Line
			t.Positions.Resource = rangePos(d.block.DefRange)
			t.Ignore = ignore.Find(r.comments[d.file], d.block.DefRange.Start.Line)
			pAbsent, pUnknown := r.preconditions(d, inst.ctx, why)
			e := exist.with(inst.absent, inst.unknown).with(pAbsent, pUnknown)
			t.Absent = e.absent
			t.UnknownExists = joinWhy(e.unknown, t.UnknownExists)
			r.mod.Trails = append(r.mod.Trails, t)
		}
	}
	for _, d := range c.modules {
		name := d.block.Labels[0]
		line := d.block.DefRange.Start.Line
		call := prefix + "module." + name
		content, _, _ := d.body.PartialContent(metaSchema)
		src, ok := content.Attributes["source"]
		if !ok {
			r.unread(d.file, line, call, "the module call has no source")
			continue
		}
		sv, diags := src.Expr.Value(nil)
		if diags.HasErrors() || sv.Type() != cty.String || sv.IsNull() || !sv.IsKnown() {
			r.unread(d.file, line, call, fmt.Sprintf("%s: its source is not a literal string (Terraform requires one)", call))
			continue
		}
		source := sv.AsString()
		child := filepath.Join(dir, source)
		insts := r.instances(d, ctx, why, call)
		switch info, err := os.Stat(child); {
		case !isLocal(source):
			if exist.absent != "" || (len(insts) == 1 && insts[0].absent != "") {
				continue // called zero times: whatever it declares is not created
			}
			r.unread(d.file, line, call, fmt.Sprintf("%s (source %q, %s:%d): a registry or remote module, which this reader does not fetch; any trail it declares is not checked", call, source, d.file, line))
			continue
		case err != nil || !info.IsDir():
			r.unread(d.file, line, call, fmt.Sprintf("%s (source %q, %s:%d): the local module directory is missing", call, source, d.file, line))
			continue
		}
		attrs, _ := d.body.JustAttributes()
		for _, inst := range insts {
			in := map[string]input{}
			for argName, a := range attrs {
				switch argName {
				case "source", "version", "count", "for_each", "providers", "depends_on":
					continue
				}
				v, dg := eval(a.Expr, inst.ctx)
				where := fmt.Sprintf("input %s of %s%s (%s:%d)", argName, call, inst.key, d.file, a.Range.Start.Line)
				switch {
				case dg.HasErrors():
					in[argName] = input{v: cty.DynamicVal, src: where, why: where + ": " + r.failed(a.Expr, dg, why)}
				case !v.IsWhollyKnown():
					in[argName] = input{v: v, src: where, why: where + " depends on " + r.explain(a.Expr, why)}
				default:
					in[argName] = input{v: v, src: where}
				}
			}
			r.load(child, in, call+inst.key+".", depth+1, visiting, exist.with(inst.absent, inst.unknown))
		}
	}
}

var validationSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "validation"}}}

// validations checks the validation rules of the module's variables with
// the values they have: a rule that is false makes Terraform stop the
// plan, so nothing in the module is created. A rule that cannot be known
// changes nothing here: the value it checks is unknown already.
func (r *reader) validations(c *config, names []string, ctx *hcl.EvalContext) string {
	for _, name := range names {
		d := c.vars[name]
		vc, _, _ := d.body.PartialContent(validationSchema)
		for _, vb := range vc.Blocks {
			cc, _, _ := vb.Body.PartialContent(conditionSchema)
			a, ok := cc.Attributes["condition"]
			if !ok {
				continue
			}
			v, diags := eval(a.Expr, ctx)
			if diags.HasErrors() || !v.IsWhollyKnown() {
				continue
			}
			if b, err := convert.Convert(v, cty.Bool); err == nil && !b.IsNull() && b.False() {
				return fmt.Sprintf("the value of var.%s fails its validation %s (%s:%d): Terraform stops the plan", name, r.exprText(a), a.Range.Filename, a.Range.Start.Line)
			}
		}
	}
	return ""
}

var lifecycleSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "lifecycle"}}}
var preconditionSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "precondition"}}}
var conditionSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "condition"}}}

// preconditions checks a resource's lifecycle preconditions: one that is
// false stops the plan, so the trail is not created; one that cannot be
// known leaves its existence unknown.
func (r *reader) preconditions(d *decl, ctx *hcl.EvalContext, why map[string]string) (absent, unknown string) {
	lc, _, _ := d.body.PartialContent(lifecycleSchema)
	var unknowns []string
	for _, l := range lc.Blocks {
		pc, _, _ := l.Body.PartialContent(preconditionSchema)
		for _, p := range pc.Blocks {
			c, _, _ := p.Body.PartialContent(conditionSchema)
			a, ok := c.Attributes["condition"]
			if !ok {
				continue
			}
			where := fmt.Sprintf("precondition %s (%s:%d)", r.exprText(a), a.Range.Filename, a.Range.Start.Line)
			v, diags := eval(a.Expr, ctx)
			if diags.HasErrors() || !v.IsWhollyKnown() {
				unknowns = append(unknowns, where+": "+r.failed(a.Expr, diags, why))
				continue
			}
			b, err := convert.Convert(v, cty.Bool)
			switch {
			case err != nil || b.IsNull():
				unknowns = append(unknowns, where+": Terraform rejects a condition that is not a bool")
			case b.False():
				return where + " is false: Terraform stops the plan", ""
			}
		}
	}
	return "", joinWhy(unknowns...)
}

// variable is the value of one variable as Terraform computes it: the
// given value (a -var string parsed as the type constraint asks: literal
// for primitive types and no type, HCL otherwise), or the default when
// none is given (or null is given to a non-nullable variable), converted
// to the type constraint with its optional attribute defaults. A value
// that Terraform would reject is unknown, with the reason.
func (r *reader) variable(name string, d *decl, in input, given bool) (cty.Value, string) {
	content, _, _ := d.body.PartialContent(variableSchema)
	at := fmt.Sprintf("%s:%d", d.file, d.block.DefRange.Start.Line)
	ty := cty.DynamicPseudoType
	var defaults *typeexpr.Defaults
	parseHCL := false
	if a, ok := content.Attributes["type"]; ok {
		switch hcl.ExprAsKeyword(a.Expr) {
		case "list":
			ty, parseHCL = cty.List(cty.DynamicPseudoType), true
		case "map":
			ty, parseHCL = cty.Map(cty.DynamicPseudoType), true
		default:
			t, defs, diags := typeexpr.TypeConstraintWithDefaults(a.Expr)
			if diags.HasErrors() {
				return cty.DynamicVal, fmt.Sprintf("var.%s (%s): its type constraint is invalid: %s", name, at, diagText(diags))
			}
			ty, defaults, parseHCL = t, defs, !t.IsPrimitiveType()
		}
	}
	nullable := true
	if a, ok := content.Attributes["nullable"]; ok {
		if v, diags := a.Expr.Value(nil); !diags.HasErrors() && v.Type() == cty.Bool && v.IsKnown() && !v.IsNull() {
			nullable = v.True()
		}
	}
	v, src, whyIn := cty.NilVal, "", ""
	if given {
		src, whyIn = in.src, in.why
		v = in.v
		if in.isRaw {
			if parseHCL {
				if err := checkSource(in.src, []byte(in.raw)); err != nil {
					return cty.UnknownVal(ty), err.Error()
				}
				expr, diags := hclsyntax.ParseExpression([]byte(in.raw), in.src, hcl.InitialPos)
				if diags.HasErrors() {
					return cty.UnknownVal(ty), fmt.Sprintf("var.%s: %s=%s: Terraform rejects it: %s", name, in.src, short(in.raw), diagText(diags))
				}
				if v, diags = expr.Value(nil); diags.HasErrors() {
					return cty.UnknownVal(ty), fmt.Sprintf("var.%s: %s=%s: Terraform rejects it: %s", name, in.src, short(in.raw), diagText(diags))
				}
			} else {
				v = cty.StringVal(in.raw)
			}
		}
	}
	if !given || (v.IsNull() && !nullable) {
		a, ok := content.Attributes["default"]
		if !ok {
			if given {
				return cty.UnknownVal(ty), fmt.Sprintf("var.%s (%s) is not nullable, has no default, and is given null by %s: Terraform rejects it", name, at, src)
			}
			return cty.UnknownVal(ty), fmt.Sprintf("var.%s has no default and no value is given (%s)", name, at)
		}
		dv, diags := a.Expr.Value(nil)
		if diags.HasErrors() {
			return cty.UnknownVal(ty), fmt.Sprintf("var.%s: its default (%s:%d) cannot be evaluated: %s", name, d.file, a.Range.Start.Line, diagText(diags))
		}
		v, src, whyIn = dv, fmt.Sprintf("its default (%s:%d)", d.file, a.Range.Start.Line), ""
	}
	if defaults != nil && v.IsWhollyKnown() {
		v = defaults.Apply(v)
	}
	if hasBigTuple(v) {
		return cty.UnknownVal(ty), fmt.Sprintf("var.%s (%s): the value from %s is %s", name, at, src, errBigTuple)
	}
	cv, err := convert.Convert(v, ty)
	if err != nil {
		return cty.UnknownVal(ty), fmt.Sprintf("var.%s (%s): the value from %s does not convert to %s, so Terraform rejects it: %s", name, at, src, typeexpr.TypeString(ty), errText(err))
	}
	if !cv.IsWhollyKnown() && whyIn == "" {
		whyIn = fmt.Sprintf("var.%s: the value from %s is not known statically", name, src)
	}
	return cv, whyIn
}

func short(s string) string {
	if r := []rune(s); len(r) > 80 {
		s = string(r[:80]) + "…"
	}
	return fmt.Sprintf("%q", s)
}

// neededLocals are the locals that the trails and module calls of the
// module refer to, directly or through other locals: only they are
// evaluated, so the cost of reading a module does not depend on values
// that cannot change a verdict.
func (c *config) neededLocals() map[string]bool {
	if c.needed != nil {
		return c.needed
	}
	c.needed = map[string]bool{}
	var walk func(trs []hcl.Traversal)
	walk = func(trs []hcl.Traversal) {
		for _, tr := range trs {
			if tr.RootName() != "local" || len(tr) < 2 {
				continue
			}
			a, ok := tr[1].(hcl.TraverseAttr)
			if !ok || c.needed[a.Name] {
				continue
			}
			l, exists := c.locals[a.Name]
			if !exists {
				continue
			}
			c.needed[a.Name] = true
			walk(l.attr.Expr.Variables())
		}
	}
	for _, d := range append(append([]*decl{}, c.resources...), c.modules...) {
		walk(bodyTraversals(d.body))
	}
	return c.needed
}

// bodyTraversals are the references in every expression of a body and
// its nested blocks (dynamic ones included).
func bodyTraversals(body hcl.Body) []hcl.Traversal {
	var out []hcl.Traversal
	switch b := body.(type) {
	case mergedBody:
		return append(bodyTraversals(b.base), bodyTraversals(b.override)...)
	case *hclsyntax.Body:
		for _, a := range b.Attributes {
			out = append(out, a.Expr.Variables()...)
		}
		for _, blk := range b.Blocks {
			out = append(out, bodyTraversals(blk.Body)...)
		}
	default:
		// JSON: every property is an attribute here, nested blocks too.
		attrs, _ := body.JustAttributes()
		for _, a := range attrs {
			out = append(out, a.Expr.Variables()...)
		}
	}
	return out
}

// locals evaluates the local values in the order their references ask
// (each once, with only the values it refers to in scope, so the cost
// grows with the references, not with the square of the locals). A cycle,
// which Terraform rejects, leaves its members unknown.
func (r *reader) locals(c *config, ctx *hcl.EvalContext, why map[string]string) cty.Value {
	deps := map[string][]string{}
	users := map[string][]string{}
	pending := map[string]int{}
	needed := c.neededLocals()
	for name, l := range c.locals {
		if !needed[name] {
			continue
		}
		seen := map[string]bool{}
		for _, tr := range l.attr.Expr.Variables() {
			if tr.RootName() != "local" || len(tr) < 2 {
				continue
			}
			a, ok := tr[1].(hcl.TraverseAttr)
			if !ok || seen[a.Name] {
				continue
			}
			seen[a.Name] = true
			deps[name] = append(deps[name], a.Name)
			if _, exists := c.locals[a.Name]; exists {
				users[a.Name] = append(users[a.Name], name)
				pending[name]++
			}
		}
	}
	var queue []string
	for name := range needed {
		if pending[name] == 0 {
			queue = append(queue, name)
		}
	}
	sort.Strings(queue)
	values := map[string]cty.Value{}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		l := c.locals[name]
		scope := map[string]cty.Value{}
		for _, dep := range deps[name] {
			if v, ok := values[dep]; ok {
				scope[dep] = v
			}
		}
		child := ctx.NewChild()
		child.Variables = map[string]cty.Value{"local": objectOrEmpty(scope)}
		v, diags := eval(l.attr.Expr, child)
		if diags.HasErrors() {
			v = cty.DynamicVal
			why["local."+name] = fmt.Sprintf("local.%s (%s:%d): %s", name, l.file, l.attr.Range.Start.Line, r.failed(l.attr.Expr, diags, why))
		}
		if weigh(v, maxValueSize) > maxValueSize {
			v = cty.DynamicVal
			why["local."+name] = fmt.Sprintf("local.%s (%s:%d) is larger than the %d this reader evaluates", name, l.file, l.attr.Range.Start.Line, maxValueSize)
		}
		values[name] = v
		if _, set := why["local."+name]; !set && !v.IsWhollyKnown() {
			why["local."+name] = fmt.Sprintf("local.%s (%s:%d) depends on %s", name, l.file, l.attr.Range.Start.Line, r.explain(l.attr.Expr, why))
		}
		for _, u := range users[name] {
			if pending[u]--; pending[u] == 0 {
				queue = append(queue, u)
			}
		}
	}
	for name := range needed {
		l := c.locals[name]
		if _, done := values[name]; !done {
			values[name] = cty.DynamicVal
			why["local."+name] = fmt.Sprintf("local.%s (%s:%d) refers to itself through other locals, which Terraform rejects", name, l.file, l.attr.Range.Start.Line)
		}
	}
	return objectOrEmpty(values)
}

func objectOrEmpty(m map[string]cty.Value) cty.Value {
	if len(m) == 0 {
		return cty.EmptyObjectVal
	}
	return cty.ObjectVal(m)
}

// instance is one count or for_each instance of a block. absent and
// unknown say whether it exists.
type instance struct {
	key             string // "", "[0]", `["a"]`, "[?]"
	ctx             *hcl.EvalContext
	absent, unknown string
}

// instances expands count and for_each as Terraform does. A count or
// for_each that cannot be known is one instance whose existence is
// unknown; zero instances (count = 0, an empty for_each) are one absent
// instance, so that the trail that is not created is reported. A value
// Terraform rejects (a negative count, a list for for_each) leaves the
// existence unknown, with the reason.
func (r *reader) instances(d *decl, ctx *hcl.EvalContext, why map[string]string, addr string) []instance {
	content, _, _ := d.body.PartialContent(metaSchema)
	with := func(extra map[string]cty.Value) *hcl.EvalContext {
		c := ctx.NewChild()
		c.Variables = extra
		return c
	}
	countCtx := func(i cty.Value) *hcl.EvalContext {
		return with(map[string]cty.Value{"count": cty.ObjectVal(map[string]cty.Value{"index": i})})
	}
	eachCtx := func(k, v cty.Value) *hcl.EvalContext {
		return with(map[string]cty.Value{"each": cty.ObjectVal(map[string]cty.Value{"key": k, "value": v})})
	}
	count, hasCount := content.Attributes["count"]
	forEach, hasForEach := content.Attributes["for_each"]
	budget := func(n int) bool {
		r.expanded += n
		if r.expanded > maxInstances {
			if !r.overflow {
				r.overflow = true
				r.unread(d.file, d.block.DefRange.Start.Line, addr, fmt.Sprintf("the configuration expands into more than %d resource and module instances; %s and what follows are not read", maxInstances, addr))
			}
			return false
		}
		return true
	}
	if !budget(1) {
		return nil
	}
	switch {
	case hasCount && hasForEach:
		return []instance{{key: "[?]", ctx: countCtx(cty.UnknownVal(cty.Number)),
			unknown: fmt.Sprintf("%s sets both count and for_each (%s:%d): Terraform rejects it", addr, d.file, count.Range.Start.Line)}}
	case hasCount:
		where := fmt.Sprintf("count = %s (%s:%d)", r.exprText(count), d.file, count.Range.Start.Line)
		unknown := func(w string) []instance {
			return []instance{{key: "[?]", ctx: countCtx(cty.UnknownVal(cty.Number)), unknown: w}}
		}
		v, diags := eval(count.Expr, ctx)
		if diags.HasErrors() || !v.IsKnown() {
			return unknown(where + ": " + r.failed(count.Expr, diags, why))
		}
		nv, err := convert.Convert(v, cty.Number)
		if err != nil || nv.IsNull() {
			return unknown(where + ": Terraform rejects it: count must be a whole number")
		}
		bf := nv.AsBigFloat()
		n, acc := bf.Int64()
		if !bf.IsInt() || acc != 0 || n < 0 {
			return unknown(where + ": Terraform rejects it: count must be a whole number, 0 or more")
		}
		if n == 0 {
			return []instance{{ctx: countCtx(cty.UnknownVal(cty.Number)), absent: where + " is 0"}}
		}
		if !budget(int(min(n, maxInstances+1))) {
			return nil
		}
		out := make([]instance, 0, n)
		for i := range n {
			out = append(out, instance{key: fmt.Sprintf("[%d]", i), ctx: countCtx(cty.NumberIntVal(i))})
		}
		return out
	case hasForEach:
		where := fmt.Sprintf("for_each = %s (%s:%d)", r.exprText(forEach), d.file, forEach.Range.Start.Line)
		unknown := func(w string) []instance {
			return []instance{{key: "[?]", ctx: eachCtx(cty.UnknownVal(cty.String), cty.DynamicVal), unknown: w}}
		}
		v, diags := eval(forEach.Expr, ctx)
		if diags.HasErrors() || !v.IsKnown() {
			return unknown(where + ": " + r.failed(forEach.Expr, diags, why))
		}
		ty := v.Type()
		switch {
		case v.IsNull():
			return unknown(where + ": Terraform rejects a null for_each")
		case ty.IsSetType() && !v.IsWhollyKnown():
			return unknown(where + ": " + r.explain(forEach.Expr, why))
		case (ty.IsSetType() || ty.IsMapType() || ty.IsObjectType()) && v.LengthInt() == 0:
			return []instance{{ctx: eachCtx(cty.UnknownVal(cty.String), cty.DynamicVal), absent: where + " is empty"}}
		case ty.IsSetType():
			if !ty.ElementType().Equals(cty.String) {
				return unknown(where + ": Terraform rejects it: for_each takes a map or a set of strings")
			}
		case ty.IsMapType() || ty.IsObjectType():
		default:
			return unknown(where + ": Terraform rejects it: for_each takes a map or a set of strings, not " + ty.FriendlyName())
		}
		if !budget(min(v.LengthInt(), maxInstances+1)) {
			return nil
		}
		var out []instance
		for it := v.ElementIterator(); it.Next(); {
			k, val := it.Element()
			if ty.IsSetType() {
				k = val
			}
			if k.IsNull() {
				return unknown(where + ": Terraform rejects a null key")
			}
			out = append(out, instance{key: fmt.Sprintf("[%q]", k.AsString()), ctx: eachCtx(k, val)})
		}
		return out
	}
	return []instance{{ctx: ctx}}
}

// object evaluates a body, whose dynamic blocks the caller expanded with
// dynblock.Expand, against the schema. An attribute that is not known, or
// a block type whose dynamic for_each is not known, carries why.
func (r *reader) object(body hcl.Body, s *blockSchema, ctx *hcl.EvalContext, why map[string]string, path string) object {
	o := newObject()
	unknownBody := false
	if ub, ok := body.(interface{ Unknown() bool }); ok && ub.Unknown() {
		unknownBody = true
	}
	content, _, diags := body.PartialContent(s.hcl())
	if diags.HasErrors() {
		for typ := range s.blocks {
			o.why[typ] = fmt.Sprintf("the %s blocks of %s cannot be expanded statically: %s", typ, path, diagText(diags))
		}
	}
	for name, a := range content.Attributes {
		where := fmt.Sprintf("%s = %s (%s:%d)", name, r.exprText(a), a.Range.Filename, a.Range.Start.Line)
		pos := rangePos(a.NameRange)
		v, d := eval(a.Expr, ctx)
		switch {
		case unknownBody:
			o.attrs[name] = field{where: where, pos: pos, why: where + ": in a dynamic block whose for_each is not known statically"}
		case d.HasErrors():
			o.attrs[name] = field{where: where, pos: pos, why: where + ": " + r.failed(a.Expr, d, why)}
		case !v.IsWhollyKnown():
			o.attrs[name] = field{v: v, where: where, pos: pos, why: where + ": " + r.explain(a.Expr, why)}
		default:
			o.attrs[name] = field{v: v, where: where, pos: pos}
		}
	}
	for _, b := range content.Blocks {
		sub := s.blocks[b.Type]
		if sub == nil {
			continue
		}
		o.blockPos[b.Type] = first(o.blockPos[b.Type], rangePos(b.DefRange))
		if ub, ok := b.Body.(interface{ Unknown() bool }); ok && ub.Unknown() {
			o.why[b.Type] = fmt.Sprintf("the %s blocks of %s come from a dynamic block whose for_each is not known statically (%s:%d)", b.Type, path, b.DefRange.Filename, b.DefRange.Start.Line)
			continue
		}
		o.blocks[b.Type] = append(o.blocks[b.Type], r.object(b.Body, sub, ctx, why, path+"."+b.Type))
	}
	return o
}

// eval evaluates an expression as Terraform would see it before apply:
// a reference to a resource, a data source, a module output or any other
// name this reader does not evaluate is an unknown value (so try() and
// can() cannot turn it into a known fallback), and a reference to a
// variable or local value that is not declared is an error, as Terraform
// rejects it before evaluating anything.
func eval(expr hcl.Expression, ctx *hcl.EvalContext) (cty.Value, hcl.Diagnostics) {
	var unknown map[string]cty.Value
	for _, tr := range expr.Variables() {
		root := tr.RootName()
		if root == "var" || root == "local" {
			if len(tr) < 2 {
				continue
			}
			attr, isAttr := tr[1].(hcl.TraverseAttr)
			if obj, found := lookup(ctx, root); isAttr && found && obj.Type().IsObjectType() && !obj.Type().HasAttribute(attr.Name) {
				return cty.DynamicVal, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Reference to undeclared " + root + "." + attr.Name,
					Detail: "Terraform rejects a reference to " + root + "." + attr.Name + ", which is not declared", Subject: tr.SourceRange().Ptr()}}
			}
			continue
		}
		if _, found := lookup(ctx, root); !found {
			if unknown == nil {
				unknown = map[string]cty.Value{}
			}
			unknown[root] = cty.DynamicVal
		}
	}
	if unknown != nil {
		child := ctx.NewChild()
		child.Variables = unknown
		ctx = child
	}
	return expr.Value(ctx)
}

// lookup finds a variable in an evaluation context or its parents.
func lookup(ctx *hcl.EvalContext, name string) (cty.Value, bool) {
	for c := ctx; c != nil; c = c.Parent() {
		if v, ok := c.Variables[name]; ok {
			return v, true
		}
	}
	return cty.NilVal, false
}

// failed says why an expression has no known value: the error that
// stopped its evaluation (a reference Terraform rejects, a function that
// failed, an evaluation limit), else the unknowns it depends on.
func (r *reader) failed(expr hcl.Expression, diags hcl.Diagnostics, why map[string]string) string {
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		if e := r.explain(expr, why); e != unknownFallback {
			return e // an unknown value, rather than the error it caused
		}
		return strings.TrimSuffix(d.Summary+": "+d.Detail, ": ")
	}
	return r.explain(expr, why)
}

const unknownFallback = "a value not known statically (or one Terraform rejects)"

// explain says why an expression is not known: the unknown variables or
// locals it refers to, with their own reasons.
func (r *reader) explain(expr hcl.Expression, why map[string]string) string {
	var parts []string
	for _, tr := range expr.Variables() {
		root := tr.RootName()
		name := root
		if len(tr) > 1 {
			if a, ok := tr[1].(hcl.TraverseAttr); ok {
				name = root + "." + a.Name
			}
		}
		if w, ok := why[name]; ok {
			parts = append(parts, w)
		} else if root == "each" || root == "count" {
			parts = append(parts, root+" of an instance that cannot be expanded statically")
		} else if root != "var" && root != "local" && root != "path" {
			parts = append(parts, name+", known only when applied")
		}
	}
	if len(parts) == 0 {
		return unknownFallback
	}
	return strings.Join(uniq(parts), "; ")
}

// exprText is the source of an attribute's expression, on one line and
// cut short: it goes into reasons.
func (r *reader) exprText(a *hcl.Attribute) string {
	rng := a.Expr.Range()
	f := r.parser.Files()[rng.Filename]
	if f == nil || rng.End.Byte > len(f.Bytes) || rng.Start.Byte > rng.End.Byte {
		return "(expression)"
	}
	s := []rune(strings.Join(strings.Fields(string(f.Bytes[rng.Start.Byte:rng.End.Byte])), " "))
	if len(s) > 120 {
		return string(s[:120]) + "…"
	}
	return string(s)
}
