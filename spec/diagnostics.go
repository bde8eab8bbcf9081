package spec

import (
	"io"
	"os"

	"github.com/hashicorp/hcl/v2"
)

// WriteDiagnostics prints diags the way HCL does: "Error: summary", the file:line:col, a
// source snippet with the range underlined, and the detail. It reads the spec files the
// diagnostics point into to show the snippets; color adds ANSI colors.
func WriteDiagnostics(w io.Writer, diags hcl.Diagnostics, color bool) error {
	files := map[string]*hcl.File{}
	for _, d := range diags {
		for _, rng := range []*hcl.Range{d.Subject, d.Context} {
			if rng == nil || rng.Filename == "" {
				continue
			}
			if _, done := files[rng.Filename]; done {
				continue
			}
			b, err := os.ReadFile(rng.Filename)
			if err != nil {
				files[rng.Filename] = nil // no snippet: e.g. a --var value
				continue
			}
			files[rng.Filename] = &hcl.File{Bytes: b}
		}
	}
	for name, f := range files {
		if f == nil {
			delete(files, name)
		}
	}
	return hcl.NewDiagnosticTextWriter(w, files, 0, color).WriteDiagnostics(diags)
}
