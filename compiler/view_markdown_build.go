package compiler

import (
	"fmt"
	"sort"
	"strings"
)

// details is one build as a <details> block: the summary line names it (and note, its
// change in a comparison); inside, a table of the fields the text view prints.
func (v markdownView) details(x *Build, note string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<details><summary>%s", mdCode(x.ID))
	if note != "" {
		fmt.Fprintf(&b, " · %s", mdText(note))
	}
	fmt.Fprintf(&b, " · %d ops</summary>\n\n", x.Ops)
	b.WriteString(mdRow("Field", "Value"))
	b.WriteString(mdRow("---", "---"))
	for _, r := range v.buildRows(x) {
		b.WriteString(mdRow(r[0], r[1]))
	}
	b.WriteString("\n</details>\n\n")
	return b.String()
}

// buildRows are a build's fields as escaped (name, value) cells, in the text view's order.
func (v markdownView) buildRows(x *Build) [][2]string {
	var rows [][2]string
	add := func(name, value string) { rows = append(rows, [2]string{name, value}) }
	add("dockerfile", mdCode(x.Dockerfile))
	add("llb", fmt.Sprintf("%s (%d ops)", mdCode(x.LLBDigest.String()), x.Ops))
	add("config", mdCode(x.ConfigDigest.String()))
	if x.SourceDateEpoch != "" {
		add("epoch", mdText(reproText(x)))
	}
	if x.Target != "" {
		add("target", mdCode(v.scrub.shown(x.Target)))
	}
	for _, kv := range sortedPairs(v.scrub.shownMap(x.Args)) {
		add("arg", mdCode(kv))
	}
	for _, kv := range sortedPairs(v.scrub.shownMap(x.Labels)) {
		add("label", mdCode(kv))
	}
	if a := attestText(x.Attest); a != "" {
		add("attest", mdText(a))
	}
	for _, kv := range sortedPairs(v.scrub.shownMap(x.Annotations)) {
		add("annotation", mdCode(kv))
	}
	// The ref and the manifest digest apart: a digest-pinned ref joined with its manifest
	// digest by "@" would be no valid reference. Pins resolved now are in "Lock changes".
	for _, y := range x.Bases {
		add("base", fmt.Sprintf("%s %s manifest %s via %s", mdCode(y.Ref), mdText(y.Platform), mdCode(y.Digest.String()), mdText(y.Host)))
	}
	for _, kv := range namedContextLines(v.scrub.shownMap(x.NamedContexts)) {
		add("from", mdText(kv))
	}
	for _, y := range x.Contexts {
		add("context", fmt.Sprintf("%s %s %s", mdText(y.Name), mdCode(y.Path), mdCode(y.Digest.String())))
	}
	for _, id := range x.DependsOn {
		add("depends on", mdCode(id))
	}
	for _, o := range x.Outputs {
		s := mdText(o.Type)
		for _, part := range []string{o.Name, o.Path} {
			if part != "" {
				s += " " + mdCode(part)
			}
		}
		add("output", s)
	}
	v.addRunRows(x, add)
	return rows
}

// addRunRows adds the fields about how apply runs the build: cache, entitlements,
// routing, secrets, ssh, and what apply expects.
func (v markdownView) addRunRows(x *Build, add func(name, value string)) {
	for _, c := range x.CacheFrom {
		add("cache from", mdCode(v.scrub.shown(c)))
	}
	for _, c := range x.CacheTo {
		add("cache to", mdCode(v.scrub.shown(c)))
	}
	if nc := noCacheText(x); nc != "" {
		add("no cache", mdText(nc))
	}
	if len(x.Entitlements) > 0 {
		add("entitlements", mdText(strings.Join(x.Entitlements, ", ")))
	}
	if r := routing(x.Builders); r != "" {
		add("builders", mdText(r))
	}
	if len(x.Secrets) > 0 {
		add("secrets", mdText(secretList(x.Secrets)))
	}
	if len(x.SSH) > 0 {
		add("ssh", mdText(strings.Join(x.SSH, ", ")))
	}
	if e, ok := v.expect[x.ID]; ok {
		add("apply", mdText(fmt.Sprintf("expected up to date (pushed %s on %s)", e.Digest, strings.Join(e.Hosts, ", "))))
	}
}

// pinChange is a pin (image × platform) added, moved or no longer used: before is "" for
// an added pin, after "" for one no longer used.
type pinChange struct{ ref, platform, before, after string }

// pinKey identifies a pin: the image as written and the platform it was pinned for.
type pinKey struct{ ref, platform string }

// resolvedPins are the pins the plan resolved because the lock lacked them.
func resolvedPins(p *Plan) []pinChange {
	seen := map[pinKey]bool{}
	var out []pinChange
	for _, x := range p.Builds {
		for _, y := range x.Bases {
			k := pinKey{y.Ref, y.Platform}
			if y.Resolved && !seen[k] {
				seen[k] = true
				out = append(out, pinChange{ref: y.Ref, platform: y.Platform, after: y.Digest.String()})
			}
		}
	}
	sortPins(out)
	return out
}

// comparePins are the pins the new plan's builds use that differ from the old plan's.
// The lock is not read: the plans say what each build was pinned to, and the lock's diff
// in the same pull request says the rest.
func comparePins(old *JSONPlan, p *Plan) []pinChange {
	before, after := map[pinKey]string{}, map[pinKey]string{}
	for _, x := range old.Builds {
		for _, y := range x.Bases {
			if _, ok := before[pinKey{y.Ref, y.Platform}]; !ok {
				before[pinKey{y.Ref, y.Platform}] = y.Digest
			}
		}
	}
	for _, x := range p.Builds {
		for _, y := range x.Bases {
			if _, ok := after[pinKey{y.Ref, y.Platform}]; !ok {
				after[pinKey{y.Ref, y.Platform}] = y.Digest.String()
			}
		}
	}
	var out []pinChange
	for k, a := range after {
		if b := before[k]; b != a {
			out = append(out, pinChange{ref: k.ref, platform: k.platform, before: b, after: a})
		}
	}
	for k, b := range before {
		if _, ok := after[k]; !ok {
			out = append(out, pinChange{ref: k.ref, platform: k.platform, before: b})
		}
	}
	sortPins(out)
	return out
}

func sortPins(l []pinChange) {
	sort.Slice(l, func(i, j int) bool {
		if l[i].ref != l[j].ref {
			return l[i].ref < l[j].ref
		}
		return l[i].platform < l[j].platform
	})
}

// writePinChanges writes the "Lock changes" table; nothing when there are none.
func writePinChanges(b *strings.Builder, pins []pinChange, intro string) {
	if len(pins) == 0 {
		return
	}
	fmt.Fprintf(b, "### Lock changes\n\n%s\n\n", mdText(intro))
	b.WriteString(mdRow("Image", "Platform", "Change", "Before", "After"))
	b.WriteString(mdRow("---", "---", "---", "---", "---"))
	for i, x := range pins {
		if i == maxTableRows {
			b.WriteString(mdRow(fmt.Sprintf("… and %d more", len(pins)-i), "", "", "", ""))
			break
		}
		change, before, after := "moved", mdCode(x.before), mdCode(x.after)
		switch {
		case x.before == "":
			change, before = "added", ""
		case x.after == "":
			change, after = "no longer used", ""
		}
		b.WriteString(mdRow(mdCode(x.ref), mdText(x.platform), change, before, after))
	}
	b.WriteString("\n")
}

// newComponentGraph is p's components and their dependencies. With old and d (a
// comparison) each component gets its state, and components only old had are shown
// as removed.
func newComponentGraph(p *Plan, old *JSONPlan, d *Diff) componentGraph {
	g := componentGraph{edges: map[[2]string]bool{}, state: map[string]string{}, plats: map[string][]string{}}
	comp := map[string]string{} // build ID → component, in both plans
	for _, x := range p.Builds {
		comp[x.ID] = x.Component
	}
	for _, x := range p.Builds {
		if len(g.plats[x.Component]) == 0 {
			g.names = append(g.names, x.Component)
		}
		g.plats[x.Component] = append(g.plats[x.Component], x.Platform)
		for _, dep := range x.DependsOn {
			if c, ok := comp[dep]; ok && c != x.Component {
				g.edges[[2]string{c, x.Component}] = true
			}
		}
	}
	if old != nil && d != nil {
		for _, x := range old.Builds {
			if _, ok := comp[x.ID]; !ok {
				comp[x.ID] = x.Component
			}
			if _, ok := g.plats[x.Component]; !ok {
				g.plats[x.Component] = nil
				g.names = append(g.names, x.Component)
				g.state[x.Component] = compRemoved
			}
		}
		g.setStates(comp, d)
	}
	sort.Strings(g.names)
	return g
}

// setStates marks each component of the new plan: added when all its builds are new,
// changed when any is new, removed or rebuilt, re-tagged when its only changes are
// re-tags.
func (g componentGraph) setStates(comp map[string]string, d *Diff) {
	count := func(ids []string) map[string]int {
		n := map[string]int{}
		for _, id := range ids {
			n[comp[id]]++
		}
		return n
	}
	added, removed, changed, retagged := count(d.Added), count(d.Removed), count(d.Changed), count(d.Retagged)
	for _, c := range g.names {
		switch {
		case g.state[c] == compRemoved:
		case added[c] == len(g.plats[c]):
			g.state[c] = compAdded
		case added[c]+removed[c]+changed[c] > 0:
			g.state[c] = compChanged
		case retagged[c] > 0:
			g.state[c] = compRetagged
		}
	}
}
