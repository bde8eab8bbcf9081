package spec

import (
	"fmt"
	"path/filepath"

	"github.com/hashicorp/hcl/v2"
)

// diagString is "file:line:col: severity: summary", or "severity: summary" without a range.
func diagString(d *hcl.Diagnostic) string {
	sev := "error"
	if d.Severity == hcl.DiagWarning {
		sev = "warning"
	}
	if d.Subject == nil {
		return fmt.Sprintf("%s: %s", sev, d.Summary)
	}
	return fmt.Sprintf("%s:%d:%d: %s: %s", filepath.Base(d.Subject.Filename), d.Subject.Start.Line, d.Subject.Start.Column, sev, d.Summary)
}
