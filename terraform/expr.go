package terraform

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

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
