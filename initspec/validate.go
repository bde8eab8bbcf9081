package initspec

import (
	"fmt"
	"path/filepath"

	"github.com/archc-dev/archc/internal/atomicfile"
	"github.com/archc-dev/archc/spec"
	"github.com/hashicorp/hcl/v2"
)

// Validate loads the generated spec as archc will, from a temporary file beside where it
// will be written (its paths are relative to that directory), with placeholders for the
// variables that have no default. Diagnostics name the file as name. The temporary file is
// an atomicfile write never committed: dir is left as it was.
func Validate(dir, name string, r *Result) (*spec.Spec, hcl.Diagnostics, error) {
	tmp, err := atomicfile.Create(filepath.Join(dir, filepath.Base(name)), 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("validate the generated spec: %w", err)
	}
	defer tmp.Abort()
	if _, err := tmp.Write(r.Spec); err != nil {
		return nil, nil, fmt.Errorf("validate the generated spec: %w", err)
	}
	s, diags := spec.Load(spec.LoadOptions{Files: []string{tmp.Name()}, Vars: r.Placeholders})
	for _, d := range diags {
		for _, rng := range []*hcl.Range{d.Subject, d.Context} {
			if rng != nil && filepath.Base(rng.Filename) == filepath.Base(tmp.Name()) {
				rng.Filename = name
			}
		}
	}
	return s, diags, nil
}
