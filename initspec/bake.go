package initspec

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"github.com/archc-dev/archc/spec"
)

// bakeAttrs are the target attributes carried over as they are, bake name → archc name
// (DESIGN.md: bake's name with _ for -, same meaning).
var bakeAttrs = map[string]string{
	"context": "context", "dockerfile": "dockerfile", "args": "args", "tags": "tags",
	"platforms": "platforms", "target": "target", "labels": "labels",
	"cache-from": "cache_from", "cache-to": "cache_to", "no-cache": "no_cache",
}

// bakeFile is a parsed docker-bake.hcl and the names of its variables.
type bakeFile struct {
	name string // the file's base name, for comments
	src  []byte
	syn  *hclsyntax.Body
	vars []string
}

// bake converts a docker-bake.hcl: targets become components, variables variables, groups
// comments. Bake names its variables bare (${TAG}); the spec says var.TAG. Everything that
// cannot be carried over is listed in the report and as a comment where it was.
func (g *generator) bake(path, dir string) error {
	src, err := spec.ReadSourceFile(path)
	if err != nil {
		return fmt.Errorf("read bake file: %w", err)
	}
	// The bounds every spec and lock read gets (size, text, nesting), before HCL parses.
	if diags := spec.CheckSource(path, src); diags.HasErrors() {
		return fmt.Errorf("bake file %s: %s", path, diags.Error())
	}
	syn, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
	if diags.HasErrors() {
		return fmt.Errorf("parse bake file %s: %s", path, diags.Error())
	}
	bf := &bakeFile{name: filepath.Base(path), src: src, syn: syn.Body.(*hclsyntax.Body)}
	for _, b := range bf.syn.Blocks {
		if b.Type == "variable" && len(b.Labels) == 1 {
			bf.vars = append(bf.vars, b.Labels[0])
		}
	}
	for _, name := range slices.Sorted(maps.Keys(bf.syn.Attributes)) {
		g.note("bake attribute "+name, bf.name, "not carried over (archc has no top-level "+name+")")
	}
	body := g.comps.Body()
	comment(body, "Components converted from the targets of "+bf.name+".")
	for _, b := range bf.syn.Blocks {
		switch {
		case b.Type == "variable" && len(b.Labels) == 1:
			g.bakeVariable(bf, b)
		case b.Type == "group" && len(b.Labels) == 1:
			g.bakeGroup(bf, b)
		case b.Type == "target" && len(b.Labels) == 1:
			g.bakeTarget(bf, b)
		default:
			g.note(fmt.Sprintf("bake %s %s", b.Type, strings.Join(b.Labels, " ")), bf.name, "not carried over (archc has no such block)")
		}
	}
	return nil
}

// expr returns an expression's tokens with bake's bare variable names turned into
// var.NAME. hclsyntax finds the references (object keys and for-expression names are not
// ones); the edited source is parsed again by hclwrite, which formats it.
func (bf *bakeFile) expr(e hclsyntax.Expression) hclwrite.Tokens {
	rng := e.Range()
	src := rng.SliceBytes(bf.src)
	var at []int
	for _, t := range hclsyntax.Variables(e) {
		if slices.Contains(bf.vars, t.RootName()) {
			at = append(at, t.SourceRange().Start.Byte-rng.Start.Byte)
		}
	}
	slices.Sort(at)
	var b strings.Builder
	last := 0
	for _, off := range at {
		b.Write(src[last:off])
		b.WriteString("var.")
		last = off
	}
	b.Write(src[last:])
	tokens, ok := templateTokens(b.String())
	if !ok { // cannot happen for an expression that parsed; keep it as it was
		tokens, _ = templateTokens(string(src))
	}
	return tokens
}

// bakeVariable writes a variable with the bake variable's default and description; a bake
// variable without a default is "" (bake's rule), not a required variable.
func (g *generator) bakeVariable(bf *bakeFile, b *hclsyntax.Block) {
	name := b.Labels[0]
	body := g.vars.Body()
	if len(body.BuildTokens(nil)) > 0 {
		body.AppendNewline()
	}
	comment(body, "From "+bf.name+". Set it with ARCHC_VAR_"+name+" or --var "+name+"=... (not $"+name+" as bake does).")
	out := body.AppendNewBlock("variable", []string{name}).Body()
	var dropped []string
	for _, an := range inSourceOrder(b.Body.Attributes) {
		switch an {
		case "default", "description", "type":
			out.SetAttributeRaw(an, bf.expr(b.Body.Attributes[an].Expr))
		default:
			dropped = append(dropped, an)
		}
	}
	if b.Body.Attributes["default"] == nil {
		out.SetAttributeValue("default", cty.StringVal(""))
	}
	for _, nb := range b.Body.Blocks {
		dropped = append(dropped, nb.Type+" block")
	}
	g.bakeNote(fmt.Sprintf("variable %q", name), bf.name+` variable "`+name+`"`, dropped, out)
}

// bakeGroup records a group as a comment: archc builds every component, or those named.
func (g *generator) bakeGroup(bf *bakeFile, b *hclsyntax.Block) {
	targets := "?"
	if a := b.Body.Attributes["targets"]; a != nil {
		targets = strings.TrimSpace(string(a.Expr.Range().SliceBytes(bf.src)))
	}
	body := g.comps.Body()
	comment(body, fmt.Sprintf("group %q from %s: targets = %s. archc builds every component, or those", b.Labels[0], bf.name, targets),
		"named with --component.")
	g.note(fmt.Sprintf("bake group %q", b.Labels[0]), bf.name, "written as a comment (select components with --component)")
}

// bakeTarget writes a component from a target.
func (g *generator) bakeTarget(bf *bakeFile, b *hclsyntax.Block) {
	name := b.Labels[0]
	body := g.comps.Body()
	body.AppendNewline()
	out := body.AppendNewBlock("component", []string{name}).Body()
	var dropped []string
	for _, an := range inSourceOrder(b.Body.Attributes) {
		switch to, ok := bakeAttrs[an]; {
		case ok:
			out.SetAttributeRaw(to, bf.expr(b.Body.Attributes[an].Expr))
		case an == "contexts":
			tokens, bad := bakeContexts(b.Body.Attributes[an].Expr)
			dropped = append(dropped, bad...)
			if tokens != nil {
				out.SetAttributeRaw("contexts", tokens)
			}
		default:
			dropped = append(dropped, an)
		}
	}
	for _, nb := range b.Body.Blocks {
		dropped = append(dropped, nb.Type+" block")
	}
	g.bakeNote(fmt.Sprintf("component %q", name), bf.name+` target "`+name+`"`, dropped, out)
}

// bakeNote reports a converted block and lists, in the report and as a comment in the
// block, what was not carried over.
func (g *generator) bakeNote(subject, source string, dropped []string, out *hclwrite.Body) {
	if len(dropped) == 0 {
		g.note(subject, source, "")
		return
	}
	list := strings.Join(dropped, ", ")
	comment(out, "Not carried over from "+source+": "+list+".")
	g.note(subject, source, "not carried over: "+list)
}

// bakeContexts converts a target's contexts: "target:X" becomes component.X, a literal
// docker-image:// or path stays; any other value (a URL, an expression) is left out.
func bakeContexts(e hclsyntax.Expression) (hclwrite.Tokens, []string) {
	obj, ok := e.(*hclsyntax.ObjectConsExpr)
	if !ok {
		return nil, []string{"contexts (not an object literal)"}
	}
	var items []hclwrite.ObjectAttrTokens
	var dropped []string
	for _, it := range obj.Items {
		k, kd := it.KeyExpr.Value(nil)
		v, vd := it.ValueExpr.Value(nil)
		if kd.HasErrors() || vd.HasErrors() || k.Type() != cty.String || v.Type() != cty.String || v.IsNull() {
			dropped = append(dropped, "a contexts entry that is not a literal string")
			continue
		}
		key, val := k.AsString(), v.AsString()
		var vt hclwrite.Tokens
		switch {
		case strings.HasPrefix(val, "target:"):
			vt = hclwrite.TokensForTraversal(hcl.Traversal{hcl.TraverseRoot{Name: "component"}, hcl.TraverseAttr{Name: strings.TrimPrefix(val, "target:")}})
		case strings.HasPrefix(val, "docker-image://") || !strings.Contains(val, "://"):
			vt = hclwrite.TokensForValue(cty.StringVal(val))
		default:
			dropped = append(dropped, fmt.Sprintf("contexts.%s (%s)", key, strings.SplitN(val, "://", 2)[0]+"://..."))
			continue
		}
		items = append(items, hclwrite.ObjectAttrTokens{Name: hclwrite.TokensForValue(cty.StringVal(key)), Value: vt})
	}
	if len(items) == 0 {
		return nil, dropped
	}
	return hclwrite.TokensForObject(items), dropped
}

// inSourceOrder returns the attribute names in the order the file has them.
func inSourceOrder(attrs hclsyntax.Attributes) []string {
	names := slices.Collect(maps.Keys(attrs))
	slices.SortFunc(names, func(a, b string) int { return attrs[a].SrcRange.Start.Byte - attrs[b].SrcRange.Start.Byte })
	return names
}
