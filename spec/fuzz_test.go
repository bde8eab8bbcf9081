package spec

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad feeds arbitrary bytes to the whole pipeline (check, parse, merge, evaluate,
// check, order) and prints the diagnostics: it must return diagnostics, never panic or
// overflow the stack, and print no control character. Seeds are the test specs and the
// hostile shapes of issue 11; crashers found so far live in testdata/fuzz/FuzzLoad.
func FuzzLoad(f *testing.F) {
	for _, seed := range hostileSeeds() {
		f.Add(seed)
	}
	for _, pattern := range []string{"bad/*.hcl", "good/*.hcl", "merge/*.hcl", "../../examples/*.hcl"} {
		files, _ := filepath.Glob(filepath.Join(testdata, pattern))
		for _, name := range files {
			b, err := os.ReadFile(name)
			if err == nil {
				f.Add(b)
			}
		}
	}
	// Specs are resolved against testdata/spec/bad, so ../ctx paths exist.
	dir, err := filepath.Abs(filepath.Join(testdata, "bad"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		src := source{Name: filepath.Join(dir, "fuzz.hcl"), Abs: filepath.Join(dir, "fuzz.hcl"), AbsDir: dir, Bytes: b}
		s, diags := load([]source{src}, LoadOptions{
			Environ: []string{"ARCHC_VAR_TAG=v1", "ARCHC_VAR_PLATFORMS=[\"linux/amd64\"]", "ARCHC_VAR_N=3"},
		})
		if s == nil && !diags.HasErrors() {
			t.Fatal("no spec and no error")
		}
		if s != nil {
			_ = s.Normalized()
		}
		var out bytes.Buffer
		if err := WriteDiagnostics(&out, diags, false); err != nil {
			t.Fatal(err)
		}
		if i := strings.IndexFunc(out.String(), func(r rune) bool { return r < 0x20 && r != '\n' && r != '\t' }); i >= 0 {
			t.Fatalf("control character in diagnostics at %d: %q", i, out.String())
		}
		if n := strings.Count(out.String(), "\n\n"); n > MaxDiagnosticsShown {
			t.Fatalf("%d diagnostics printed", n)
		}
	})
}

// hostileSeeds are the shapes that once crashed, hung or flooded archc: deep nesting of
// each kind, binary data, long chains of locals, escape sequences, thousands of errors.
func hostileSeeds() [][]byte {
	rep := strings.Repeat
	var chain strings.Builder
	chain.WriteString("locals {\n  a0 = \"x\"\n")
	for i := 1; i < 300; i++ {
		fmt.Fprintf(&chain, "  a%d = \"${local.a%d}y\"\n", i, i-1)
	}
	chain.WriteString("}\n")
	binary := []byte("\x7fELF\x02\x01\x01\x00")
	for i := range 2048 {
		binary = append(binary, byte(i*7), 0, '{', '[', '"')
	}
	return [][]byte{
		[]byte("x = " + rep("[", 5000) + rep("]", 5000) + "\n"),
		[]byte("x = " + rep("{", 5000) + "\n"),
		[]byte("x = " + rep("(", 2000) + "1" + rep(")", 2000) + "\n"),
		[]byte("locals {\n  x = " + rep("!", 3000) + "true\n}\n"),
		[]byte("locals {\n  x = 1" + rep(" + 1", 3000) + "\n}\n"),
		[]byte("locals {\n  x = " + rep("true ? 1 : ", 2000) + "1\n}\n"),
		[]byte("locals {\n  x = " + rep("\"${", 2000) + "\n}\n"),
		[]byte("locals {\n  x = <<EOT\n" + rep("%{ if true }", 2000) + "\nEOT\n}\n"),
		[]byte("locals {\n  x = jsondecode(\"" + rep("[", 3000) + "\")\n}\n"),
		binary,
		[]byte(chain.String()),
		[]byte("component \"a\" {\n  context = \"../ctx/app\"\n  tags = [\"r.invalid/x:1\x1b]0;pwned\x07\x1b[2J\"]\n}\n"),
		[]byte(rep("component \"a\" {\n  bogus = 1\n}\n", 500)),
		[]byte("variable \"\x1b[31m\" {}\n\u202e = 1\n"),
	}
}
