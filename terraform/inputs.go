package terraform

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/trailguard/trailguard"
)

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
				var pe *fs.PathError
				if errors.As(err, &pe) {
					err = pe.Err // the position names the file
				}
				r.mod.Errs = append(r.mod.Errs, trailguard.ErrorAt(f, 0, "--var-file: %w", err))
			}
			continue
		}
		file := r.parseFile(f)
		if file == nil {
			continue
		}
		attrs, diags := file.Body.JustAttributes()
		if diags.HasErrors() {
			r.mod.Errs = append(r.mod.Errs, diagErr(f, diags))
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
