package compiler

import (
	"fmt"
	"sort"
	"strings"

	"github.com/archc-dev/archc/spec"
)

// mdText is s as literal text anywhere in the markdown view: in a table cell, a list item,
// or the HTML of a <summary>. Tags, args, paths and warnings come from the spec,
// Dockerfiles and registries; one holding `|` would split a table cell, a backtick or `*`
// would start a code span or emphasis, `</details>` would close a block early and `<img>`
// would be rendered. So after spec.SafeLine (control characters, bidi overrides, newlines)
// every ASCII character but letters, digits, space and "/.:-=,+()';?" becomes a numeric
// character reference, which GitHub and GitLab show as the character itself, in markdown
// and in HTML alike, and which the table parser does not read as a cell separator. The
// characters kept mean nothing here: parentheses only after "]" (escaped). "@", "#", "!",
// "%", "~" and "$" are escaped too: GitHub and GitLab read them as mentions, issue and
// merge-request references, milestones, labels and math.
func mdText(s string) string {
	s = spec.SafeLine(s)
	var b strings.Builder
	for _, r := range s {
		if r < 0x80 && !mdPlain(r) {
			fmt.Fprintf(&b, "&#%d;", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func mdPlain(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	}
	return strings.ContainsRune(" /.:-=,+()';?", r)
}

// mdCode is s in code font. It is an HTML <code> element, not a backtick span: inside a
// code span the character references mdText relies on would show as typed, and a value
// with backticks could end the span.
func mdCode(s string) string { return "<code>" + mdText(s) + "</code>" }

// mdRow is one table row of already escaped cells.
func mdRow(cells ...string) string { return "| " + strings.Join(cells, " | ") + " |\n" }

// mermaidLabel is s inside a quoted mermaid label: characters that mermaid or the
// surrounding markdown could read (the quote that ends the label, square brackets, `#`,
// `<`, backticks) become mermaid's own entity codes (#NN;).
func mermaidLabel(s string) string {
	s = spec.SafeLine(s)
	var b strings.Builder
	for _, r := range s {
		if r < 0x80 && !mdPlain(r) && r != '_' {
			fmt.Fprintf(&b, "#%d;", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Component states in the markdown view's graph, and the mermaid classes that show them.
const (
	compAdded    = "added"
	compChanged  = "changed"
	compRetagged = "retagged"
	compRemoved  = "removed"
)

// mermaidClasses style the graph's nodes by state: fill and border, dashed when removed.
var mermaidClasses = [][2]string{
	{compAdded, "fill:#d1fadf,stroke:#1a7f37,color:#000"},
	{compChanged, "fill:#fff1c2,stroke:#9a6700,color:#000"},
	{compRetagged, "fill:#ddf4ff,stroke:#0969da,color:#000"},
	{compRemoved, "fill:#ffe2e0,stroke:#cf222e,color:#000,stroke-dasharray:4 3"},
}

// componentGraph is the plan's components and the dependencies between them (a build's
// DependsOn, lifted to components), with each component's state in a comparison.
type componentGraph struct {
	names []string            // sorted; removed components included
	edges map[[2]string]bool  // dependency → dependent
	state map[string]string   // component → comp* (absent: unchanged)
	plats map[string][]string // component → its platforms in the new plan
}

// mermaid writes g as a mermaid flowchart. Node ids are n1, n2... in name order, so no
// name (one could be "end", mermaid's keyword) ever becomes syntax; names are labels.
func (g componentGraph) mermaid() string {
	var b strings.Builder
	b.WriteString("```mermaid\ngraph LR\n")
	ids := map[string]string{}
	for i, n := range g.names {
		ids[n] = fmt.Sprintf("n%d", i+1)
		label := n
		if ps := g.plats[n]; len(ps) > 0 {
			label += " (" + strings.Join(ps, ", ") + ")"
		}
		fmt.Fprintf(&b, "  %s[\"%s\"]\n", ids[n], mermaidLabel(label))
	}
	edges := make([][2]string, 0, len(g.edges))
	for e := range g.edges {
		edges = append(edges, e)
	}
	sort.Slice(edges, func(i, j int) bool {
		if edges[i][0] != edges[j][0] {
			return edges[i][0] < edges[j][0]
		}
		return edges[i][1] < edges[j][1]
	})
	for _, e := range edges {
		fmt.Fprintf(&b, "  %s --> %s\n", ids[e[0]], ids[e[1]])
	}
	for _, c := range mermaidClasses {
		var members []string
		for _, n := range g.names {
			if g.state[n] == c[0] {
				members = append(members, ids[n])
			}
		}
		if len(members) > 0 {
			fmt.Fprintf(&b, "  classDef %s %s\n  class %s %s\n", c[0], c[1], strings.Join(members, ","), c[0])
		}
	}
	b.WriteString("```\n")
	return b.String()
}
