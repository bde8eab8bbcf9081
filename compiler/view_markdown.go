package compiler

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// markdownView is for pull-request comments: one document with a summary line, the lock
// changes, a mermaid graph of the components and the builds' details folded in <details>
// blocks (GitHub and GitLab render all three). Its Diff shows more than the diff when it
// is given the two plans compared (WithComparison).
type markdownView struct {
	scrub  Scrub
	expect Expectations // WithExpectations
	// old and plan are the plans a diff compares (WithComparison); nil without them, and
	// Diff shows the table of changes alone.
	old  *JSONPlan
	plan *Plan
}

// commentBudget bounds the document: GitHub refuses a comment over 65,536 characters.
// The summary, tables and graph come first; build details fill what is left, and the
// ones that do not fit are counted, never cut in the middle.
const commentBudget = 60000

// maxTableRows bounds the table of changed builds and the list of warnings.
const maxTableRows = 200

func (v markdownView) withExpectations(e Expectations) View { v.expect = e; return v }

func (v markdownView) withComparison(old *JSONPlan, p *Plan) View {
	v.old, v.plan = old, p
	return v
}

// WithComparison returns v given the two plans its Diff compares: the JSON plan saved at
// oldPath and p. The markdown view draws the lock changes, the graph and the changed
// builds' details from them; a view that shows the diff alone is returned as it is,
// without reading oldPath.
func WithComparison(v View, oldPath string, p *Plan) (View, error) {
	x, ok := v.(interface {
		withComparison(*JSONPlan, *Plan) View
	})
	if !ok {
		return v, nil
	}
	f, err := os.Open(oldPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	old, err := ReadJSON(f, oldPath)
	if err != nil {
		return nil, err
	}
	return x.withComparison(old, p), nil
}

func (v markdownView) Plan(w io.Writer, p *Plan) error {
	var b strings.Builder
	b.WriteString("## archc plan\n\n")
	sum := summary(p)
	if n := len(v.expectedIDs(p)); n > 0 {
		sum = strings.TrimSuffix(sum, ".") + fmt.Sprintf("; %d expected up to date.", n)
	}
	fmt.Fprintf(&b, "**%s**\n\n", mdText(sum))
	writePlanContext(&b, p)
	writePinChanges(&b, resolvedPins(p), "Pins this plan resolved and wrote to the lock: review and commit it.")
	b.WriteString("### Components\n\n")
	b.WriteString(newComponentGraph(p, nil, nil).mermaid())
	b.WriteString("\n")
	v.writeWarnings(&b, p.Warnings)
	ids := make([]string, len(p.Builds))
	for i := range p.Builds {
		ids[i] = p.Builds[i].ID
	}
	v.writeDetails(&b, p, ids, nil)
	_, err := io.WriteString(w, b.String())
	return err
}

func (v markdownView) Diff(w io.Writer, d *Diff) error {
	var b strings.Builder
	b.WriteString("## archc plan: changes\n\n")
	if d.Empty() {
		fmt.Fprintf(&b, "**No changes: %d builds unchanged.**\n", len(d.Unchanged))
	} else {
		fmt.Fprintf(&b, "**Compare: %d to add, %d to remove, %d to rebuild, %d to re-tag, %d unchanged.**\n",
			len(d.Added), len(d.Removed), len(d.Changed), len(d.Retagged), len(d.Unchanged))
	}
	if v.plan != nil {
		fmt.Fprintf(&b, "\n%s\n", mdText(summary(v.plan)))
	}
	if d.Empty() {
		_, err := io.WriteString(w, b.String())
		return err
	}
	b.WriteString("\n")
	writeDiffTable(&b, d)
	if v.plan != nil && v.old != nil {
		writePinChanges(&b, comparePins(v.old, v.plan), "Pins that differ from the compared plan's: check them against the lock file's diff.")
		b.WriteString("### Components\n\nHighlighted: new (green), rebuilt (yellow), re-tagged (blue), removed (red, dashed).\n\n")
		b.WriteString(newComponentGraph(v.plan, v.old, d).mermaid())
		b.WriteString("\n")
		v.writeWarnings(&b, v.plan.Warnings)
		notes := map[string]string{}
		for _, id := range d.Added {
			notes[id] = "new"
		}
		for _, id := range d.Changed {
			notes[id] = "rebuild: " + strings.Join(d.Reasons[id], ", ")
		}
		for _, id := range d.Retagged {
			notes[id] = "re-tag: " + strings.Join(d.Reasons[id], ", ")
		}
		var ids []string
		for _, x := range v.plan.Builds {
			if _, ok := notes[x.ID]; ok {
				ids = append(ids, x.ID)
			}
		}
		v.writeDetails(&b, v.plan, ids, notes)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writePlanContext is what the text view's header says: build platform, selection, proxy.
func writePlanContext(b *strings.Builder, p *Plan) {
	fmt.Fprintf(b, "Build platform: %s", mdCode(p.BuildPlatform))
	if !p.Selection.All() {
		fmt.Fprintf(b, "  \nSelection: %s, and what they depend on", mdText(p.Selection.String()))
	}
	if len(p.NotSelected) > 0 {
		fmt.Fprintf(b, "  \nNot selected: %d builds", len(p.NotSelected))
	}
	if p.Proxy != nil {
		fmt.Fprintf(b, "  \nProxy: %s (given to RUN steps at solve time; not part of any build's identity)", mdCode(proxySummary(p.Proxy)))
	}
	b.WriteString("\n\n")
}

// writeDiffTable lists the builds added, removed, rebuilt and re-tagged, with reasons.
func writeDiffTable(b *strings.Builder, d *Diff) {
	type row struct{ id, change, why string }
	var rows []row
	for _, id := range d.Added {
		rows = append(rows, row{id, "new", ""})
	}
	for _, id := range d.Removed {
		rows = append(rows, row{id, "removed", ""})
	}
	for _, id := range d.Changed {
		rows = append(rows, row{id, "rebuild", strings.Join(d.Reasons[id], ", ")})
	}
	for _, id := range d.Retagged {
		rows = append(rows, row{id, "re-tag", strings.Join(d.Reasons[id], ", ")})
	}
	b.WriteString(mdRow("Build", "Change", "Why"))
	b.WriteString(mdRow("---", "---", "---"))
	for i, r := range rows {
		if i == maxTableRows {
			b.WriteString(mdRow(fmt.Sprintf("… and %d more", len(rows)-i), "", ""))
			break
		}
		b.WriteString(mdRow(mdCode(r.id), r.change, mdText(r.why)))
	}
	b.WriteString("\n")
}

// writeWarnings lists the plan's warnings, scrubbed, bounded by maxTableRows.
func (v markdownView) writeWarnings(b *strings.Builder, warnings []string) {
	if len(warnings) == 0 {
		return
	}
	b.WriteString("### Warnings\n\n")
	for i, x := range warnings {
		if i == maxTableRows {
			fmt.Fprintf(b, "- … and %d more (see `archc plan`)\n", len(warnings)-i)
			break
		}
		fmt.Fprintf(b, "- %s\n", mdText(v.scrub.shown(x)))
	}
	b.WriteString("\n")
}

// writeDetails writes a <details> block per build in ids, with notes[id] in its summary
// line, as many as fit in commentBudget; the rest are counted.
func (v markdownView) writeDetails(b *strings.Builder, p *Plan, ids []string, notes map[string]string) {
	if len(ids) == 0 {
		return
	}
	b.WriteString("### Builds\n\n")
	for i, id := range ids {
		block := v.details(p.Build(id), notes[id])
		if b.Len()+len(block) > commentBudget {
			fmt.Fprintf(b, "%d more builds are not shown, to keep this comment under GitHub's size limit: run `archc plan` for every detail.\n", len(ids)-i)
			return
		}
		b.WriteString(block)
	}
}

// expectedIDs are the plan's builds apply expects to find up to date.
func (v markdownView) expectedIDs(p *Plan) []string {
	var out []string
	for _, x := range p.Builds {
		if _, ok := v.expect[x.ID]; ok {
			out = append(out, x.ID)
		}
	}
	return out
}
