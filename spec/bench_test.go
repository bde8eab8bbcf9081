package spec

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// localsChain is a spec of n locals, each naming the one before: written last to first, so
// a name-ordered fixpoint needs n passes.
func localsChain(n int) []byte {
	var b strings.Builder
	b.WriteString("locals {\n")
	for i := n - 1; i > 0; i-- {
		fmt.Fprintf(&b, "  a%d = local.a%d + 1\n", i, i-1)
	}
	b.WriteString("  a0 = 1\n}\n")
	return []byte(b.String())
}

// variablesSpec is a spec of n variables, each with a default and a validation.
func variablesSpec(n int) []byte {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "variable \"v%d\" {\n  default = \"x%d\"\n  validation {\n    condition     = var.v%d != \"\"\n    error_message = \"empty\"\n  }\n}\n", i, i, i)
	}
	return []byte(b.String())
}

func loadBytes(tb testing.TB, b []byte) *Spec {
	tb.Helper()
	dir := tb.TempDir()
	name := filepath.Join(dir, "archbuild.hcl")
	if err := os.WriteFile(name, b, 0o644); err != nil {
		tb.Fatal(err)
	}
	s, diags := Load(LoadOptions{Files: []string{name}})
	if diags.HasErrors() {
		tb.Fatal(diags)
	}
	return s
}

// BenchmarkLocals reports ns/local for chains of 2,000 and 50,000 locals: the two figures
// stay close when evaluation is linear (it was quadratic, then some).
func BenchmarkLocals(b *testing.B) {
	for _, n := range []int{2000, 50000} {
		src := localsChain(n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for range b.N {
				loadBytes(b, src)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/local")
		})
	}
}

// BenchmarkVariables reports ns/variable for 2,000 and 50,000 validated variables.
func BenchmarkVariables(b *testing.B) {
	for _, n := range []int{2000, 50000} {
		src := variablesSpec(n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for range b.N {
				loadBytes(b, src)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/variable")
		})
	}
}
