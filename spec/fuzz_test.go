package spec

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad feeds arbitrary bytes to the whole pipeline (parse, merge, evaluate, check,
// order): it must return diagnostics, never panic. Seeds are the test specs; crashers
// found so far live in testdata/fuzz/FuzzLoad.
func FuzzLoad(f *testing.F) {
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
	})
}
