package spec

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/containerd/platforms"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// platformRoot is the name a component's args use for their target platform:
// platform.os, platform.arch, platform.variant.
const platformRoot = "platform"

// platformAttrs are the attributes of the platform object.
var platformAttrs = map[string]bool{"os": true, "arch": true, "variant": true}

// componentArgs evaluates a component's args into c.Args, or, when they use platform, once
// per target platform into c.PlatformArgs (c.Args stays nil then: ArgsFor answers for every
// platform of the component). A null arg is left out, so the Dockerfile's default applies.
func (e *evaluator) componentArgs(expr hcl.Expression, c *Component) hcl.Diagnostics {
	if expr == nil {
		return nil
	}
	var diags hcl.Diagnostics
	var rest []hcl.Traversal
	perPlatform := false
	for _, tr := range expr.Variables() {
		if tr.RootName() != platformRoot {
			rest = append(rest, tr)
			continue
		}
		perPlatform = true
		if name, ok := traversalAttr(tr); !ok || !platformAttrs[name] {
			diags = append(diags, errorAt(tr.SourceRange(), "Unsupported platform attribute",
				"The target platform has os, arch and variant: use platform.os, platform.arch or platform.variant."))
		}
	}
	if !e.refsIn(rest, &diags, false) || diags.HasErrors() {
		return diags
	}
	if !perPlatform {
		args, d := e.evalArgs(expr, e.ctx)
		c.Args = args
		return append(diags, d...)
	}
	// The same mistake on several platforms is reported once, naming them.
	var failed hcl.Diagnostics
	onPlatforms := map[string][]string{}
	c.PlatformArgs = map[string]map[string]string{}
	for _, p := range c.Platforms {
		args, d := e.evalArgs(expr, platformContext(e.ctx, p))
		for _, diag := range d {
			key := diag.Summary + diag.Detail + diag.Subject.String()
			if onPlatforms[key] == nil {
				failed = append(failed, diag)
			}
			onPlatforms[key] = append(onPlatforms[key], p)
		}
		if !d.HasErrors() {
			c.PlatformArgs[p] = args
		}
	}
	for _, diag := range failed {
		key := diag.Summary + diag.Detail + diag.Subject.String()
		diag.Detail = strings.TrimSuffix(diag.Detail, ".") + fmt.Sprintf(" (args for target platform %s).", strings.Join(onPlatforms[key], ", "))
	}
	return append(diags, failed...)
}

// platformContext is ctx with platform set to p's parts.
func platformContext(ctx *hcl.EvalContext, p string) *hcl.EvalContext {
	sp, err := platforms.Parse(p)
	if err != nil {
		return ctx // c.Platforms are validated: only a hand-made Spec gets here
	}
	sp = platforms.Normalize(sp)
	child := ctx.NewChild()
	child.Variables = map[string]cty.Value{platformRoot: cty.ObjectVal(map[string]cty.Value{
		"os": cty.StringVal(sp.OS), "arch": cty.StringVal(sp.Architecture), "variant": cty.StringVal(sp.Variant),
	})}
	return child
}

// evalArgs evaluates args in ctx: an object or map whose values are strings, numbers, bools
// or null (left out).
func (e *evaluator) evalArgs(expr hcl.Expression, ctx *hcl.EvalContext) (map[string]string, hcl.Diagnostics) {
	v, diags := expr.Value(ctx)
	if diags.HasErrors() {
		return nil, diags
	}
	if v.IsNull() {
		return nil, nil
	}
	ty := v.Type()
	if !ty.IsObjectType() && !ty.IsMapType() || !v.IsKnown() {
		return nil, hcl.Diagnostics{errorAt(expr.Range(), "Unsuitable value type",
			"args is a map of build arg names to values, e.g. { VERSION = \"1.2\", ARCH = platform.arch }.")}
	}
	out := map[string]string{}
	vals := v.AsValueMap()
	for _, k := range slices.Sorted(maps.Keys(vals)) {
		val := vals[k]
		if val.IsNull() {
			continue
		}
		s, err := convert.Convert(val, cty.String)
		if err != nil || !s.IsKnown() {
			diags = append(diags, errorAt(keyRange(expr, k), "Unsuitable value type",
				"args.%s must be a string, number or bool, or null for the Dockerfile's default.", k))
			continue
		}
		out[k] = s.AsString()
	}
	return out, diags
}
