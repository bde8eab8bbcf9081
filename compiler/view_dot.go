package compiler

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// dotView renders the plan as a Graphviz digraph: one cluster per component holding its
// platform builds, one node per pinned base, edges base → build and dependency → build.
type dotView struct{}

func (dotView) Plan(w io.Writer, p *Plan) error {
	tw := &textWriter{w: w}
	tw.printf("digraph archc {\n  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=10];\n")
	var comps []string
	byComp := map[string][]Build{}
	for _, b := range p.Builds {
		if _, ok := byComp[b.Component]; !ok {
			comps = append(comps, b.Component)
		}
		byComp[b.Component] = append(byComp[b.Component], b)
	}
	sort.Strings(comps)
	for i, c := range comps {
		tw.printf("  subgraph cluster_%d {\n    label=%s;\n    style=rounded;\n", i, strconv.Quote(c))
		for _, b := range byComp[c] {
			label := fmt.Sprintf("%s\n%s\n%d ops", b.Platform, short(b.LLBDigest.String()), b.Ops)
			if len(b.Builders) > 0 {
				label += "\non " + strings.Join(b.Builders, " | ")
			}
			tw.printf("    %s [shape=box, label=%s];\n", strconv.Quote(b.ID), strconv.Quote(label))
		}
		tw.printf("  }\n")
	}
	bases := map[string]Base{}
	for _, b := range p.Builds {
		for _, x := range b.Bases {
			bases[baseNode(x)] = x
		}
	}
	names := make([]string, 0, len(bases))
	for n := range bases {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		x := bases[n]
		label := fmt.Sprintf("%s\n%s\nmanifest %s", x.Ref, x.Platform, short(x.Digest.String()))
		tw.printf("  %s [shape=ellipse, style=filled, fillcolor=\"#eeeeee\", label=%s];\n", strconv.Quote(n), strconv.Quote(label))
	}
	for _, b := range p.Builds {
		for _, x := range b.Bases {
			tw.printf("  %s -> %s;\n", strconv.Quote(baseNode(x)), strconv.Quote(b.ID))
		}
		for _, d := range b.DependsOn {
			if names := contextsOfDependency(&b, d); names != "" {
				tw.printf("  %s -> %s [penwidth=2, label=%s];\n", strconv.Quote(d), strconv.Quote(b.ID), strconv.Quote(names))
				continue
			}
			tw.printf("  %s -> %s [penwidth=2];\n", strconv.Quote(d), strconv.Quote(b.ID))
		}
	}
	tw.printf("}\n")
	return tw.err
}

func (dotView) Diff(io.Writer, *Diff) error {
	return fmt.Errorf("--compare has text, json and markdown forms, not dot")
}

// baseNode is a base's node ID: its reference and the platform's manifest digest apart,
// since a reference pinned by digest already holds an '@' (REF@INDEX@MANIFEST reads like a
// reference and is none).
func baseNode(b Base) string { return "base:" + b.Ref + " manifest " + b.Digest.String() }

// short is a digest cut for labels: algorithm and 12 hex digits.
func short(d string) string {
	if len(d) > 19 {
		return d[:19]
	}
	return d
}
