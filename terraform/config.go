package terraform

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/trailguard/trailguard"
)

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
		r.mod.Errs = append(r.mod.Errs, diagErr(name, diags))
		return nil
	}
	if body, ok := file.Body.(*hclsyntax.Body); ok {
		meter(body, r.budget)
	}
	if json {
		r.jsonComments[name] = jsonComments(src)
	} else {
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
		r.mod.Errs = append(r.mod.Errs, diagErr(name, diags))
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
