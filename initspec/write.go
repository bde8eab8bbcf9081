package initspec

import (
	"bytes"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// generator builds the spec section by section (variables, platforms, proxy, registries,
// components), so that a section found later (a credential variable) still lands first.
type generator struct {
	vars, top, proxyS, regs, comps *hclwrite.File
	notes                          []Note
	placeholders                   map[string]string
}

func newGenerator() *generator {
	return &generator{vars: hclwrite.NewEmptyFile(), top: hclwrite.NewEmptyFile(), proxyS: hclwrite.NewEmptyFile(),
		regs: hclwrite.NewEmptyFile(), comps: hclwrite.NewEmptyFile(), placeholders: map[string]string{}}
}

const header = `# archbuild.hcl, written by "archc init" from the Docker settings and the project it found.
# Review it, then run "archc lock" (pins the base images) and "archc plan" (shows the builds).
`

// bytes joins the sections, each separated by a blank line, and formats the whole.
func (g *generator) bytes() []byte {
	var b bytes.Buffer
	b.WriteString(header)
	for _, f := range []*hclwrite.File{g.vars, g.top, g.proxyS, g.regs, g.comps} {
		if src := bytes.TrimSpace(f.Bytes()); len(src) > 0 {
			b.WriteString("\n")
			b.Write(src)
			b.WriteString("\n")
		}
	}
	out := bytes.TrimRight(hclwrite.Format(b.Bytes()), "\n")
	return append(out, '\n')
}

func (g *generator) note(subject, source, format string) {
	g.notes = append(g.notes, Note{Subject: subject, Source: source, Detail: format})
}

// comment appends "# line" for each line to body.
func comment(body *hclwrite.Body, lines ...string) {
	for _, l := range lines {
		for _, part := range strings.Split(l, "\n") {
			body.AppendUnstructuredTokens(hclwrite.Tokens{{Type: hclsyntax.TokenComment, Bytes: []byte(strings.TrimRight("# "+part, " ") + "\n")}})
		}
	}
}

// platforms writes the top-level platforms attribute.
func (g *generator) platforms(list []string, asked bool) {
	body := g.top.Body()
	comment(body, "The platforms every component builds, unless it sets its own platforms.")
	body.SetAttributeValue("platforms", stringList(list))
	src := "default of archc init"
	if asked {
		src = "--platform"
	}
	g.note("platforms", src, strings.Join(list, ", "))
}

func stringList(list []string) cty.Value {
	if len(list) == 0 {
		return cty.ListValEmpty(cty.String)
	}
	vals := make([]cty.Value, len(list))
	for i, s := range list {
		vals[i] = cty.StringVal(s)
	}
	return cty.ListVal(vals)
}

// templateTokens returns the tokens of the HCL template src (a quoted string that may hold
// ${...} interpolations), parsed rather than assembled by hand so hclwrite formats it.
func templateTokens(src string) (hclwrite.Tokens, bool) {
	f, diags := hclwrite.ParseConfig([]byte("x = "+src+"\n"), "", hcl.InitialPos)
	if diags.HasErrors() {
		return nil, false
	}
	a := f.Body().GetAttribute("x")
	if a == nil {
		return nil, false
	}
	return a.Expr().BuildTokens(nil), true
}

// quoteLiteral quotes s as an HCL string literal: escapes, and $${ / %%{ so nothing in s
// is read as a template.
func quoteLiteral(s string) string {
	return string(hclwrite.TokensForValue(cty.StringVal(s)).Bytes())
}
