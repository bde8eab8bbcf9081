package compiler

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/containerd/platforms"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// movedImages is fakeImages with the pins of some refs moved (as `lock --update` would).
type movedImages struct {
	*fakeImages
	moved map[string]bool
}

func (m movedImages) Image(ctx context.Context, ref string, p ocispecs.Platform) (Image, error) {
	img, err := m.fakeImages.Image(ctx, ref, p)
	if err == nil && m.moved[ref] {
		img.Digest = digest.FromString("moved " + ref + " " + platforms.Format(p))
	}
	return img, err
}

// comparedPlans are the compiler project before and after a pull request that moves the
// busybox pin (app rebuilt), changes static's output path (a re-tag), adds a component
// (site) and removes one (gone, only in the old plan).
func comparedPlans(t *testing.T) (*JSONPlan, *Plan, *Diff) {
	t.Helper()
	old := compileProject(t, projectDir).JSON(nil)
	old.Builds = append(old.Builds, JSONBuild{ID: "gone/linux/amd64", Component: "gone", Platform: "linux/amd64",
		Bases: []JSONBase{{Ref: "docker.io/library/debian:12", Digest: digest.FromString("debian").String(), Platform: "linux/amd64"}}})
	s := projectSpec(t, projectDir)
	for i := range s.Components {
		if s.Components[i].Name == "static" {
			s.Components[i].OutputPath = filepath.Join(s.Dir, "out", "static-v2")
			site := s.Components[i]
			site.Name, site.Platforms = "site", []string{"linux/arm64"}
			s.Components = append(s.Components, site)
			break
		}
	}
	images := movedImages{newFakeImages(), map[string]bool{"docker.io/library/busybox:1.36": true}}
	plan, err := Compile(context.Background(), s, images, WithBuildPlatform("linux/amd64"))
	require.NoError(t, err)
	return old, plan, Compare(old, plan.JSON(nil))
}

func renderDiff(t *testing.T, v View, d *Diff) string {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, v.Diff(&buf, d))
	return buf.String()
}

func TestGoldenMarkdown(t *testing.T) {
	t.Parallel()
	golden(t, "plan.md", render(t, compileProject(t, projectDir), "markdown"))

	old, plan, d := comparedPlans(t)
	require.Equal(t, []string{"site/linux/arm64"}, d.Added)
	require.Equal(t, []string{"gone/linux/amd64"}, d.Removed)
	require.Equal(t, []string{"app/linux/amd64", "app/linux/arm64"}, d.Changed)
	require.Equal(t, []string{"static/linux/amd64"}, d.Retagged)
	got := renderDiff(t, markdownView{}.withComparison(old, plan), d)
	golden(t, "plan-compare.md", []byte(got))
}

func TestMarkdownCompare(t *testing.T) {
	t.Parallel()
	old, plan, d := comparedPlans(t)
	got := renderDiff(t, markdownView{}.withComparison(old, plan), d)
	assert.Contains(t, got, "**Compare: 1 to add, 1 to remove, 2 to rebuild, 1 to re-tag, 2 unchanged.**")
	assert.Contains(t, got, "| <code>app/linux/amd64</code> | rebuild | llb&#95;digest, bases |")
	assert.Contains(t, got, "| <code>static/linux/amd64</code> | re-tag | outputs |")
	assert.Contains(t, got, "| <code>gone/linux/amd64</code> | removed |  |")
	// Lock changes: busybox moved on both platforms, debian no longer used, nothing else.
	lock := section(got, "### Lock changes")
	assert.Equal(t, 3, strings.Count(lock, "| <code>docker.io/library/"), lock)
	assert.Contains(t, lock, "| <code>docker.io/library/busybox:1.36</code> | linux/arm64 | moved | <code>sha256:15b69e35f0457f67415726562b8b9df8570b21655d7317e30f4f2a61bb152e48</code> |")
	assert.Contains(t, lock, "| <code>docker.io/library/debian:12</code> | linux/amd64 | no longer used |")
	// Details only for what changes; the unchanged base builds are not repeated.
	builds := section(got, "### Builds")
	for _, id := range []string{"app/linux/amd64", "app/linux/arm64", "static/linux/amd64", "site/linux/arm64"} {
		assert.Contains(t, builds, "<details><summary><code>"+id+"</code>", id)
	}
	assert.NotContains(t, builds, "<code>base/linux/amd64</code> ·")
	g := parseMermaid(t, got)
	assert.Equal(t, map[string]string{"app": compChanged, "site": compAdded, "static": compRetagged, "gone": compRemoved}, g.classOf)

	// Without the plans (WithComparison not called) the table alone, same counts.
	alone := renderDiff(t, markdownView{}, d)
	assert.Contains(t, alone, "| <code>site/linux/arm64</code> | new |  |")
	assert.NotContains(t, alone, "```mermaid")

	same := renderDiff(t, markdownView{}.withComparison(plan.JSON(nil), plan), Compare(plan.JSON(nil), plan.JSON(nil)))
	assert.Contains(t, same, "**No changes: 6 builds unchanged.**")
	assert.NotContains(t, same, "<details>")
}

// section is the text of md from the heading to the next "### " heading.
func section(md, heading string) string {
	i := strings.Index(md, heading+"\n")
	if i < 0 {
		return ""
	}
	rest := md[i+len(heading):]
	if j := strings.Index(rest, "\n### "); j >= 0 {
		rest = rest[:j]
	}
	return rest
}

func TestMarkdownResolvedPinsAreLockChanges(t *testing.T) {
	t.Parallel()
	images := newFakeImages()
	images.missing["docker.io/library/busybox:1.36"] = true
	plan, err := Compile(context.Background(), projectSpec(t, projectDir), images, WithBuildPlatform("linux/amd64"))
	require.NoError(t, err)
	lock := section(string(render(t, plan, "markdown")), "### Lock changes")
	assert.Equal(t, 2, strings.Count(lock, "| added |"), lock)
	assert.Contains(t, lock, "| <code>docker.io/library/busybox:1.36</code> | linux/amd64 | added |  | <code>sha256:")
	assert.Empty(t, section(string(render(t, compileProject(t, projectDir), "markdown")), "### Lock changes"))
}

func TestWithComparison(t *testing.T) {
	t.Parallel()
	plan := compileProject(t, projectDir)
	text, err := NewView("text", nil)
	require.NoError(t, err)
	v, err := WithComparison(text, "/nonexistent/old.json", plan)
	require.NoError(t, err, "a view without a use for the plans does not read the file")
	assert.Equal(t, text, v)

	md, err := NewView("markdown", nil)
	require.NoError(t, err)
	_, err = WithComparison(md, "/nonexistent/old.json", plan)
	assert.ErrorIs(t, err, os.ErrNotExist)

	path := filepath.Join(t.TempDir(), "old.json")
	require.NoError(t, os.WriteFile(path, render(t, plan, "json"), 0o644))
	v, err = WithComparison(md, path, plan)
	require.NoError(t, err)
	got := renderDiff(t, v, Compare(plan.JSON(nil), plan.JSON(nil)))
	assert.Contains(t, got, mdText(summary(plan)), "the comparison knows the new plan")
}

// TestMarkdownBudget: a plan too big for one PR comment keeps its head and counts the
// build details it leaves out.
func TestMarkdownBudget(t *testing.T) {
	t.Parallel()
	p := &Plan{BuildPlatform: "linux/amd64"}
	for i := range 600 {
		id := fmt.Sprintf("c%03d/linux/amd64", i)
		p.Builds = append(p.Builds, Build{ID: id, Component: fmt.Sprintf("c%03d", i), Platform: "linux/amd64",
			Dockerfile: "Dockerfile", LLBDigest: digest.FromString(id), ConfigDigest: digest.FromString("c" + id),
			Args: map[string]string{"A_LONG_ARGUMENT": strings.Repeat("x", 60)}})
	}
	got := string(render(t, p, "markdown"))
	assert.LessOrEqual(t, len(got), 65536)
	assert.Regexp(t, `\n\d+ more builds are not shown`, got)
	assert.Contains(t, got, "<details><summary><code>c000/linux/amd64</code>")
	assert.Equal(t, strings.Count(got, "<details>"), strings.Count(got, "</details>"), "no block is cut")
	parseMermaid(t, got)
}

// mermaidGraph is what parseMermaid found.
type mermaidGraph struct {
	labels  map[string]string // node id → label
	edges   [][2]string
	classOf map[string]string // label (without platforms) → class
}

var (
	mmNode    = regexp.MustCompile(`^  ([A-Za-z][A-Za-z0-9_]*)\["([^"\[\]]*)"\]$`)
	mmEdge    = regexp.MustCompile(`^  ([A-Za-z][A-Za-z0-9_]*) --> ([A-Za-z][A-Za-z0-9_]*)$`)
	mmDef     = regexp.MustCompile(`^  classDef ([a-z]+) ([a-z-]+:[#a-z0-9 ]+)(,[a-z-]+:[#a-z0-9 ]+)*$`)
	mmClass   = regexp.MustCompile(`^  class ([A-Za-z0-9_,]+) ([a-z]+)$`)
	mmKeyword = map[string]bool{"end": true, "graph": true, "subgraph": true, "flowchart": true, "class": true, "classDef": true, "click": true, "style": true}
)

// parseMermaid checks the one mermaid block of md structurally: a `graph` header; every
// line a node, an edge, a classDef or a class; node ids valid, not keywords, declared once
// and before use; labels quoted with no quote or bracket inside; classes defined before
// they are applied.
func parseMermaid(t *testing.T, md string) mermaidGraph {
	t.Helper()
	require.Equal(t, 1, strings.Count(md, "```mermaid\n"), "one mermaid block")
	body := md[strings.Index(md, "```mermaid\n")+len("```mermaid\n"):]
	end := strings.Index(body, "\n```\n")
	require.GreaterOrEqual(t, end, 0, "the block is closed")
	lines := strings.Split(body[:end], "\n")
	require.Equal(t, "graph LR", lines[0])
	g := mermaidGraph{labels: map[string]string{}, classOf: map[string]string{}}
	defs := map[string]bool{}
	for _, l := range lines[1:] {
		switch {
		case mmNode.MatchString(l):
			m := mmNode.FindStringSubmatch(l)
			assert.False(t, mmKeyword[m[1]], "node id %q is a keyword", m[1])
			_, dup := g.labels[m[1]]
			assert.False(t, dup, "node %s declared twice", m[1])
			g.labels[m[1]] = m[2]
		case mmEdge.MatchString(l):
			m := mmEdge.FindStringSubmatch(l)
			for _, id := range m[1:] {
				_, ok := g.labels[id]
				assert.True(t, ok, "edge endpoint %s not declared: %s", id, l)
			}
			g.edges = append(g.edges, [2]string{m[1], m[2]})
		case mmDef.MatchString(l):
			defs[mmDef.FindStringSubmatch(l)[1]] = true
		case mmClass.MatchString(l):
			m := mmClass.FindStringSubmatch(l)
			assert.True(t, defs[m[2]], "class %s applied before its classDef", m[2])
			for _, id := range strings.Split(m[1], ",") {
				label, ok := g.labels[id]
				assert.True(t, ok, "class on undeclared node %s", id)
				name, _, _ := strings.Cut(label, " (")
				g.classOf[name] = m[2]
			}
		default:
			t.Errorf("not a mermaid line this view writes: %q", l)
		}
	}
	return g
}

func TestMarkdownMermaidGraph(t *testing.T) {
	t.Parallel()
	g := parseMermaid(t, string(render(t, compileProject(t, projectDir), "markdown")))
	assert.Equal(t, map[string]string{"n1": "app (linux/amd64, linux/arm64)", "n2": "base (linux/amd64, linux/arm64)", "n3": "static (linux/amd64)"}, g.labels)
	assert.Equal(t, [][2]string{{"n2", "n1"}}, g.edges, "base feeds app, once for both platforms")
	assert.Empty(t, g.classOf, "a plan alone highlights nothing")
}

// hostilePlan has a value of every kind a view prints holding markdown, HTML, mermaid
// and table syntax, and a secret the scrub must hide.
func hostilePlan() *Plan {
	evil := "x|y`z</details><img src=x onerror=alert(1)>*b* [l](http://e) @team &amp;\n| fake | row |"
	mk := func(comp string, deps ...string) Build {
		id := comp + "/linux/amd64"
		return Build{ID: id, Component: comp, Platform: "linux/amd64", Dockerfile: "Dock|er`file",
			Target: evil, Args: map[string]string{"TOKEN": "hunter2", "E": evil}, Labels: map[string]string{"l": evil},
			LLBDigest: digest.FromString(id), DependsOn: deps,
			Bases:   []Base{{Ref: "docker.io/library/alpine:3.20", Digest: digest.FromString("a"), Platform: "linux/amd64", Host: "h|ost", Resolved: true}},
			Outputs: []Output{{Type: "registry", Name: "r.invalid/x:" + evil}}}
	}
	return &Plan{BuildPlatform: "linux/amd64", Warnings: []string{evil + " hunter2"},
		Builds: []Build{mk(`a"]; end; click n1 "http://e`), mk("end", `a"]; end; click n1 "http://e/linux/amd64`)}}
}

func TestMarkdownEscapes(t *testing.T) {
	t.Parallel()
	p := hostilePlan()
	scrub := Scrub(func(s string) string { return strings.ReplaceAll(s, "hunter2", "(sensitive)") })
	v, err := NewView("markdown", scrub)
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, v.Plan(&buf, p))
	got := buf.String()
	assert.NotContains(t, got, "hunter2")
	assert.Contains(t, got, "TOKEN=(sensitive)")
	for _, raw := range []string{"</details><img", "<img", "*b*", "[l](", "`z", "&amp;", "\n| fake"} {
		assert.NotContains(t, got, raw)
	}
	assert.Equal(t, strings.Count(got, "<details>"), strings.Count(got, "</details>"))
	// Every table row has exactly its cells: no value adds a separator.
	for _, l := range strings.Split(got, "\n") {
		if strings.HasPrefix(l, "| ") {
			assert.Contains(t, []int{3, 4, 6}, strings.Count(l, "|"), l)
		}
	}
	g := parseMermaid(t, got)
	assert.Len(t, g.labels, 2)
	assert.Equal(t, [][2]string{{"n1", "n2"}}, g.edges)

	d := &Diff{Added: []string{p.Builds[0].ID}, Changed: []string{p.Builds[1].ID}, Reasons: map[string][]string{p.Builds[1].ID: {"x|y</td>"}}}
	diff := renderDiff(t, markdownView{scrub: scrub}.withComparison(&JSONPlan{}, p), d)
	assert.NotContains(t, diff, "hunter2")
	assert.NotContains(t, diff, "</td>")
	parseMermaid(t, diff)
}

func TestMdText(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"docker.io/library/alpine:3.20": "docker.io/library/alpine:3.20",
		"a|b":                           "a&#124;b",
		"<b>&":                          "&#60;b&#62;&#38;",
		"`x` *y* _z_":                   "&#96;x&#96; &#42;y&#42; &#95;z&#95;",
		"line\nbreak":                   "line&#92;nbreak",
		"\x1b[31mred":                   "&#92;x1b&#91;31mred",
		"héllo":                         "héllo",
	} {
		assert.Equal(t, want, mdText(in), in)
	}
	assert.Equal(t, "a #34;b#34; #91;c#93; (d)", mermaidLabel(`a "b" [c] (d)`))
	assert.NotContains(t, mdText("a\u202eb"), "\u202e", "bidi overrides go through spec.SafeLine")
}
