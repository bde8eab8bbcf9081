package initspec

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/archc-dev/archc/spec"
	"github.com/hashicorp/hcl/v2"
)

// Validate loads the generated spec as archc will, from a temporary file beside where it
// will be written (its paths are relative to that directory), with placeholders for the
// variables that have no default. Diagnostics name the file as name.
func Validate(dir, name string, r *Result) (*spec.Spec, hcl.Diagnostics, error) {
	f, err := os.CreateTemp(dir, ".archbuild-init-*.hcl")
	if err != nil {
		return nil, nil, fmt.Errorf("validate the generated spec: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if _, err := f.Write(r.Spec); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("validate the generated spec: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, nil, fmt.Errorf("validate the generated spec: %w", err)
	}
	s, diags := spec.Load(spec.LoadOptions{Files: []string{tmp}, Vars: r.Placeholders})
	for _, d := range diags {
		for _, rng := range []*hcl.Range{d.Subject, d.Context} {
			if rng != nil && filepath.Base(rng.Filename) == filepath.Base(tmp) {
				rng.Filename = name
			}
		}
	}
	return s, diags, nil
}
