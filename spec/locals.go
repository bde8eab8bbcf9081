package spec

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"maps"
	"slices"
)

// evalLocals evaluates the locals in dependency order; a local may use variables, functions
// and other locals. Each local is evaluated once, after the locals it names, in a context
// holding only those: rebuilding the whole `local` object after each one made 50,000
// locals quadratic. A local that names a local in or behind a cycle is skipped silently;
// each cycle is reported once, naming its members.
func (e *evaluator) evalLocals(blocks []*mergedBlock) hcl.Diagnostics {
	var diags hcl.Diagnostics
	attrs := map[string]*hclsyntax.Attribute{}
	for _, b := range blocks {
		just, d := b.Body.JustAttributes()
		diags = append(diags, d...)
		for name := range just {
			attrs[name] = b.Body.Attributes[name]
			e.localNames[name] = true
		}
	}
	names := slices.Sorted(maps.Keys(attrs))
	refs := make(map[string][]hcl.Traversal, len(attrs))
	deps := make(map[string][]string, len(attrs))
	for _, name := range names {
		refs[name] = attrs[name].Expr.Variables()
		d, ok := localDeps(refs[name])
		if !ok {
			diags = append(diags, errorAt(attrs[name].Expr.Range(), "Invalid reference to locals",
				"A local can name other locals only as local.NAME, so that locals are evaluated in order."))
			e.poisoned["local."+name] = true
		}
		deps[name] = d
	}
	order, stuck := topoOrder(names, deps)
	for _, name := range order {
		if e.poisoned["local."+name] || !e.refsIn(refs[name], &diags, false) {
			e.poisoned["local."+name] = true
			continue
		}
		val, d := attrs[name].Expr.Value(e.localContext(refs[name]))
		diags = append(diags, d...)
		if d.HasErrors() {
			e.poisoned["local."+name] = true
			continue
		}
		e.locals[name] = val
	}
	for _, name := range stuck {
		e.poisoned["local."+name] = true
	}
	for _, cycle := range findCycles(stuck, deps) {
		diags = append(diags, errorAt(attrs[cycle[0]].NameRange, "Cycle in locals", "%s", cycleText(cycle, "local.")))
	}
	e.refreshContext()
	return diags
}

// localDeps returns the locals that refs name, each once, in the order written; false when
// one is not named (local[var.x]), as its dependency cannot be known before evaluating.
func localDeps(refs []hcl.Traversal) ([]string, bool) {
	var out []string
	seen := map[string]bool{}
	ok := true
	for _, tr := range refs {
		if tr.RootName() != "local" {
			continue
		}
		name, named := traversalAttr(tr)
		if !named {
			ok = false
			continue
		}
		if !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	return out, ok
}

// localContext is the evaluation context of one local: the variables, the functions, and
// the locals refs name (already evaluated, as they come first in the order).
func (e *evaluator) localContext(refs []hcl.Traversal) *hcl.EvalContext {
	locals := map[string]cty.Value{}
	for _, tr := range refs {
		if tr.RootName() != "local" {
			continue
		}
		if name, ok := traversalAttr(tr); ok {
			if v, found := e.locals[name]; found {
				locals[name] = v
			}
		}
	}
	vars := make(map[string]cty.Value, len(e.ctx.Variables))
	for k, v := range e.ctx.Variables {
		vars[k] = v
	}
	vars["local"] = cty.ObjectVal(locals)
	return &hcl.EvalContext{Variables: vars, Functions: e.funcs}
}
