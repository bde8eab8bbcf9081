package spec

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/json"
	"github.com/zclconf/go-cty/cty"
)

// DefaultFile is the spec read when none is named; DefaultJSONFile is its JSON-syntax
// twin, read when DefaultFile is absent (generated specs).
const (
	DefaultFile     = "archbuild.hcl"
	DefaultJSONFile = "archbuild.hcl.json"
)

// FindDefault returns the spec file to read in dir when none is named: archbuild.hcl, or
// archbuild.hcl.json when only that one exists. The result is relative to dir (dir joined
// when dir is not ""), and names archbuild.hcl when neither exists, so the error says
// which file was expected.
func FindDefault(dir string) string {
	if _, err := os.Stat(filepath.Join(dir, DefaultFile)); err != nil {
		if _, err := os.Stat(filepath.Join(dir, DefaultJSONFile)); err == nil {
			return filepath.Join(dir, DefaultJSONFile)
		}
	}
	return filepath.Join(dir, DefaultFile)
}

// isJSONSpec tells a spec in HCL's JSON syntax by its name, as HCL's own tools do.
func isJSONSpec(name string) bool { return strings.HasSuffix(name, ".json") }

// jsonNestedBlocks are, per block type, the nested block types its body may hold. JSON
// cannot tell a block from an object-valued attribute without a schema, so the translation
// asks for these by name and treats every other property as an attribute; the evaluator
// then rejects what does not belong, as it does for native syntax.
var jsonNestedBlocks = map[string][]hcl.BlockHeaderSchema{
	blockVariable:  {{Type: "validation"}},
	blockComponent: {{Type: blockAttest}},
}

// parseJSONSpec parses a spec in HCL's JSON syntax into the native syntax tree the rest of
// the package reads (merging, decode, ranges). Expressions stay JSON expressions ("${…}"
// templates are evaluated as in native syntax), wrapped to fit hclsyntax.Expression.
func parseJSONSpec(src []byte, filename string) (*hclsyntax.Body, hcl.Diagnostics) {
	f, diags := json.Parse(src, filename)
	if diags.HasErrors() {
		return nil, diags
	}
	all := hcl.Range{Filename: filename, Start: hcl.InitialPos, End: posAt(src, len(src))}
	schema := &hcl.BodySchema{Blocks: rootSchema.Blocks}
	body, d := jsonBody(f.Body, schema, all)
	return body, append(diags, d...)
}

// jsonBody translates one JSON body: the blocks schema names, then everything else as
// attributes.
func jsonBody(b hcl.Body, schema *hcl.BodySchema, rng hcl.Range) (*hclsyntax.Body, hcl.Diagnostics) {
	content, remain, diags := b.PartialContent(schema)
	attrs, d := remain.JustAttributes()
	diags = append(diags, d...)
	out := &hclsyntax.Body{Attributes: hclsyntax.Attributes{}, SrcRange: rng, EndRange: hcl.Range{Filename: rng.Filename, Start: rng.End, End: rng.End}}
	for name, a := range attrs {
		out.Attributes[name] = &hclsyntax.Attribute{
			Name: name, Expr: &jsonExpr{Expression: &hclsyntax.LiteralValueExpr{SrcRange: a.Expr.Range()}, inner: a.Expr},
			SrcRange: a.Range, NameRange: a.NameRange, EqualsRange: a.NameRange,
		}
	}
	for _, blk := range content.Blocks {
		nested := &hcl.BodySchema{Blocks: jsonNestedBlocks[blk.Type]}
		body, d := jsonBody(blk.Body, nested, blk.DefRange)
		diags = append(diags, d...)
		out.Blocks = append(out.Blocks, &hclsyntax.Block{
			Type: blk.Type, Labels: blk.Labels, Body: body,
			TypeRange: blk.TypeRange, LabelRanges: blk.LabelRanges,
			OpenBraceRange: blk.DefRange, CloseBraceRange: blk.DefRange,
		})
	}
	return out, diags
}

// jsonExpr is a JSON expression posing as a native one. The embedded literal only supplies
// hclsyntax's unexported tree walk (a JSON value has no native children); every method the
// spec uses is the JSON expression's, and UnwrapExpression lets hcl.ExprList, ExprMap and
// traversal analysis see the JSON expression itself.
type jsonExpr struct {
	hclsyntax.Expression
	inner hcl.Expression
}

func (x *jsonExpr) Value(ctx *hcl.EvalContext) (cty.Value, hcl.Diagnostics) {
	return x.inner.Value(ctx)
}
func (x *jsonExpr) Variables() []hcl.Traversal       { return x.inner.Variables() }
func (x *jsonExpr) Range() hcl.Range                 { return x.inner.Range() }
func (x *jsonExpr) StartRange() hcl.Range            { return x.inner.StartRange() }
func (x *jsonExpr) UnwrapExpression() hcl.Expression { return x.inner }
