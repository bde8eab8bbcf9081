package spec

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"sort"

	"github.com/agext/levenshtein"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// componentRefPrefix is what component.NAME evaluates to. contexts and depends_on read it
// back; a literal "component:NAME" string means the same.
const componentRefPrefix = "component:"

// evaluator holds what expressions can see: var, local, component and the functions.
// Names whose definition failed are "poisoned": expressions using them are skipped
// silently, so one mistake yields one diagnostic rather than a cascade.
type evaluator struct {
	funcs      map[string]function.Function
	vars       map[string]cty.Value
	locals     map[string]cty.Value
	localNames map[string]bool
	components map[string]bool
	poisoned   map[string]bool // "var.NAME", "local.NAME"
	// suggestions counts the "Did you mean" searches made (see maxSuggestions).
	suggestions int
	variables   []Variable
	dirs        map[string]string // spec filename as parsed -> its absolute directory
	defaultDir  string
	ctx         *hcl.EvalContext
}

func newEvaluator(doc *document, dirs map[string]string, defaultDir string) *evaluator {
	e := &evaluator{
		funcs:      functions(),
		vars:       map[string]cty.Value{},
		locals:     map[string]cty.Value{},
		localNames: map[string]bool{},
		components: map[string]bool{},
		poisoned:   map[string]bool{},
		dirs:       dirs,
		defaultDir: defaultDir,
	}
	for _, b := range doc.Blocks(blockComponent) {
		e.components[b.Name()] = true
	}
	e.refreshContext()
	return e
}

func (e *evaluator) refreshContext() {
	comps := map[string]cty.Value{}
	for name := range e.components {
		comps[name] = cty.StringVal(componentRefPrefix + name)
	}
	e.ctx = &hcl.EvalContext{
		Variables: map[string]cty.Value{
			"var":       cty.ObjectVal(e.vars),
			"local":     cty.ObjectVal(e.locals),
			"component": cty.ObjectVal(comps),
		},
		Functions: e.funcs,
	}
}

// functionsOnly is the context for variable blocks: functions, no other names.
func (e *evaluator) functionsOnly() *hcl.EvalContext {
	return &hcl.EvalContext{Functions: e.funcs}
}

// refsOK checks every var., local. and component. reference in expr, reporting undefined
// names at their exact range. It returns false when expr must not be evaluated.
func (e *evaluator) refsOK(expr hcl.Expression, diags *hcl.Diagnostics, componentRefs bool) bool {
	return e.refsIn(expr.Variables(), diags, componentRefs)
}

// refsIn is refsOK for an expression's traversals, found already.
func (e *evaluator) refsIn(refs []hcl.Traversal, diags *hcl.Diagnostics, componentRefs bool) bool {
	ok := true
	for _, tr := range refs {
		name, named := traversalAttr(tr)
		rng := tr.SourceRange().Ptr()
		switch tr.RootName() {
		case "var":
			if !named {
				continue // let HCL explain var[0] and friends
			}
			if e.poisoned["var."+name] {
				ok = false
			} else if _, found := e.vars[name]; !found {
				*diags = append(*diags, undefinedRef(e, "variable", "var", name, e.vars, rng))
				ok = false
			}
		case "local":
			if !named {
				continue
			}
			if e.poisoned["local."+name] {
				ok = false
			} else if !e.localNames[name] {
				*diags = append(*diags, undefinedRef(e, "local", "local", name, e.localNames, rng))
				ok = false
			}
		case platformRoot:
			*diags = append(*diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Platform reference not allowed here",
				Detail: "platform.os, platform.arch and platform.variant may only be used in a component's args, " +
					"which are evaluated once per target platform.",
				Subject: rng,
			})
			ok = false
		case "component":
			if !componentRefs {
				*diags = append(*diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Component reference not allowed here",
					Detail:   "component.NAME may only be used in contexts and depends_on.",
					Subject:  rng,
				})
				ok = false
			} else if named && !e.components[name] {
				*diags = append(*diags, undefinedRef(e, "component", "component", name, e.components, rng))
				ok = false
			}
		}
	}
	return ok
}

// maxSuggestions bounds the "Did you mean" searches of one load: each compares the name
// with every known one, so 50,000 undefined references among 50,000 locals would take
// minutes for suggestions no one reads past the first screen.
const maxSuggestions = 100

// undefinedRef is the diagnostic for a reference to an undefined name, with a suggestion
// while e's budget lasts.
func undefinedRef[V any](e *evaluator, what, root, name string, known map[string]V, rng *hcl.Range) *hcl.Diagnostic {
	detail := fmt.Sprintf("There is no %s named %q.", what, name)
	if e.suggestions < maxSuggestions {
		e.suggestions++
		if s := Suggest(name, known); s != "" {
			detail += fmt.Sprintf(" Did you mean %s.%s?", root, s)
		}
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Undefined " + what,
		Detail:   detail,
		Subject:  rng,
	}
}

// Suggest returns the known name closest to name, if it is close enough to be a typo
// ("" otherwise): the one rule behind every "Did you mean" archc prints.
func Suggest[V any](name string, known map[string]V) string {
	best, bestDist := "", 3
	for _, k := range slices.Sorted(maps.Keys(known)) {
		if d := levenshtein.Distance(name, k, nil); d < bestDist {
			best, bestDist = k, d
		}
	}
	return best
}

// traversalAttr returns the name after the root: "x" in var.x and var["x"].
func traversalAttr(tr hcl.Traversal) (string, bool) {
	if len(tr) < 2 {
		return "", false
	}
	switch step := tr[1].(type) {
	case hcl.TraverseAttr:
		return step.Name, true
	case hcl.TraverseIndex:
		if step.Key.Type() == cty.String && step.Key.IsKnown() && !step.Key.IsNull() {
			return step.Key.AsString(), true
		}
	}
	return "", false
}

// decode evaluates a merged block into the gohcl struct out. Attributes with undefined
// references are reported and left out, so the rest of the block is still checked.
func (e *evaluator) decode(b *mergedBlock, out any, componentAttrs ...string) hcl.Diagnostics {
	var diags hcl.Diagnostics
	body := &hclsyntax.Body{
		Attributes: hclsyntax.Attributes{},
		Blocks:     b.Body.Blocks,
		SrcRange:   b.Body.SrcRange,
		EndRange:   b.Body.EndRange,
	}
	for _, name := range slices.Sorted(maps.Keys(b.Body.Attributes)) {
		attr := b.Body.Attributes[name]
		if lazyAttrs[b.Type][name] {
			body.Attributes[name] = attr // decoded as an hcl.Expression, evaluated by the caller
			continue
		}
		allowed := false
		for _, c := range componentAttrs {
			allowed = allowed || c == name
		}
		if !e.refsOK(attr.Expr, &diags, allowed) {
			continue
		}
		// Evaluate once here so a failing expression is reported once, not again by gohcl
		// as an unsuitable (unknown) value.
		if _, d := attr.Expr.Value(e.ctx); d.HasErrors() {
			diags = append(diags, d...)
			continue
		}
		body.Attributes[name] = attr
	}
	diags = append(diags, gohcl.DecodeBody(body, e.ctx, out)...)
	return diags
}

// lazyAttrs are the attributes decode hands over unevaluated (their gohcl field is an
// hcl.Expression): a component's args see `platform`, so they are evaluated once per target
// platform by componentArgs, with a context decode does not have.
var lazyAttrs = map[string]map[string]bool{blockComponent: {"args": true}}

// attr returns the attribute name of block b, or nil when it is not set.
func attr(b *mergedBlock, name string) *hclsyntax.Attribute {
	return b.Body.Attributes[name]
}

// path resolves p against the directory of the file that rng is in.
func (e *evaluator) path(rng hcl.Range, p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	dir, ok := e.dirs[rng.Filename]
	if !ok {
		dir = e.defaultDir
	}
	return filepath.Join(dir, p)
}

// sortedNames returns the keys of a set in order.
func sortedNames(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
