package compiler

import (
	"fmt"
	"io"
)

// View renders plans and plan diffs in one format.
type View interface {
	Plan(w io.Writer, p *Plan) error
	Diff(w io.Writer, d *Diff) error
}

// Formats are the names NewView accepts.
var Formats = []string{"text", "json", "dot"}

// NewView returns the view for format: "text" (for people and PR comments), "json" (for
// machines; see JSONPlan) or "dot" (Graphviz).
func NewView(format string) (View, error) {
	switch format {
	case "text", "":
		return textView{}, nil
	case "json":
		return jsonView{}, nil
	case "dot":
		return dotView{}, nil
	default:
		return nil, fmt.Errorf("unknown format %q (want one of text, json, dot)", format)
	}
}
