package compiler

import (
	"strings"
	"testing"

	"github.com/distribution/reference"
	digest "github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// basesPlan is a plan whose bases are pinned by tag and by index digest, on two platforms.
func basesPlan(resolved func(ref, platform string) bool) *Plan {
	index := digest.FromString("index")
	refs := []string{"docker.io/library/alpine:3.20", "gcr.io/distroless/static-debian12@" + index.String()}
	p := &Plan{BuildPlatform: "linux/amd64"}
	for _, platform := range []string{"linux/amd64", "linux/arm64"} {
		b := Build{ID: "app/" + platform, Component: "app", Platform: platform, Dockerfile: "app/Dockerfile",
			Contexts: []Context{{Name: "assets", Path: "assets", Digest: digest.FromString("a")}, {Name: "context", Path: "app", Digest: digest.FromString("c")}}}
		for _, ref := range refs {
			b.Bases = append(b.Bases, Base{Ref: ref, Digest: digest.FromString(ref + platform), Platform: platform, Host: "mirror.test", Resolved: resolved(ref, platform)})
		}
		p.Builds = append(p.Builds, b)
	}
	return p
}

func renderText(t *testing.T, p *Plan) string {
	t.Helper()
	var sb strings.Builder
	require.NoError(t, textView{}.Plan(&sb, p))
	return sb.String()
}

// TestTextBasesAreValidReferences: every base line starts with a reference a registry
// accepts; a base pinned by digest names its platform manifest apart.
func TestTextBasesAreValidReferences(t *testing.T) {
	t.Parallel()
	out := renderText(t, basesPlan(func(string, string) bool { return false }))
	n := 0
	for _, line := range strings.Split(out, "\n") {
		rest, ok := strings.CutPrefix(line, "  base        ")
		if !ok {
			continue
		}
		n++
		ref, _, _ := strings.Cut(rest, " ")
		_, err := reference.ParseNormalizedNamed(ref)
		assert.NoError(t, err, "base line %q", line)
		assert.Equal(t, 1, strings.Count(ref, "@"), line)
	}
	assert.Equal(t, 4, n)
	m := digest.FromString("gcr.io/distroless/static-debian12@" + digest.FromString("index").String() + "linux/arm64")
	assert.Contains(t, out, "gcr.io/distroless/static-debian12@"+digest.FromString("index").String()+" linux/arm64 manifest "+m.String()+" via mirror.test\n")
	assert.Contains(t, out, "Plan: 2 builds (1 components, 2 platforms), 2 pinned base images (4 pins: one per image and platform).\n",
		"images are counted as the lock counts them, pins apart")
	assert.NotContains(t, out, "resolved now")
}

func TestTextContexts(t *testing.T) {
	t.Parallel()
	out := renderText(t, basesPlan(func(string, string) bool { return false }))
	assert.Contains(t, out, "  context     app "+digest.FromString("c").String()+"\n", "the main context by its path alone")
	assert.Contains(t, out, "  context     assets=assets "+digest.FromString("a").String()+"\n")
	assert.NotContains(t, out, "context=")
}

func TestTextResolvedSaidOnce(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		resolved func(ref, platform string) bool
		header   string
		marks    int
	}{
		{"all", func(string, string) bool { return true }, "Bases: none was in the lock; all 4 pins were resolved now.\n", 0},
		{"some", func(ref, _ string) bool { return strings.HasPrefix(ref, "gcr.io") },
			"Bases: 2 of 4 pins were resolved now, not read from the lock (marked \"resolved now\").\n", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out := renderText(t, basesPlan(tc.resolved))
			assert.Equal(t, 1, strings.Count(out, tc.header), out)
			assert.Equal(t, tc.marks, strings.Count(out, " (resolved now)\n"), out)
			assert.NotContains(t, out, "(resolved now: not in the lock)")
		})
	}
}

func TestDOTBaseNodes(t *testing.T) {
	t.Parallel()
	var sb strings.Builder
	require.NoError(t, dotView{}.Plan(&sb, basesPlan(func(string, string) bool { return false })))
	assert.NotContains(t, sb.String(), "@"+digest.FromString("index").String()+"@", "no REF@INDEX@MANIFEST")
	assert.Contains(t, sb.String(), "linux/amd64\\nmanifest sha256:")
}
