package terraform

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// Evaluation limits. A small file can ask for unbounded work: a for
// expression nested in another over a list of 100,000 literals, locals
// that each double the one before, replace() or format() whose result is
// far larger than its arguments. The reader meters evaluation instead of
// trusting it: past a limit a value is unknown (so nothing passes on it)
// and the result says which part was not evaluated.
const (
	// maxEvalSteps caps the for-expression iterations, template parts and
	// splat elements one root module may evaluate (strings cost a step
	// per 16 bytes).
	maxEvalSteps = 1 << 20
	// maxValueSize caps the size of a local value or of the arguments of
	// a function call: elements plus string bytes.
	maxValueSize = 1 << 22
	// maxTupleConvert caps the elements of a tuple that is converted to
	// a list or set: cty unifies the element types pairwise, so the
	// conversion costs the square of the length.
	maxTupleConvert = 2048
)

// errBigTuple is the reason a value is not converted.
var errBigTuple = fmt.Errorf("a tuple of more than %d elements, which this reader does not convert", maxTupleConvert)

// hasBigTuple reports whether v holds a tuple longer than
// maxTupleConvert (looking at no more than maxValueSize elements).
func hasBigTuple(v cty.Value) bool {
	budget := maxValueSize
	var walk func(v cty.Value) bool
	walk = func(v cty.Value) bool {
		if !v.IsKnown() || v.IsNull() || budget <= 0 {
			return false
		}
		v, _ = v.Unmark()
		ty := v.Type()
		if ty.IsTupleType() && len(ty.TupleElementTypes()) > maxTupleConvert {
			return true
		}
		if !(ty.IsListType() || ty.IsSetType() || ty.IsTupleType() || ty.IsMapType() || ty.IsObjectType()) {
			return false
		}
		for it := v.ElementIterator(); budget > 0 && it.Next(); {
			budget--
			if _, e := it.Element(); walk(e) {
				return true
			}
		}
		return false
	}
	return walk(v)
}

// evalBudget is the work left for one root module.
type evalBudget struct {
	left int
	// hit is where the budget ran out first.
	hit *hcl.Range
}

func (b *evalBudget) spend(n int, rng hcl.Range) bool {
	b.left -= n
	if b.left < 0 {
		if b.hit == nil {
			b.hit = &rng
		}
		return false
	}
	return true
}

func (b *evalBudget) diag(rng hcl.Range) hcl.Diagnostics {
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "evaluation limit",
		Detail:   fmt.Sprintf("evaluating the configuration takes more than the %d steps this reader allows", maxEvalSteps),
		Subject:  rng.Ptr(),
	}}
}

// meteredExpr is an expression that spends from the budget each time it
// is evaluated. It embeds the hclsyntax expression it meters, so the
// syntax tree stays walkable.
type meteredExpr struct {
	hclsyntax.Expression
	budget *evalBudget
}

func (e *meteredExpr) Value(ctx *hcl.EvalContext) (cty.Value, hcl.Diagnostics) {
	if !e.budget.spend(1, e.Range()) {
		return cty.DynamicVal, e.budget.diag(e.Range())
	}
	v, diags := e.Expression.Value(ctx)
	if v.IsKnown() && !v.IsMarked() && v.Type() == cty.String && !v.IsNull() {
		if !e.budget.spend(len(v.AsString())/16, e.Range()) {
			return cty.DynamicVal, e.budget.diag(e.Range())
		}
	}
	return v, diags
}

// meter wraps, in a parsed native-syntax body, every expression that an
// evaluation can repeat (for-expression bodies, splat bodies) or that
// copies strings (template parts) so that it spends from the budget.
// Expressions in .tf.json strings are parsed by HCL at each evaluation
// and are not metered; the size checks of functions and locals still
// bound them.
func meter(body *hclsyntax.Body, b *evalBudget) {
	var fors []*hclsyntax.ForExpr
	var templates []*hclsyntax.TemplateExpr
	var wraps []*hclsyntax.TemplateWrapExpr
	var splats []*hclsyntax.SplatExpr
	hclsyntax.VisitAll(body, func(n hclsyntax.Node) hcl.Diagnostics {
		switch e := n.(type) {
		case *hclsyntax.ForExpr:
			fors = append(fors, e)
		case *hclsyntax.TemplateExpr:
			templates = append(templates, e)
		case *hclsyntax.TemplateWrapExpr:
			wraps = append(wraps, e)
		case *hclsyntax.SplatExpr:
			splats = append(splats, e)
		}
		return nil
	})
	wrap := func(e hclsyntax.Expression) hclsyntax.Expression {
		if e == nil {
			return nil
		}
		return &meteredExpr{Expression: e, budget: b}
	}
	for _, e := range fors {
		e.ValExpr, e.KeyExpr, e.CondExpr = wrap(e.ValExpr), wrap(e.KeyExpr), wrap(e.CondExpr)
	}
	for _, e := range templates {
		for i, p := range e.Parts {
			if _, literal := p.(*hclsyntax.LiteralValueExpr); !literal {
				e.Parts[i] = wrap(p)
			}
		}
	}
	for _, e := range wraps {
		e.Wrapped = wrap(e.Wrapped)
	}
	for _, e := range splats {
		e.Each = wrap(e.Each)
	}
}

// weigh is the size of a value (elements plus string bytes), counted up
// to limit only.
func weigh(v cty.Value, limit int) int {
	if !v.IsKnown() || v.IsNull() {
		return 1
	}
	v, _ = v.Unmark()
	ty := v.Type()
	switch {
	case ty == cty.String:
		return 1 + len(v.AsString())
	case ty.IsListType() || ty.IsSetType() || ty.IsTupleType() || ty.IsMapType() || ty.IsObjectType():
		n := 1
		for it := v.ElementIterator(); n <= limit && it.Next(); {
			_, e := it.Element()
			n += weigh(e, limit-n)
		}
		return n
	}
	return 1
}

// guarded wraps a function so that a call whose arguments, or whose
// result by the function's nature (replace, format widths), would exceed
// the limits fails instead of running. The wrapper takes its arguments
// as they are (HCL converts arguments to the declared parameter types
// before a call, and converting a long tuple to a list costs the square
// of its length): the checks run first, then the function itself, which
// converts.
func guarded(name string, f function.Function, b *evalBudget) function.Function {
	open := func(p function.Parameter) function.Parameter {
		return function.Parameter{Name: p.Name, Type: cty.DynamicPseudoType, AllowNull: true, AllowUnknown: true, AllowDynamicType: true, AllowMarked: true}
	}
	var params []function.Parameter
	for _, p := range f.Params() {
		params = append(params, open(p))
	}
	var varParam *function.Parameter
	if vp := f.VarParam(); vp != nil {
		p := open(*vp)
		varParam = &p
	}
	check := func(args []cty.Value) error {
		size := 0
		for _, a := range args {
			size += weigh(a, maxValueSize-size)
			if size > maxValueSize {
				return fmt.Errorf("%s: arguments larger than the %d this reader evaluates", name, maxValueSize)
			}
			if hasBigTuple(a) {
				return fmt.Errorf("%s: %w", name, errBigTuple)
			}
		}
		return resultSize(name, args)
	}
	return function.New(&function.Spec{
		Params:   params,
		VarParam: varParam,
		Type: func(args []cty.Value) (cty.Type, error) {
			if err := check(args); err != nil {
				return cty.NilType, err
			}
			return f.ReturnTypeForValues(args)
		},
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			size := 0
			for _, a := range args {
				size += weigh(a, maxValueSize)
			}
			if b != nil && !b.spend(size/16, hcl.Range{}) {
				return cty.NilVal, fmt.Errorf("%s: evaluation limit reached", name)
			}
			return f.Call(args)
		},
	})
}

// resultSize refuses the calls whose result can be far larger than
// their arguments.
func resultSize(name string, args []cty.Value) error {
	known := func(i int) (string, bool) {
		if i >= len(args) || !args[i].IsKnown() || args[i].IsNull() || !args[i].Type().Equals(cty.String) {
			return "", false
		}
		s, _ := args[i].Unmark()
		return s.AsString(), true
	}
	switch name {
	case "replace":
		str, ok1 := known(0)
		sub, _ := known(1)
		repl, ok3 := known(2)
		if ok1 && ok3 && (len(str)+1)/max(len(sub), 1)*len(repl)+len(str) > maxValueSize {
			return fmt.Errorf("replace: the result would be larger than the %d this reader evaluates", maxValueSize)
		}
	case "format":
		if spec, ok := known(0); ok {
			return formatWidths(spec)
		}
	}
	return nil
}

// formatWidths refuses a format spec (cty's format verbs: %[n]-+# 0
// width.precision verb) with a width or precision over 10000.
func formatWidths(spec string) error {
	number := func(i int) (int, int) {
		n := 0
		for ; i < len(spec) && spec[i] >= '0' && spec[i] <= '9'; i++ {
			if n = n*10 + int(spec[i]-'0'); n > 10000 {
				return n, i
			}
		}
		return n, i
	}
	for i := 0; i < len(spec); i++ {
		if spec[i] != '%' {
			continue
		}
		i++
		if i < len(spec) && spec[i] == '%' {
			continue
		}
		if i < len(spec) && spec[i] == '[' {
			for i < len(spec) && spec[i] != ']' {
				i++
			}
			i++
		}
		for i < len(spec) && (spec[i] == '-' || spec[i] == '+' || spec[i] == '#' || spec[i] == ' ' || spec[i] == '0') {
			i++
		}
		var w, p int
		w, i = number(i)
		if i < len(spec) && spec[i] == '.' {
			p, i = number(i + 1)
		}
		if w > 10000 || p > 10000 {
			return fmt.Errorf("format: a width or precision over 10000")
		}
	}
	return nil
}
