package doctor

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/archc-dev/archc/spec"
)

// JSONFormatVersion is the format_version of the JSON view; it changes only when a field
// is renamed or removed.
const JSONFormatVersion = 1

// View renders a doctor report in one format.
type View interface {
	Report(w io.Writer, r *Report) error
}

// Formats are the names NewView accepts.
var Formats = []string{"text", "json"}

// NewView returns the view for format: "text" (for people; o says how) or "json" (for
// machines; see WriteJSON).
func NewView(format string, o TextOptions) (View, error) {
	switch format {
	case "text", "":
		return textView{o}, nil
	case "json":
		return jsonView{}, nil
	default:
		return nil, fmt.Errorf("unknown format %q (want one of text, json)", format)
	}
}

type textView struct{ o TextOptions }

func (v textView) Report(w io.Writer, r *Report) error { return WriteText(w, r, v.o) }

type jsonView struct{}

func (jsonView) Report(w io.Writer, r *Report) error { return WriteJSON(w, r) }

// TextOptions control the text view.
type TextOptions struct {
	// Color paints the verdict symbols (only on a terminal, never with --no-color).
	Color bool
}

// maxNameWidth caps the name column so one long mirror URL does not push every line right.
const maxNameWidth = 36

var colors = [...]string{OK: "\x1b[32m", Warn: "\x1b[33m", Fail: "\x1b[31m"}

// WriteText writes the report for people: one line per check (verdict, name, what was
// checked, how long it took), the cause and fix under each problem, then a summary.
//
// A finding's text comes from the spec and from registries' answers (mirror URLs, error
// bodies): it is escaped (spec.SafeLine, spec.SafeText for the cause and fix, which may
// span lines) before archc's own colours are added.
func WriteText(w io.Writer, r *Report, o TextOptions) error {
	width := 0
	for _, f := range r.Findings {
		width = max(width, min(utf8.RuneCountInString(spec.SafeLine(f.Name)), maxNameWidth))
	}
	var b strings.Builder
	for _, f := range r.Findings {
		sym := f.Verdict.Symbol()
		if o.Color {
			sym = colors[f.Verdict] + sym + "\x1b[0m"
		}
		name := spec.SafeLine(f.Name)
		pad := strings.Repeat(" ", max(0, width-utf8.RuneCountInString(name)))
		fmt.Fprintf(&b, "%s %s%s  %s (%s)\n", sym, name, pad, spec.SafeLine(f.Checked), formatDuration(f.Duration))
		if f.Cause != "" {
			writeIndented(&b, "cause: ", spec.SafeText(f.Cause))
		}
		if f.Fix != "" {
			writeIndented(&b, "fix:   ", spec.SafeText(f.Fix))
		}
	}
	fmt.Fprintf(&b, "\n%s\n", summaryLine(r))
	_, err := io.WriteString(w, b.String())
	return err
}

// writeIndented writes a labelled, possibly multi-line text under a check line.
func writeIndented(b *strings.Builder, label, text string) {
	for i, line := range strings.Split(text, "\n") {
		if i == 0 {
			fmt.Fprintf(b, "    %s%s\n", label, line)
			continue
		}
		fmt.Fprintf(b, "    %s%s\n", strings.Repeat(" ", len(label)), line)
	}
}

func summaryLine(r *Report) string {
	ok, warn, fail := r.Count(OK), r.Count(Warn), r.Count(Fail)
	s := fmt.Sprintf("%d ok, %s, %s", ok, plural(warn, "warning"), plural(fail, "failure"))
	if fail > 0 {
		return s + ": a build would fail; fix the ✗ lines first"
	}
	if warn > 0 {
		return s + ": builds should work; the ! lines say what may break them"
	}
	return s + ": nothing stands in the way of a build"
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// formatDuration keeps durations short: 0ms, 12ms, 1.5s.
func formatDuration(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return fmt.Sprintf("%.1fs", d.Seconds())
}

// jsonReport is the JSON view's schema.
type jsonReport struct {
	FormatVersion int           `json:"format_version"`
	Checks        []jsonFinding `json:"checks"`
	Summary       jsonSummary   `json:"summary"`
	// ExitCode is what `archc doctor` exits with: 1 when a check failed.
	ExitCode int `json:"exit_code"`
}

type jsonFinding struct {
	Finding
	// DurationMS is the only field that differs between identical runs.
	DurationMS int64 `json:"duration_ms"`
}

type jsonSummary struct {
	OK   int `json:"ok"`
	Warn int `json:"warn"`
	Fail int `json:"fail"`
}

// WriteJSON writes the report for machines: format_version, one object per check (name,
// verdict, checked, cause, fix, duration_ms), the summary and the exit code.
func WriteJSON(w io.Writer, r *Report) error {
	out := jsonReport{FormatVersion: JSONFormatVersion, Checks: make([]jsonFinding, len(r.Findings)),
		Summary: jsonSummary{OK: r.Count(OK), Warn: r.Count(Warn), Fail: r.Count(Fail)}}
	for i, f := range r.Findings {
		out.Checks[i] = jsonFinding{Finding: f, DurationMS: f.Duration.Milliseconds()}
	}
	if r.Failed() {
		out.ExitCode = 1
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("encode the doctor report: %w", err)
	}
	return nil
}
