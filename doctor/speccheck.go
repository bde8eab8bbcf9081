package doctor

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/archc-dev/archc/spec"
	"github.com/hashicorp/hcl/v2"
)

// SpecCheck reports the spec's own diagnostics: an error fails (and nothing else can be
// checked), a warning warns. s is nil when the spec did not load.
func SpecCheck(s *spec.Spec, diags hcl.Diagnostics) Check {
	return Check{Name: "spec", Run: func(context.Context) Finding {
		var errs, warns hcl.Diagnostics
		for _, d := range diags {
			if d.Severity == hcl.DiagError {
				errs = append(errs, d)
			} else {
				warns = append(warns, d)
			}
		}
		switch {
		case len(errs) > 0:
			return Finding{Verdict: Fail, Checked: "the spec", Cause: describeDiags(errs),
				Fix: "fix it; `archc validate` prints every diagnostic with its source line"}
		case s == nil:
			return Finding{Verdict: Fail, Checked: "the spec", Cause: "it did not load", Fix: "run `archc validate`"}
		}
		checked := fmt.Sprintf("%s: valid, %d components, platforms %v, %d registry blocks",
			filepath.Base(s.Files[0]), len(s.Components), s.Platforms, len(s.Registries))
		if len(warns) > 0 {
			return Finding{Verdict: Warn, Checked: checked, Cause: describeDiags(warns),
				Fix: "`archc validate` shows where; the warning says what to change"}
		}
		return Finding{Verdict: OK, Checked: checked}
	}}
}

// describeDiags is the first diagnostic with its position, and how many more there are.
func describeDiags(diags hcl.Diagnostics) string {
	d := diags[0]
	msg := d.Summary
	if d.Detail != "" {
		msg += ": " + d.Detail
	}
	if d.Subject != nil {
		msg = fmt.Sprintf("%s:%d:%d: %s", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column, msg)
	}
	if len(diags) > 1 {
		msg += fmt.Sprintf(" (and %d more)", len(diags)-1)
	}
	return msg
}
