package spec

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// EnvPrefix is the prefix of environment variables that set spec variables: ARCHC_VAR_TAG
// sets variable "TAG".
const EnvPrefix = "ARCHC_VAR_"

// SummaryUndeclaredVar is the summary of the diagnostic for a --var naming a variable the
// spec does not declare.
const SummaryUndeclaredVar = "Undefined variable"

// UndeclaredVar is the Extra of the diagnostic for a variable set (LoadOptions.Vars) that
// the spec does not declare: callers that pass variables on the user's behalf (apply with
// a plan file) recognise it with UndeclaredVars.
type UndeclaredVar struct{ Name string }

// UndeclaredVars returns, sorted, the names of the variables diags say the spec does not
// declare.
func UndeclaredVars(diags hcl.Diagnostics) []string {
	var out []string
	for _, d := range diags {
		if u, ok := d.Extra.(UndeclaredVar); ok {
			out = append(out, u.Name)
		}
	}
	sort.Strings(out)
	return out
}

// Where a variable's value came from, in increasing precedence.
const (
	SourceDefault = "default"
	SourceEnv     = "env"
	SourceFlag    = "flag"
)

type variableBody struct {
	Default     hcl.Expression    `hcl:"default,optional"`
	Type        hcl.Expression    `hcl:"type,optional"`
	Description string            `hcl:"description,optional"`
	Sensitive   bool              `hcl:"sensitive,optional"`
	Validations []validationBlock `hcl:"validation,block"`
}

type validationBlock struct {
	Condition    hcl.Expression `hcl:"condition"`
	ErrorMessage string         `hcl:"error_message"`
}

// evalVariables decides every variable's value (--var > ARCHC_VAR_NAME > default), converts
// it to the declared type and runs its validation blocks.
func (e *evaluator) evalVariables(blocks []*mergedBlock, opts LoadOptions) hcl.Diagnostics {
	var diags hcl.Diagnostics
	env := envVars(opts.Environ)
	declared := map[string]bool{}
	for _, b := range blocks {
		declared[b.Name()] = true
	}
	for _, name := range slices.Sorted(maps.Keys(opts.Vars)) {
		if !declared[name] {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  SummaryUndeclaredVar,
				Extra:    UndeclaredVar{Name: name},
				Detail: fmt.Sprintf("--var %s=... sets a variable the spec does not declare; "+
					"add a variable %q block or drop the flag.", name, name),
			})
		}
	}
	var checks []func() hcl.Diagnostics
	for _, b := range blocks {
		v, check, vdiags := e.evalVariable(b, opts.Vars, env)
		diags = append(diags, vdiags...)
		e.variables = append(e.variables, v)
		if check != nil {
			checks = append(checks, check)
		}
	}
	e.refreshContext()
	for _, check := range checks { // validations may refer to other variables
		diags = append(diags, check()...)
	}
	return diags
}

func (e *evaluator) evalVariable(b *mergedBlock, flags, env map[string]string) (Variable, func() hcl.Diagnostics, hcl.Diagnostics) {
	name := b.Name()
	v := Variable{Name: name, Range: b.DefRange}
	var raw variableBody
	diags := gohcl.DecodeBody(b.Body, e.functionsOnly(), &raw)
	v.Description = raw.Description
	v.Sensitive = raw.Sensitive
	ty := cty.DynamicPseudoType
	typed := false
	if raw.Type != nil && !isNullExpr(raw.Type) {
		t, tdiags := typeexpr.TypeConstraint(raw.Type)
		diags = append(diags, tdiags...)
		if !tdiags.HasErrors() {
			ty, typed = t, true
		}
	}
	if diags.HasErrors() {
		e.poisonVar(name)
		return v, nil, diags
	}
	val, src, d := resolveVariable(name, raw.Default, ty, typed, raw.Sensitive, flags, env, e.functionsOnly())
	for _, diag := range d {
		if diag.Subject == nil {
			diag.Subject = b.DefRange.Ptr()
		}
	}
	diags = append(diags, d...)
	if d.HasErrors() {
		e.poisonVar(name)
		return v, nil, diags
	}
	e.vars[name] = val
	v.Source = src
	switch src {
	case SourceFlag:
		v.Raw = flags[name]
	case SourceEnv:
		v.Raw = env[name]
	}
	v.Type = typeexpr.TypeString(val.Type())
	if typed {
		v.Type = typeexpr.TypeString(ty)
	}
	v.Cty = val
	v.Value = v.display(displayValue(val))
	check := func() hcl.Diagnostics { return e.checkValidations(v, raw.Validations) }
	return v, check, diags
}

// resolveVariable picks the value with the highest precedence and converts it to ty.
func resolveVariable(name string, def hcl.Expression, ty cty.Type, typed, sensitive bool, flags, env map[string]string, ctx *hcl.EvalContext) (cty.Value, string, hcl.Diagnostics) {
	if s, ok := flags[name]; ok {
		return parseVarValue(s, "--var "+name, ty, typed, sensitive)
	}
	if s, ok := env[name]; ok {
		return parseVarValue(s, EnvPrefix+name, ty, typed, sensitive)
	}
	if def == nil || isNullExpr(def) {
		return cty.NilVal, "", hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("No value for variable %q", name),
			Detail: fmt.Sprintf("Variable %q has no default; set it with --var %s=VALUE or %s%s=VALUE.",
				name, name, EnvPrefix, name),
		}}
	}
	val, diags := def.Value(ctx)
	if diags.HasErrors() {
		return cty.NilVal, "", diags
	}
	val, err := convert.Convert(val, ty)
	if err != nil {
		return cty.NilVal, "", hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid default value for variable",
			Detail:   fmt.Sprintf("The default of variable %q is not a %s: %v.", name, typeexpr.TypeString(ty), err),
			Subject:  def.Range().Ptr(),
		}}
	}
	return val, SourceDefault, nil
}

// parseVarValue reads a --var or environment value: verbatim for string variables (and
// untyped ones), as an HCL expression ("[\"a\", \"b\"]", "true", "3") for other types.
func parseVarValue(s, origin string, ty cty.Type, typed, sensitive bool) (cty.Value, string, hcl.Diagnostics) {
	shown := RedactText(s)
	if sensitive {
		shown = sensitiveValue
	}
	src := SourceFlag
	if strings.HasPrefix(origin, EnvPrefix) {
		src = SourceEnv
	}
	if !typed || ty == cty.String {
		return cty.StringVal(s), src, nil
	}
	invalid := func(why string) hcl.Diagnostics {
		hint := ""
		if !ty.IsPrimitiveType() {
			hint = ` Write it in HCL syntax with quoted strings, e.g. ["linux/amd64", "linux/arm64"] for a list or {KEY = "value"} for a map (quote it for the shell).`
		}
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid value for variable",
			Detail:   fmt.Sprintf("%s=%s is not a %s: %s.%s", origin, shown, typeexpr.TypeString(ty), why, hint),
		}}
	}
	val := cty.StringVal(s) // bool and number convert from their string form
	if !ty.IsPrimitiveType() {
		if diags := CheckSource(origin, []byte(s)); diags.HasErrors() {
			return cty.NilVal, "", invalid(diags[0].Summary)
		}
		expr, diags := hclsyntax.ParseExpression([]byte(s), origin, hcl.InitialPos)
		if diags.HasErrors() {
			return cty.NilVal, "", invalid(diags[0].Summary)
		}
		v, diags := expr.Value(nil)
		if diags.HasErrors() {
			return cty.NilVal, "", invalid(diags[0].Summary)
		}
		val = v
	}
	val, err := convert.Convert(val, ty)
	if err != nil {
		return cty.NilVal, "", invalid(err.Error())
	}
	return val, src, nil
}

func (e *evaluator) checkValidations(v Variable, rules []validationBlock) hcl.Diagnostics {
	var diags hcl.Diagnostics
	name := v.Name
	for _, rule := range rules {
		if !e.refsOK(rule.Condition, &diags, false) {
			continue
		}
		val, d := rule.Condition.Value(e.ctx)
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		if val.IsNull() || !val.IsKnown() || val.Type() != cty.Bool {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid validation condition",
				Detail:   "A validation condition must be true or false.",
				Subject:  rule.Condition.Range().Ptr(),
			})
			continue
		}
		if val.False() {
			e.poisoned["var."+name] = true // its users would only repeat the error
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid value for variable",
				Detail:   fmt.Sprintf("var.%s = %s: %s", name, variableDisplay(v), rule.ErrorMessage),
				Subject:  rule.Condition.Range().Ptr(),
			})
		}
	}
	return diags
}

// variableDisplay is a variable's value as a validation error shows it.
func variableDisplay(v Variable) string {
	b, _ := ctyjson.Marshal(v.Cty, v.Cty.Type())
	return v.display(string(b))
}

// sensitiveValue is what views show instead of a sensitive variable's value.
const sensitiveValue = "(sensitive)"

// display is how a variable's rendered value may be shown: not at all when it is
// sensitive, and never with the credentials of a URL in it (a proxy URL with a password
// is the usual reason to pass a variable from the environment).
func (v Variable) display(rendered string) string {
	if v.Sensitive {
		return sensitiveValue
	}
	return RedactText(rendered)
}

func (e *evaluator) poisonVar(name string) {
	e.poisoned["var."+name] = true
	e.vars[name] = cty.DynamicVal
}

// envVars picks ARCHC_VAR_NAME=VALUE entries out of an environment.
func envVars(environ []string) map[string]string {
	out := map[string]string{}
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if ok && strings.HasPrefix(k, EnvPrefix) && len(k) > len(EnvPrefix) {
			out[strings.TrimPrefix(k, EnvPrefix)] = v
		}
	}
	return out
}

// displayValue renders a value for people: strings verbatim, everything else as JSON.
func displayValue(v cty.Value) string {
	if v.Type() == cty.String && v.IsKnown() && !v.IsNull() {
		return v.AsString()
	}
	b, err := ctyjson.Marshal(v, v.Type())
	if err != nil {
		return ""
	}
	return string(b)
}

func isNullExpr(expr hcl.Expression) bool {
	v, diags := expr.Value(nil)
	return !diags.HasErrors() && v.IsNull()
}

// SummaryEnvWithoutPrefix is the summary of the warning for TAG=1.0 set in the environment
// for a declared variable "TAG" that nothing else sets.
const SummaryEnvWithoutPrefix = "Environment variable without the ARCHC_VAR_ prefix"

// envWithoutPrefix warns about bake's habit: `TAG=1.0 archc plan` sets nothing, since
// archc reads only ARCHC_VAR_TAG (an unprefixed name would let any variable of the
// user's shell, HOME or PATH, change a build unnoticed). The warning is given only when
// the variable is not set otherwise, and never shows the value (it may be a secret).
func envWithoutPrefix(blocks []*mergedBlock, opts LoadOptions) hcl.Diagnostics {
	prefixed := envVars(opts.Environ)
	plain := map[string]bool{}
	for _, kv := range opts.Environ {
		if k, _, ok := strings.Cut(kv, "="); ok {
			plain[k] = true
		}
	}
	var diags hcl.Diagnostics
	for _, b := range blocks {
		name := b.Name()
		_, flag := opts.Vars[name]
		_, env := prefixed[name]
		if !plain[name] || flag || env {
			continue
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagWarning,
			Summary:  SummaryEnvWithoutPrefix,
			Detail: fmt.Sprintf("%s is set in the environment, but archc reads variable %q only from %s%s "+
				"(or --var %s=VALUE), so var.%s is not set by it. Export %s%s instead.",
				name, name, EnvPrefix, name, name, name, EnvPrefix, name),
			Subject: b.DefRange.Ptr(),
		})
	}
	return diags
}
