package terraform

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/dynblock"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/trailguard/trailguard"
)

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
// ("module.a."); exist says whether what it declares is created.
func (r *reader) load(dir string, inputs map[string]input, prefix string, depth int, visiting map[string]bool, exist existence) {
	abs, _ := filepath.Abs(dir)
	if depth > maxModuleDepth || visiting[abs] {
		r.mod.Errs = append(r.mod.Errs, trailguard.ErrorAt(dir, 0, "module calls nest deeper than %d or form a cycle; %s not read", maxModuleDepth, prefix))
		return
	}
	visiting[abs] = true
	defer delete(visiting, abs)
	c := r.config(dir)
	ctx, why, names := r.scope(dir, c, inputs)
	if rejected := r.validations(c, names, ctx); rejected != "" {
		exist = exist.with(rejected, "")
	}
	r.loadTrails(c, ctx, why, prefix, exist)
	r.loadModules(dir, c, ctx, why, prefix, depth, visiting, exist)
}

// scope is the evaluation context of one module instance: its variables
// (sorted names returned), terraform.*, path.* and its locals. why names
// the values that are not known ("var.x", "local.y",
// "terraform.workspace") and why.
func (r *reader) scope(dir string, c *config, inputs map[string]input) (ctx *hcl.EvalContext, why map[string]string, names []string) {
	vars := map[string]cty.Value{}
	why = map[string]string{}
	names = make([]string, 0, len(c.vars))
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
	ctx = &hcl.EvalContext{
		Variables: map[string]cty.Value{
			"var":       objectOrEmpty(vars),
			"terraform": cty.ObjectVal(map[string]cty.Value{"workspace": workspace, "applying": cty.UnknownVal(cty.Bool)}),
			"path":      cty.ObjectVal(map[string]cty.Value{"module": cty.StringVal(dir), "root": cty.StringVal(r.root), "cwd": cty.StringVal(r.root)}),
		},
		Functions: r.functions,
	}
	ctx.Variables["local"] = r.locals(c, ctx, why)
	return ctx, why, names
}

// loadTrails adds the module instance's aws_cloudtrail instances, each
// with where it and its deciding attributes are written, its ignore
// directive and whether it is created.
func (r *reader) loadTrails(c *config, ctx *hcl.EvalContext, why map[string]string, prefix string, exist existence) {
	for _, d := range c.resources {
		addr := prefix + "aws_cloudtrail." + d.block.Labels[1]
		meta, _, _ := d.body.PartialContent(metaSchema)
		var metaAt trailguard.Position // where count or for_each is written
		for _, name := range []string{"count", "for_each"} {
			if a, ok := meta.Attributes[name]; ok {
				metaAt = first(metaAt, rangePos(a.NameRange))
			}
		}
		for _, inst := range r.instances(d, ctx, why, addr) {
			t := trailFromObject(addr+inst.key, r.object(dynblock.Expand(d.body, inst.ctx), trailSchema, inst.ctx, why, addr+inst.key))
			t.File, t.Line = d.file, d.block.DefRange.Start.Line
			t.Positions.Resource = rangePos(d.block.DefRange)
			t.Ignore = r.ignoreReason(d)
			pAbsent, pUnknown, pAt := r.preconditions(d, inst.ctx, why)
			e := exist.with(inst.absent, inst.unknown).with(pAbsent, pUnknown)
			t.Absent = e.absent
			t.UnknownExists = joinWhy(e.unknown, t.UnknownExists)
			// Where existence was decided: the first reason kept, unless
			// it came from the module call (whose place is not kept).
			switch {
			case exist.absent != "":
				t.Positions.Exists = trailguard.Position{}
			case inst.absent != "":
				t.Positions.Exists = metaAt
			case pAbsent != "":
				t.Positions.Exists = pAt
			case exist.unknown != "":
				t.Positions.Exists = trailguard.Position{}
			case inst.unknown != "":
				t.Positions.Exists = metaAt
			case pUnknown != "":
				t.Positions.Exists = pAt
			}
			r.mod.Trails = append(r.mod.Trails, t)
		}
	}
}

// loadModules follows the module instance's module calls: a local module
// is loaded once per instance of the call, with the call's arguments as
// its inputs; any other (registry, git, a missing directory, a source
// that is not a literal) is an UNKNOWN result naming the call, unless the
// call creates nothing.
func (r *reader) loadModules(dir string, c *config, ctx *hcl.EvalContext, why map[string]string, prefix string, depth int, visiting map[string]bool, exist existence) {
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
			r.load(child, r.moduleInputs(d, attrs, inst, call, why), call+inst.key+".", depth+1, visiting, exist.with(inst.absent, inst.unknown))
		}
	}
}

// moduleInputs are the arguments of one instance of a module call, as
// the called module's variable values.
func (r *reader) moduleInputs(d *decl, attrs hcl.Attributes, inst instance, call string, why map[string]string) map[string]input {
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
	return in
}

var lifecycleSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "lifecycle"}}}

var preconditionSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "precondition"}}}

var conditionSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "condition"}}}

// preconditions checks a resource's lifecycle preconditions: one that is
// false stops the plan, so the trail is not created; one that cannot be
// known leaves its existence unknown. at is the condition that decided.
func (r *reader) preconditions(d *decl, ctx *hcl.EvalContext, why map[string]string) (absent, unknown string, at trailguard.Position) {
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
				at = first(at, rangePos(a.NameRange))
				continue
			}
			b, err := convert.Convert(v, cty.Bool)
			switch {
			case err != nil || b.IsNull():
				unknowns = append(unknowns, where+": Terraform rejects a condition that is not a bool")
				at = first(at, rangePos(a.NameRange))
			case b.False():
				return where + " is false: Terraform stops the plan", "", rangePos(a.NameRange)
			}
		}
	}
	return "", joinWhy(unknowns...), at
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
			unknown: fmt.Sprintf("%s sets both count and for_each (%s:%d): Terraform rejects it", addr, count.Range.Filename, count.Range.Start.Line)}}
	case hasCount:
		where := fmt.Sprintf("count = %s (%s:%d)", r.exprText(count), count.Range.Filename, count.Range.Start.Line)
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
		where := fmt.Sprintf("for_each = %s (%s:%d)", r.exprText(forEach), forEach.Range.Filename, forEach.Range.Start.Line)
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
