package spec

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zclconf/go-cty/cty"
)

// TestLocalsManyEvaluate: 50,000 locals, chained last to first, evaluate in dependency order
// (it took minutes when every local rebuilt the whole context and passes ran to a fixpoint).
func TestLocalsManyEvaluate(t *testing.T) {
	if testing.Short() {
		t.Skip("50,000 locals take a couple of seconds")
	}
	t.Parallel()
	start := time.Now()
	s := loadBytes(t, localsChain(50000))
	t.Logf("50,000 locals in %s", time.Since(start))
	require.NotNil(t, s)
}

func TestLocalsOrderAndValues(t *testing.T) {
	t.Parallel()
	e := &evaluator{funcs: functions(), vars: map[string]cty.Value{}, locals: map[string]cty.Value{},
		localNames: map[string]bool{}, components: map[string]bool{}, poisoned: map[string]bool{}}
	e.refreshContext()
	doc := parseDoc(t, `
locals {
  c = "${local.b}c"
  a = "a"
  b = "${local.a}b"
  d = [local.c, local.a]
}
`)
	require.Empty(t, e.evalLocals(doc.Blocks(blockLocals)))
	assert.Equal(t, cty.StringVal("abc"), e.locals["c"])
	assert.Equal(t, cty.TupleVal([]cty.Value{cty.StringVal("abc"), cty.StringVal("a")}), e.locals["d"])
	assert.Equal(t, cty.StringVal("ab"), e.ctx.Variables["local"].GetAttr("b"), "the full context, once all are done")
}

func TestLocalsCycles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		src    string
		want   []string
		detail []string
	}{
		{"self", "locals {\n  a = local.a\n}\n", []string{"2:3: error: Cycle in locals"}, []string{"local.a -> local.a"}},
		{"two cycles, one behind", "locals {\n  z = local.y\n  y = local.z\n  b = local.a\n  a = local.b\n  c = local.a\n}\n",
			[]string{"5:3: error: Cycle in locals", "3:3: error: Cycle in locals"},
			[]string{"local.a -> local.b -> local.a", "local.y -> local.z -> local.y"}},
		{"a long cycle is elided", longCycle(100), []string{"2:3: error: Cycle in locals"},
			[]string{"local.a000 -> local.a001 -> local.a002 -> local.a003 -> local.a004 -> local.a005 -> local.a006 -> local.a007 -> … (85 more) -> local.a093"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := &evaluator{funcs: functions(), vars: map[string]cty.Value{}, locals: map[string]cty.Value{},
				localNames: map[string]bool{}, components: map[string]bool{}, poisoned: map[string]bool{}}
			e.refreshContext()
			diags := e.evalLocals(parseDoc(t, tt.src).Blocks(blockLocals))
			var got, details []string
			for _, d := range diags {
				got = append(got, strings.TrimPrefix(diagString(d), "spec.hcl:"))
				details = append(details, d.Detail)
			}
			assert.Equal(t, tt.want, got)
			require.Len(t, details, len(tt.detail))
			for i := range details {
				assert.Contains(t, details[i], tt.detail[i])
			}
		})
	}
}

// longCycle is a spec of n locals a000 -> a001 -> ... -> a000.
func longCycle(n int) string {
	var b strings.Builder
	b.WriteString("locals {\n")
	for i := range n {
		fmt.Fprintf(&b, "  a%03d = local.a%03d\n", i, (i+1)%n)
	}
	b.WriteString("}\n")
	return b.String()
}

func TestTopoOrder(t *testing.T) {
	t.Parallel()
	order, stuck := topoOrder([]string{"a", "b", "c", "d", "e", "x", "y"}, map[string][]string{
		"a": {"c"}, "b": {"a", "ghost"}, "d": {}, "x": {"y"}, "y": {"x"}, "e": {"x"},
	})
	assert.Equal(t, []string{"c", "a", "b", "d"}, order)
	assert.Equal(t, []string{"e", "x", "y"}, stuck)
	assert.Equal(t, [][]string{{"x", "y"}}, findCycles(stuck, map[string][]string{"x": {"y"}, "y": {"x"}, "e": {"x"}}))
}

// TestFindCyclesBounded: a graph with many back edges names maxNamedCycles of them, fast.
func TestFindCyclesBounded(t *testing.T) {
	t.Parallel()
	const n = 20000
	names := make([]string, n)
	deps := map[string][]string{}
	for i := range names {
		names[i] = fmt.Sprintf("n%05d", i)
	}
	for i := range names {
		if i+1 < n {
			deps[names[i]] = []string{names[i+1]}
		}
	}
	deps[names[n-1]] = names // every node closes a cycle through the last
	cycles := findCycles(names, deps)
	assert.Len(t, cycles, maxNamedCycles)
	assert.Len(t, cycles[0], n)
}

// parseDoc parses and merges one spec source named spec.hcl.
func parseDoc(t *testing.T, src string) *document {
	t.Helper()
	f, diags := hclsyntax.ParseConfig([]byte(src), "spec.hcl", hcl.InitialPos)
	require.False(t, diags.HasErrors(), diags.Error())
	doc, diags := mergeBodies([]*hclsyntax.Body{f.Body.(*hclsyntax.Body)})
	require.False(t, diags.HasErrors(), diags.Error())
	return doc
}
