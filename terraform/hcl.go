package terraform

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/dynblock"
	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/trailguard/trailguard"
)

// Options are the values a root module is read with, as terraform plan
// takes them: -var NAME=VALUE and -var-file FILE, after terraform.tfvars
// and *.auto.tfvars of the module's directory.
type Options struct {
	Vars     map[string]string
	VarFiles []string
}

// maxModuleDepth bounds local module nesting (and cycles).
const maxModuleDepth = 16

var rootSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
	{Type: "variable", LabelNames: []string{"name"}},
	{Type: "locals"},
	{Type: "resource", LabelNames: []string{"type", "name"}},
	{Type: "module", LabelNames: []string{"name"}},
}}

var trailSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "name"}, {Name: "s3_bucket_name"}, {Name: "is_multi_region_trail"}, {Name: "enable_logging"},
		{Name: "is_organization_trail"}, {Name: "include_global_service_events"}, {Name: "enable_log_file_validation"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "event_selector"}, {Type: "advanced_event_selector"}},
}

var eventSelectorSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "read_write_type"}, {Name: "include_management_events"}, {Name: "exclude_management_event_sources"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "data_resource"}},
}

var dataResourceSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "type"}, {Name: "values"}}}

var advancedSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "name"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "field_selector"}},
}

var fieldSelectorSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "field"}, {Name: "equals"}, {Name: "not_equals"}, {Name: "starts_with"}, {Name: "not_starts_with"}, {Name: "ends_with"}, {Name: "not_ends_with"},
}}

// functions are the Terraform functions a trail's settings plausibly use,
// from cty's standard library (the same implementations Terraform uses).
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
	parser *hclparse.Parser
	errs   []error
	trails []trailguard.IaCTrail
}

// ReadModule reads the Terraform root module in dir (its *.tf and
// *.tf.json files) and the local modules it calls. A file that does not
// parse is an error naming file and line; the others are still read.
func ReadModule(dir string, o Options) ([]trailguard.IaCTrail, []error) {
	r := &reader{parser: hclparse.NewParser()}
	inputs, reasons := r.rootInputs(dir, o)
	r.load(dir, inputs, reasons, "", 0, map[string]bool{})
	sort.Slice(r.trails, func(i, j int) bool {
		if r.trails[i].File != r.trails[j].File {
			return r.trails[i].File < r.trails[j].File
		}
		return r.trails[i].Line < r.trails[j].Line
	})
	return r.trails, r.errs
}

// ModuleCalls returns the directories the module in dir calls as local
// modules, so that a walk does not read them again as root modules.
func ModuleCalls(dir string) []string {
	p := hclparse.NewParser()
	var out []string
	for _, f := range tfFiles(dir) {
		file, diags := parse(p, f)
		if diags.HasErrors() || file == nil {
			continue
		}
		content, _, _ := file.Body.PartialContent(rootSchema)
		for _, b := range content.Blocks.OfType("module") {
			attrs, _ := b.Body.JustAttributes()
			if src, ok := attrs["source"]; ok {
				if v, d := src.Expr.Value(nil); !d.HasErrors() && v.Type() == cty.String && v.IsKnown() && isLocal(v.AsString()) {
					out = append(out, filepath.Clean(filepath.Join(dir, v.AsString())))
				}
			}
		}
	}
	return out
}

func isLocal(src string) bool { return strings.HasPrefix(src, "./") || strings.HasPrefix(src, "../") }

func tfFiles(dir string) []string {
	var out []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !e.IsDir() && (strings.HasSuffix(e.Name(), ".tf") || strings.HasSuffix(e.Name(), ".tf.json")) {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(out)
	return out
}

func parse(p *hclparse.Parser, file string) (*hcl.File, hcl.Diagnostics) {
	if strings.HasSuffix(file, ".json") {
		return p.ParseJSONFile(file)
	}
	return p.ParseHCLFile(file)
}

// diagErr turns HCL diagnostics into one error naming file and line.
func diagErr(diags hcl.Diagnostics) error {
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		if d.Subject != nil {
			return fmt.Errorf("%s:%d: %s: %s", d.Subject.Filename, d.Subject.Start.Line, d.Summary, d.Detail)
		}
		return fmt.Errorf("%s: %s", d.Summary, d.Detail)
	}
	return nil
}

// rootInputs gathers the root module's variable values: terraform.tfvars,
// *.auto.tfvars (and .json), then --var-file, then --var, later winning.
func (r *reader) rootInputs(dir string, o Options) (map[string]cty.Value, map[string]string) {
	inputs := map[string]cty.Value{}
	files := []string{filepath.Join(dir, "terraform.tfvars"), filepath.Join(dir, "terraform.tfvars.json")}
	autos, _ := filepath.Glob(filepath.Join(dir, "*.auto.tfvars"))
	autoJSON, _ := filepath.Glob(filepath.Join(dir, "*.auto.tfvars.json"))
	sort.Strings(autos)
	sort.Strings(autoJSON)
	files = append(append(files, autos...), autoJSON...)
	for i, f := range append(files, o.VarFiles...) {
		if _, err := os.Stat(f); err != nil {
			if i >= len(files) {
				r.errs = append(r.errs, fmt.Errorf("--var-file: %w", err))
			}
			continue
		}
		file, diags := parse(r.parser, f)
		if diags.HasErrors() {
			r.errs = append(r.errs, diagErr(diags))
			continue
		}
		attrs, diags := file.Body.JustAttributes()
		if diags.HasErrors() {
			r.errs = append(r.errs, diagErr(diags))
		}
		for name, a := range attrs {
			if v, d := a.Expr.Value(nil); !d.HasErrors() {
				inputs[name] = v
			}
		}
	}
	for name, raw := range o.Vars {
		expr, d := hclsyntax.ParseExpression([]byte(raw), "--var "+name, hcl.InitialPos)
		if !d.HasErrors() {
			if v, d := expr.Value(nil); !d.HasErrors() {
				inputs[name] = v
				continue
			}
		}
		inputs[name] = cty.StringVal(raw) // a bare word, as terraform takes -var name=word
	}
	return inputs, map[string]string{}
}

// load reads one module: its variables (from inputs or defaults), locals,
// trails and local module calls. prefix is its address ("module.a.").
// reasons says why an input is unknown, by variable name.
func (r *reader) load(dir string, inputs map[string]cty.Value, reasons map[string]string, prefix string, depth int, visiting map[string]bool) {
	abs, _ := filepath.Abs(dir)
	if depth > maxModuleDepth || visiting[abs] {
		r.errs = append(r.errs, fmt.Errorf("%s: module calls nest deeper than %d or form a cycle; %s not read", dir, maxModuleDepth, prefix))
		return
	}
	visiting[abs] = true
	defer delete(visiting, abs)

	type fileContent struct {
		name    string
		lines   []string
		content *hcl.BodyContent
	}
	var files []fileContent
	for _, f := range tfFiles(dir) {
		file, diags := parse(r.parser, f)
		if diags.HasErrors() {
			r.errs = append(r.errs, diagErr(diags))
			continue
		}
		content, _, diags := file.Body.PartialContent(rootSchema)
		if diags.HasErrors() {
			r.errs = append(r.errs, diagErr(diags))
			continue
		}
		files = append(files, fileContent{name: f, lines: strings.Split(string(file.Bytes), "\n"), content: content})
	}

	// Variables.
	vars := map[string]cty.Value{}
	why := map[string]string{} // "var.x" → why unknown
	for _, fc := range files {
		for _, b := range fc.content.Blocks.OfType("variable") {
			name := b.Labels[0]
			if v, ok := inputs[name]; ok {
				vars[name] = v
				if !v.IsWhollyKnown() {
					why["var."+name] = reasons[name]
				}
				continue
			}
			attrs, _ := b.Body.JustAttributes()
			if def, ok := attrs["default"]; ok {
				if v, d := def.Expr.Value(nil); !d.HasErrors() {
					vars[name] = v
					continue
				}
			}
			vars[name] = cty.DynamicVal
			why["var."+name] = fmt.Sprintf("var.%s has no default and no value is given (%s:%d)", name, fc.name, b.DefRange.Start.Line)
		}
	}
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{
			"var":       objectOrEmpty(vars),
			"terraform": cty.ObjectVal(map[string]cty.Value{"workspace": cty.StringVal("default")}),
			"path":      cty.ObjectVal(map[string]cty.Value{"module": cty.StringVal(dir), "root": cty.StringVal(dir), "cwd": cty.StringVal(dir)}),
		},
		Functions: functions,
	}

	// Locals, resolved in as many passes as there are locals (each pass
	// resolves at least one more when they depend on each other).
	type local struct {
		expr hcl.Expression
	}
	locals := map[string]local{}
	for _, fc := range files {
		for _, b := range fc.content.Blocks.OfType("locals") {
			attrs, _ := b.Body.JustAttributes()
			for name, a := range attrs {
				locals[name] = local{expr: a.Expr}
			}
		}
	}
	values := map[string]cty.Value{}
	for name := range locals {
		values[name] = cty.DynamicVal
	}
	for range len(locals) + 1 {
		ctx.Variables["local"] = objectOrEmpty(values)
		for name, l := range locals {
			if v, d := l.expr.Value(ctx); !d.HasErrors() {
				values[name] = v
			}
		}
	}
	ctx.Variables["local"] = objectOrEmpty(values)
	for name, v := range values {
		if !v.IsWhollyKnown() {
			why["local."+name] = "local." + name + " depends on " + r.explain(locals[name].expr, why)
		}
	}

	for _, fc := range files {
		for _, b := range fc.content.Blocks.OfType("resource") {
			if b.Labels[0] != "aws_cloudtrail" {
				continue
			}
			addr := prefix + "aws_cloudtrail." + b.Labels[1]
			for _, inst := range r.instances(b.Body, ctx, why) {
				t := r.trail(b, inst.ctx, why, addr+inst.key)
				t.File, t.Line = fc.name, b.DefRange.Start.Line
				t.Ignore = ignoreReason(fc.lines, b.DefRange.Start.Line)
				r.trails = append(r.trails, t)
			}
		}
		for _, b := range fc.content.Blocks.OfType("module") {
			attrs, _ := b.Body.JustAttributes()
			src, ok := attrs["source"]
			if !ok {
				continue
			}
			sv, d := src.Expr.Value(nil)
			if d.HasErrors() || sv.Type() != cty.String || !isLocal(sv.AsString()) {
				continue // a registry or remote module: not read
			}
			child := filepath.Join(dir, sv.AsString())
			for _, inst := range r.instances(b.Body, ctx, why) {
				in, inWhy := map[string]cty.Value{}, map[string]string{}
				for name, a := range attrs {
					switch name {
					case "source", "version", "count", "for_each", "providers", "depends_on":
						continue
					}
					v, d := a.Expr.Value(inst.ctx)
					if d.HasErrors() {
						v = cty.DynamicVal
					}
					in[name] = v
					if !v.IsWhollyKnown() {
						inWhy[name] = fmt.Sprintf("input %s of module.%s (%s:%d) depends on %s", name, b.Labels[0], fc.name, a.Range.Start.Line, r.explain(a.Expr, why))
					}
				}
				r.load(child, in, inWhy, prefix+"module."+b.Labels[0]+inst.key+".", depth+1, visiting)
			}
		}
	}
}

func objectOrEmpty(m map[string]cty.Value) cty.Value {
	if len(m) == 0 {
		return cty.EmptyObjectVal
	}
	return cty.ObjectVal(m)
}

// instance is one count or for_each instance of a block.
type instance struct {
	key string // "", "[0]", `["a"]`
	ctx *hcl.EvalContext
}

// instances expands count and for_each. An unknown count or for_each is
// read as one instance whose index is unknown.
func (r *reader) instances(body hcl.Body, ctx *hcl.EvalContext, why map[string]string) []instance {
	attrs, _ := body.JustAttributes()
	with := func(extra map[string]cty.Value) *hcl.EvalContext {
		c := ctx.NewChild()
		c.Variables = extra
		return c
	}
	if a, ok := attrs["count"]; ok {
		v, d := a.Expr.Value(ctx)
		if d.HasErrors() || !v.IsKnown() || v.IsNull() || !v.Type().Equals(cty.Number) {
			return []instance{{key: "[?]", ctx: with(map[string]cty.Value{"count": cty.ObjectVal(map[string]cty.Value{"index": cty.UnknownVal(cty.Number)})})}}
		}
		n, _ := v.AsBigFloat().Int64()
		var out []instance
		for i := range min(n, 1000) {
			out = append(out, instance{key: fmt.Sprintf("[%d]", i), ctx: with(map[string]cty.Value{"count": cty.ObjectVal(map[string]cty.Value{"index": cty.NumberIntVal(i)})})})
		}
		return out
	}
	if a, ok := attrs["for_each"]; ok {
		v, d := a.Expr.Value(ctx)
		unknownEach := []instance{{key: "[?]", ctx: with(map[string]cty.Value{"each": cty.ObjectVal(map[string]cty.Value{"key": cty.DynamicVal, "value": cty.DynamicVal})})}}
		if d.HasErrors() || !v.IsWhollyKnown() || v.IsNull() || !v.CanIterateElements() {
			return unknownEach
		}
		var out []instance
		for it := v.ElementIterator(); it.Next(); {
			k, val := it.Element()
			if v.Type().IsSetType() || v.Type().IsListType() || v.Type().IsTupleType() {
				k = val
			}
			if k.Type() != cty.String {
				return unknownEach
			}
			out = append(out, instance{key: fmt.Sprintf("[%q]", k.AsString()), ctx: with(map[string]cty.Value{"each": cty.ObjectVal(map[string]cty.Value{"key": k, "value": val})})})
		}
		return out
	}
	return []instance{{ctx: ctx}}
}

// trail evaluates one aws_cloudtrail instance.
func (r *reader) trail(b *hcl.Block, ctx *hcl.EvalContext, why map[string]string, addr string) trailguard.IaCTrail {
	values := map[string]any{}
	unk := unknowns{}
	body := dynblock.Expand(b.Body, ctx)
	content, _, diags := body.PartialContent(trailSchema)
	if diags.HasErrors() {
		// A dynamic block whose for_each cannot be known.
		unk["event_selector"] = fmt.Sprintf("the selectors of %s cannot be expanded statically: %s", addr, diagErr(diags))
	}
	r.attrs(content.Attributes, ctx, why, values, unk, "")
	var basic, advanced []any
	for _, sb := range content.Blocks {
		switch sb.Type {
		case "event_selector":
			if m, ok := r.block(sb, eventSelectorSchema, dataResourceSchema, "data_resource", ctx, why, unk); ok {
				basic = append(basic, m)
			}
		case "advanced_event_selector":
			if m, ok := r.block(sb, advancedSchema, fieldSelectorSchema, "field_selector", ctx, why, unk); ok {
				advanced = append(advanced, m)
			}
		}
	}
	if basic != nil {
		values["event_selector"] = basic
	}
	if advanced != nil {
		values["advanced_event_selector"] = advanced
	}
	return trailFromValues(addr, values, unk)
}

// block evaluates a selector block, and the blocks nested in it under
// nestedKey (data_resource, field_selector), into a JSON-like map. An
// unknown value anywhere in it makes the selectors unknown.
func (r *reader) block(b *hcl.Block, schema, nested *hcl.BodySchema, nestedKey string, ctx *hcl.EvalContext, why map[string]string, unk unknowns) (map[string]any, bool) {
	c, _, d := b.Body.PartialContent(schema)
	if d.HasErrors() {
		unk[b.Type] = diagErr(d).Error()
		return nil, false
	}
	m := map[string]any{}
	r.attrs(c.Attributes, ctx, why, m, unk, b.Type+".")
	var children []any
	for _, nb := range c.Blocks {
		nc, _, _ := nb.Body.PartialContent(nested)
		cm := map[string]any{}
		r.attrs(nc.Attributes, ctx, why, cm, unk, b.Type+"."+nestedKey+".")
		children = append(children, cm)
	}
	m[nestedKey] = children
	return m, true
}

// attrs evaluates attributes into out (as JSON-like values); one that is
// not known goes to unk under path+name, with the reason.
func (r *reader) attrs(attrs hcl.Attributes, ctx *hcl.EvalContext, why map[string]string, out map[string]any, unk unknowns, path string) {
	for name, a := range attrs {
		v, d := a.Expr.Value(ctx)
		if d.HasErrors() || !v.IsWhollyKnown() {
			unk[path+name] = fmt.Sprintf("%s%s = %s (line %d): %s", path, name, r.exprText(a), a.Range.Start.Line, r.explain(a.Expr, why))
			continue
		}
		if v.IsNull() {
			continue // null means the provider's default
		}
		b, err := ctyjson.Marshal(v, v.Type())
		if err != nil {
			continue
		}
		var goV any
		if json.Unmarshal(b, &goV) == nil {
			out[name] = goV
		}
	}
}

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
		} else if root != "var" && root != "local" {
			parts = append(parts, name+", known only when applied")
		}
	}
	if len(parts) == 0 {
		return "a value not known statically"
	}
	return strings.Join(uniq(parts), "; ")
}

func uniq(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func (r *reader) exprText(a *hcl.Attribute) string {
	rng := a.Expr.Range()
	f := r.parser.Files()[rng.Filename]
	if f == nil || rng.End.Byte > len(f.Bytes) || rng.Start.Byte > rng.End.Byte {
		return "(expression)"
	}
	b := f.Bytes
	return strings.Join(strings.Fields(string(b[rng.Start.Byte:rng.End.Byte])), " ")
}

// ignoreComment is a suppression in the source: on the resource's line or
// in the comment lines right above it.
var ignoreComment = regexp.MustCompile(`(?:#|//|/\*)\s*trailguard:ignore\s+cis-aws-3\.1\s+(\S.*?)\s*(?:\*/)?$`)

func ignoreReason(lines []string, line int) string {
	if line-1 < len(lines) {
		if m := ignoreComment.FindStringSubmatch(lines[line-1]); m != nil {
			return m[1]
		}
	}
	for i := line - 2; i >= 0; i-- {
		s := strings.TrimSpace(lines[i])
		if !(strings.HasPrefix(s, "#") || strings.HasPrefix(s, "//") || strings.HasPrefix(s, "/*") || strings.HasPrefix(s, "*")) {
			break
		}
		if m := ignoreComment.FindStringSubmatch(s); m != nil {
			return m[1]
		}
	}
	return ""
}
