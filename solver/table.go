package solver

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/archc-dev/archc/spec"
)

// WriteResults prints the final table: one row per component and platform with the
// builder, the digest exported (the index for multi-platform registry outputs), the
// component's wall time and whether it was served from cache.
func WriteResults(w io.Writer, results []Result) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COMPONENT\tPLATFORM\tBUILDER\tDIGEST\tTIME\tRESULT")
	built, cached, failed := 0, 0, 0
	for _, r := range results {
		switch r.State() {
		case "built":
			built++
		case "cached":
			cached++
		default:
			failed++
		}
		dgst := r.Digest
		if dgst == "" {
			dgst = "-"
		}
		for i, p := range r.Platforms {
			b := "-"
			if i < len(r.Builders) {
				b = r.Builders[i]
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Component, p, spec.SafeLine(b), dgst, r.Duration.Round(100*time.Millisecond), state(r))
		}
	}
	fmt.Fprintf(tw, "\n%d built, %d cached, %d failed or skipped\n", built, cached, failed)
	return tw.Flush()
}

func state(r Result) string {
	s := r.State()
	if s == "built" {
		s = fmt.Sprintf("built (%d/%d steps cached)", r.CachedSteps, r.Steps)
	}
	return strings.TrimSpace(s)
}
