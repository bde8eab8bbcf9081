package compiler

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/archc-dev/archc/spec"
	"github.com/moby/buildkit/frontend/dockerui"
)

// textView is for people: a block per build, then warnings and a summary line.
type textView struct {
	scrub  Scrub
	expect Expectations   // what apply expects to find up to date (WithExpectations)
	vars   []PlanVariable // shown in the header (WithVariables)
}

func (v textView) withVariables(vars []PlanVariable) View { v.vars = vars; return v }

func (v textView) withExpectations(e Expectations) View { v.expect = e; return v }

func (v textView) Plan(w io.Writer, p *Plan) error {
	tw := &textWriter{w: w}
	tw.printf("Build platform: %s\n", p.BuildPlatform)
	if !p.Selection.All() {
		tw.printf("Selection: %s, and what they depend on\n", p.Selection)
	}
	if p.Proxy != nil {
		tw.printf("Proxy: %s (given to RUN steps at solve time; not part of any build's identity)\n", proxySummary(p.Proxy))
	}
	for _, x := range v.vars {
		tw.printf("Variable: %s = %s (%s)\n", x.Name, spec.SafeLine(v.scrub.shown(x.Value)), x.Source)
	}
	allResolved := v.resolvedNote(tw, p)
	for _, b := range p.Builds {
		tw.printf("\n%s\n", b.ID)
		tw.field("dockerfile", b.Dockerfile)
		if b.Ops == 0 {
			tw.field("llb", fmt.Sprintf("%s (0 ops: config only, no layers)", b.LLBDigest))
		} else {
			tw.field("llb", fmt.Sprintf("%s (%d ops)", b.LLBDigest, b.Ops))
		}
		tw.field("config", b.ConfigDigest.String())
		if b.SourceDateEpoch != "" {
			tw.field("epoch", reproText(&b))
		}
		if b.Target != "" {
			tw.field("target", v.scrub.shown(b.Target))
		}
		for _, kv := range sortedPairs(v.scrub.shownMap(b.Args)) {
			tw.field("arg", kv)
		}
		for _, kv := range sortedPairs(v.scrub.shownMap(b.Labels)) {
			tw.field("label", kv)
		}
		if a := attestText(b.Attest); a != "" {
			tw.field("attest", a)
		}
		for _, kv := range sortedPairs(v.scrub.shownMap(b.Annotations)) {
			tw.field("annotation", kv)
		}
		for _, x := range b.Bases {
			note := ""
			if x.Resolved && !allResolved {
				note = " (resolved now)"
			}
			tw.field("base", baseText(x)+note)
		}
		for _, kv := range namedContextLines(v.scrub.shownMap(b.NamedContexts)) {
			tw.field("from", kv)
		}
		for _, x := range b.Contexts {
			tw.field("context", contextText(x))
		}
		for _, id := range b.DependsOn {
			tw.field("depends on", id)
		}
		for _, o := range b.Outputs {
			out := strings.TrimSpace(o.Type + " " + o.Name + o.Path)
			if o.Name != "" && o.Path != "" { // docker: the image's name, then its tarball
				out = o.Type + " " + o.Name + " → " + o.Path
			}
			tw.field("output", out)
		}
		for _, x := range b.CacheFrom {
			tw.field("cache from", v.scrub.shown(x))
		}
		for _, x := range b.CacheTo {
			tw.field("cache to", v.scrub.shown(x))
		}
		if nc := noCacheText(&b); nc != "" {
			tw.field("no cache", nc)
		}
		if len(b.Entitlements) > 0 {
			tw.field("entitlements", strings.Join(b.Entitlements, ", "))
		}
		if r := routing(b.Builders); r != "" {
			tw.field("builders", r)
		}
		if len(b.Secrets) > 0 {
			tw.field("secrets", secretList(b.Secrets))
		}
		if len(b.SSH) > 0 {
			tw.field("ssh", strings.Join(b.SSH, ", "))
		}
		if x, ok := v.expect[b.ID]; ok {
			tw.field("apply", fmt.Sprintf("expected up to date (pushed %s on %s)", x.Digest, strings.Join(x.Hosts, ", ")))
		}
	}
	if len(p.NotSelected) > 0 {
		tw.printf("\nNot selected: %s\n", strings.Join(p.NotSelected, ", "))
	}
	if len(p.Warnings) > 0 {
		tw.printf("\nWarnings:\n")
		for _, x := range MergeWarnings(p.Warnings) {
			tw.printf("  - %s\n", v.scrub.shown(x))
		}
	}
	sum := summary(p)
	if n := v.expected(p); n > 0 {
		sum = strings.TrimSuffix(sum, ".") + fmt.Sprintf("; %d expected up to date.", n)
	}
	tw.printf("\n%s\n", sum)
	return tw.err
}

// expected counts the plan's builds apply expects to find up to date.
func (v textView) expected(p *Plan) int {
	n := 0
	for _, b := range p.Builds {
		if _, ok := v.expect[b.ID]; ok {
			n++
		}
	}
	return n
}

func (textView) Diff(w io.Writer, d *Diff) error {
	tw := &textWriter{w: w}
	if d.Empty() {
		tw.printf("No changes: %d builds unchanged.\n", len(d.Unchanged))
		return tw.err
	}
	for _, id := range d.Added {
		tw.printf("  + %s (new)\n", id)
	}
	for _, id := range d.Removed {
		tw.printf("  - %s (removed)\n", id)
	}
	for _, id := range d.Changed {
		tw.printf("  ~ %s (%s)\n", id, strings.Join(d.Reasons[id], ", "))
	}
	for _, id := range d.Retagged {
		tw.printf("  > %s (re-tag: same build, %s changed)\n", id, strings.Join(d.Reasons[id], ", "))
	}
	tw.printf("Compare: %d to add, %d to remove, %d to rebuild, %d to re-tag, %d unchanged.\n", len(d.Added), len(d.Removed), len(d.Changed), len(d.Retagged), len(d.Unchanged))
	return tw.err
}

// resolvedNote says once, in the header, that pins were resolved by this run rather than
// read from the lock, and reports whether every pin was (then no base line repeats it).
func (textView) resolvedNote(tw *textWriter, p *Plan) bool {
	c := countBases(p)
	switch {
	case c.resolved == 0:
		return false
	case c.resolved == c.pins:
		tw.printf("Bases: none was in the lock; all %d pins were resolved now.\n", c.pins)
		return true
	}
	tw.printf("Bases: %d of %d pins were resolved now, not read from the lock (marked \"resolved now\").\n", c.resolved, c.pins)
	return false
}

// baseCounts counts a plan's bases the way the lock does (images: one entry per
// reference) and the way builds use them (pins: image × platform).
type baseCounts struct{ images, pins, resolved int }

func countBases(p *Plan) baseCounts {
	images, pins, resolved := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, b := range p.Builds {
		for _, x := range b.Bases {
			k := x.Ref + " " + x.Digest.String()
			images[x.Ref], pins[k] = true, true
			if x.Resolved {
				resolved[k] = true
			}
		}
	}
	return baseCounts{images: len(images), pins: len(pins), resolved: len(resolved)}
}

// baseText is a base as a valid reference and where it came from. A reference pinned by
// tag gains the platform's manifest digest (REF:TAG@MANIFEST, which a registry resolves);
// one already pinned by digest (usually an index) keeps it, and the platform's manifest is
// named apart: REF@INDEX@MANIFEST is no reference at all.
func baseText(x Base) string {
	if strings.Contains(x.Ref, "@") {
		return fmt.Sprintf("%s %s manifest %s via %s", x.Ref, x.Platform, x.Digest, x.Host)
	}
	return fmt.Sprintf("%s@%s %s via %s", x.Ref, x.Digest, x.Platform, x.Host)
}

// contextText is a local context: the main one by its path alone, a named one as NAME=PATH.
func contextText(x Context) string {
	if x.Name == dockerui.DefaultLocalNameContext {
		return fmt.Sprintf("%s %s", x.Path, x.Digest)
	}
	return fmt.Sprintf("%s=%s %s", x.Name, x.Path, x.Digest)
}

// summary is the plan's last line: counts a reviewer can check at a glance. Base images
// are counted as the lock counts them (one per reference); when builds use them on more
// than one platform, the pins (image × platform) follow.
func summary(p *Plan) string {
	comps, plats := map[string]bool{}, map[string]bool{}
	for _, b := range p.Builds {
		comps[b.Component], plats[b.Platform] = true, true
	}
	c := countBases(p)
	s := fmt.Sprintf("Plan: %d builds (%d components, %d platforms), %d pinned base images", len(p.Builds), len(comps), len(plats), c.images)
	var detail []string
	if c.pins != c.images {
		detail = append(detail, fmt.Sprintf("%d pins: one per image and platform", c.pins))
	}
	if c.resolved > 0 {
		detail = append(detail, fmt.Sprintf("%d resolved now and not in the lock", c.resolved))
	}
	if len(detail) > 0 {
		s += " (" + strings.Join(detail, "; ") + ")"
	}
	if len(p.NotSelected) > 0 {
		s += fmt.Sprintf("; %d builds not selected", len(p.NotSelected))
	}
	return s + "."
}

// routing is where a build may go, as the plan can tell without a daemon; "" for the
// default local builder.
func routing(builders []string) string {
	switch len(builders) {
	case 0:
		return ""
	case 1:
		return builders[0]
	}
	return strings.Join(builders, ", ") + " (chosen at apply by load)"
}

func proxySummary(p *spec.Proxy) string {
	var parts []string
	for _, kv := range [][2]string{{"http", p.HTTPProxy}, {"https", p.HTTPSProxy}, {"all", p.AllProxy}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+"="+kv[1])
		}
	}
	if len(p.NoProxy) > 0 {
		parts = append(parts, "no_proxy="+strings.Join(p.NoProxy, ","))
	}
	return strings.Join(parts, " ")
}

func sortedPairs(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// textWriter keeps the first write error so views read straight.
type textWriter struct {
	w   io.Writer
	err error
}

// printf writes every argument escaped to one line (spec.SafeLine): tags, args, labels,
// paths and warnings come from the spec, Dockerfiles and registries, and one holding an
// ESC sequence could rewrite the reader's screen, one holding a newline fake a line of
// the plan ("  output  registry evil/x:1").
func (t *textWriter) printf(format string, a ...any) {
	if t.err == nil {
		_, t.err = fmt.Fprintf(t.w, format, safeArgs(a)...)
	}
}

// safeArgs escapes the text of printf's arguments; numbers pass as they are.
func safeArgs(a []any) []any {
	out := make([]any, len(a))
	for i, x := range a {
		switch v := x.(type) {
		case string:
			out[i] = spec.SafeLine(v)
		case error:
			out[i] = spec.SafeLine(v.Error())
		case fmt.Stringer:
			out[i] = spec.SafeLine(v.String())
		default:
			out[i] = x
		}
	}
	return out
}

func (t *textWriter) field(name, value string) {
	t.printf("  %-11s %s\n", name, value)
}
