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
var Formats = []string{"text", "json", "dot", "markdown"}

// NewView returns the view for format: "text" (for people), "json" (for machines; see
// JSONPlan), "dot" (Graphviz) or "markdown" (pull-request comments). scrub hides the
// spec's sensitive values in what it prints (nil: nothing to hide).
func NewView(format string, scrub Scrub) (View, error) {
	switch format {
	case "text", "":
		return textView{scrub: scrub}, nil
	case "json":
		return jsonView{scrub: scrub}, nil
	case "dot":
		return dotView{}, nil
	case "markdown":
		return markdownView{scrub: scrub}, nil
	default:
		return nil, fmt.Errorf("unknown format %q (want one of text, json, dot, markdown)", format)
	}
}
