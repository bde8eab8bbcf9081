package solver

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/archc-dev/archc/spec"
)

// WriteResults prints the final table: one row per component × platform with the builder
// it ran on (and those that went away under it), its digest, its time, its status (built,
// cached, failed, cancelled, skipped, up to date) and its steps cached/total. The digest is the
// platform's manifest when known, else what a one-platform component exported; the
// index of each multi-platform image follows the table.
func WriteResults(w io.Writer, results []Result) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COMPONENT\tPLATFORM\tBUILDER\tDIGEST\tTIME\tSTATUS\tCACHED")
	counts := map[string]int{}
	var indexes []string
	for _, r := range results {
		for _, b := range r.Builds {
			counts[b.Status]++
			dgst := b.Digest
			if dgst == "" && len(r.Builds) == 1 {
				dgst = r.Digest
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Component, b.Platform, spec.SafeLine(builderCell(b)), dash(dgst),
				b.Duration.Round(100*time.Millisecond), b.Status, stepsCell(b))
		}
		if len(r.Builds) > 1 && r.Digest != "" {
			indexes = append(indexes, fmt.Sprintf("%s: %s", r.Component, r.Digest))
		}
	}
	fmt.Fprintf(tw, "\n%d built, %d cached, %d failed, %d cancelled, %d skipped",
		counts[StatusBuilt], counts[StatusCached], counts[StatusFailed], counts[StatusCancelled], counts[StatusSkipped])
	if n := counts[StatusUpToDate]; n > 0 {
		fmt.Fprintf(tw, ", %d up to date (nothing sent to a builder)", n)
	}
	fmt.Fprintln(tw)
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(indexes) > 0 {
		_, err := fmt.Fprintf(w, "indexes:\n  %s\n", strings.Join(indexes, "\n  "))
		return err
	}
	return nil
}

// builderCell is the builder, after those lost under the build ("arm-1 (lost arm-2)").
func builderCell(b BuildResult) string {
	name := dash(b.Builder)
	if len(b.Lost) > 0 {
		name += " (lost " + strings.Join(b.Lost, ", ") + ")"
	}
	return name
}

func stepsCell(b BuildResult) string {
	if b.Status == StatusSkipped || b.Status == StatusUpToDate || (b.Steps == 0 && b.Status != StatusBuilt && b.Status != StatusCached) {
		return "-"
	}
	return fmt.Sprintf("%d/%d", b.CachedSteps, b.Steps)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
