package compiler

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/archc-dev/archc/spec"
	"github.com/containerd/platforms"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func mustPlatform(t testing.TB, s string) ocispecs.Platform {
	p, err := platforms.Parse(s)
	require.NoError(t, err)
	return platforms.Normalize(p)
}

// copyProject copies testdata/compiler/project into a temp dir a test may edit.
func copyProject(t testing.TB) string {
	t.Helper()
	dst := t.TempDir()
	require.NoError(t, os.CopyFS(dst, os.DirFS(projectDir)))
	return dst
}

func TestCompare(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		edit    func(t *testing.T, dir string, s *spec.Spec)
		changed []string
		// retagged are the builds whose only change is their outputs.
		retagged []string
	}{
		{"nothing", func(*testing.T, string, *spec.Spec) {}, nil, nil},
		{"proxy changed", func(_ *testing.T, _ string, s *spec.Spec) {
			s.Proxy = &spec.Proxy{HTTPProxy: "http://bob:other@10.0.0.1:3128", NoProxy: []string{".internal"}}
		}, nil, nil},
		{"proxy removed", func(_ *testing.T, _ string, s *spec.Spec) { s.Proxy = nil }, nil, nil},
		{"ignored file edited", func(t *testing.T, dir string, _ *spec.Spec) {
			write(t, filepath.Join(dir, "base", "notes.bak"), "changed")
			write(t, filepath.Join(dir, "base", "secret", "new"), "also ignored")
		}, nil, nil},
		{"sent file edited", func(t *testing.T, dir string, _ *spec.Spec) {
			write(t, filepath.Join(dir, "base", "hello.go"), "package main\n\nfunc main() {}\n")
		}, []string{"app/linux/amd64", "app/linux/arm64", "base/linux/amd64", "base/linux/arm64"}, nil},
		{"Dockerfile.dockerignore replaces .dockerignore", func(t *testing.T, dir string, _ *spec.Spec) {
			write(t, filepath.Join(dir, "base", "Dockerfile.dockerignore"), "*.bak\nsecret/\nhello.go\n")
		}, []string{"app/linux/amd64", "app/linux/arm64", "base/linux/amd64", "base/linux/arm64"}, nil},
		{"named local context edited", func(t *testing.T, dir string, _ *spec.Spec) {
			write(t, filepath.Join(dir, "assets", "index.html"), "<h1>new</h1>")
		}, []string{"app/linux/amd64", "app/linux/arm64"}, nil},
		{"file mode changed", func(t *testing.T, dir string, _ *spec.Spec) {
			require.NoError(t, os.Chmod(filepath.Join(dir, "static", "site", "index.txt"), 0o600))
		}, []string{"static/linux/amd64"}, nil},
		{"tag added is a re-tag", func(_ *testing.T, _ string, s *spec.Spec) {
			s.Components[2].Tags = append(s.Components[2].Tags, "registry.invalid/app:v2")
		}, nil, []string{"app/linux/amd64", "app/linux/arm64"}},
		{"tag added and a sent file edited is a rebuild", func(t *testing.T, dir string, s *spec.Spec) {
			s.Components[2].Tags = append(s.Components[2].Tags, "registry.invalid/app:v2")
			write(t, filepath.Join(dir, "assets", "index.html"), "<h1>new</h1>")
		}, []string{"app/linux/amd64", "app/linux/arm64"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := copyProject(t)
			old := compileProject(t, dir)
			s := projectSpec(t, dir)
			tc.edit(t, dir, s)
			plan, err := Compile(context.Background(), s, newFakeImages(), WithBuildPlatform("linux/amd64"))
			require.NoError(t, err)
			d := Compare(old.JSON(nil), plan.JSON(nil))
			assert.Empty(t, d.Added)
			assert.Empty(t, d.Removed)
			if tc.changed == nil && tc.retagged == nil {
				assert.True(t, d.Empty(), "%+v", d)
				assert.Len(t, d.Unchanged, 5)
				return
			}
			assert.False(t, d.Empty())
			assert.Equal(t, tc.changed, nilIfEmpty(d.Changed))
			assert.Equal(t, tc.retagged, nilIfEmpty(d.Retagged))
			assert.Len(t, d.Unchanged, 5-len(tc.changed)-len(tc.retagged))
			for _, id := range tc.retagged {
				assert.Equal(t, []string{"outputs"}, d.Reasons[id])
			}
		})
	}
}

func nilIfEmpty(l []string) []string {
	if len(l) == 0 {
		return nil
	}
	return l
}

// TestDiffTextRetag: the text form counts a re-tag apart from the rebuilds.
func TestDiffTextRetag(t *testing.T) {
	t.Parallel()
	d := &Diff{Changed: []string{"api/linux/amd64"}, Retagged: []string{"web/linux/amd64"},
		Reasons: map[string][]string{"api/linux/amd64": {"llb_digest"}, "web/linux/amd64": {"outputs"}}}
	var sb strings.Builder
	require.NoError(t, textView{}.Diff(&sb, d))
	assert.Contains(t, sb.String(), "  ~ api/linux/amd64 (llb_digest)\n")
	assert.Contains(t, sb.String(), "  > web/linux/amd64 (re-tag: same build, outputs changed)\n")
	assert.Contains(t, sb.String(), "1 to rebuild, 1 to re-tag, 0 unchanged.")
}

func TestCompareAddedRemoved(t *testing.T) {
	t.Parallel()
	old := compileProject(t, projectDir)
	s := projectSpec(t, projectDir)
	s.Components[1].Platforms = []string{"linux/arm64"}
	plan, err := Compile(context.Background(), s, newFakeImages(), WithBuildPlatform("linux/amd64"))
	require.NoError(t, err)
	d := Compare(old.JSON(nil), plan.JSON(nil))
	assert.Equal(t, []string{"static/linux/arm64"}, d.Added)
	assert.Equal(t, []string{"static/linux/amd64"}, d.Removed)
	assert.False(t, d.Empty())
}

func write(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(content), fs.FileMode(0o644)))
}

// TestCompareImageConfig: edits that change only the image config (the Dockerfile is not
// sent, so no context digest sees it) are changes, reason "config".
func TestCompareImageConfig(t *testing.T) {
	t.Parallel()
	appendTo := func(rel, line string) func(*testing.T, string, *spec.Spec) {
		return func(t *testing.T, dir string, _ *spec.Spec) {
			path := filepath.Join(dir, rel)
			dt, err := os.ReadFile(path)
			require.NoError(t, err)
			write(t, path, string(dt)+line+"\n")
		}
	}
	static := map[string][]string{"static/linux/amd64": {"config"}}
	for _, tc := range []struct {
		name string
		edit func(t *testing.T, dir string, s *spec.Spec)
		want map[string][]string // reasons by changed build
	}{
		{"ENTRYPOINT appended", appendTo("static/Dockerfile", `ENTRYPOINT ["/y"]`), static},
		{"LABEL appended", appendTo("static/Dockerfile", "LABEL c=d"), static},
		{"spec labels", func(_ *testing.T, _ string, s *spec.Spec) {
			s.Components[1].Labels = map[string]string{"c": "d"}
		}, static},
		{"comment appended", appendTo("static/Dockerfile", "# nothing"), nil},
		{"ENTRYPOINT of a component another one is built FROM", func(t *testing.T, dir string, _ *spec.Spec) {
			path := filepath.Join(dir, "base", "Dockerfile")
			dt, err := os.ReadFile(path)
			require.NoError(t, err)
			edited := strings.Replace(string(dt), `ENTRYPOINT ["/usr/local/bin/hello"]`, `ENTRYPOINT ["/y"]`, 1)
			require.NotEqual(t, string(dt), edited)
			write(t, path, edited)
		}, map[string][]string{
			"app/linux/amd64": {"config"}, "app/linux/arm64": {"config"},
			"base/linux/amd64": {"config"}, "base/linux/arm64": {"config"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := copyProject(t)
			write(t, filepath.Join(dir, "static", ".dockerignore"), "Dockerfile\n")
			write(t, filepath.Join(dir, "base", ".dockerignore"), "*.bak\nsecret/\nDockerfile\n")
			old := compileProject(t, dir)
			s := projectSpec(t, dir)
			tc.edit(t, dir, s)
			plan, err := Compile(context.Background(), s, newFakeImages(), WithBuildPlatform("linux/amd64"))
			require.NoError(t, err)
			d := Compare(old.JSON(nil), plan.JSON(nil))
			if tc.want == nil {
				assert.True(t, d.Empty(), "%+v", d)
				return
			}
			assert.Equal(t, tc.want, d.Reasons)
		})
	}
}

// TestCompareIgnoresHowPinsWereServed: a plan written by the run that resolved pins (or
// one whose pins came through another mirror) is not different from a later identical one.
func TestCompareIgnoresHowPinsWereServed(t *testing.T) {
	t.Parallel()
	plan := compileProject(t, projectDir)
	old := plan.JSON(nil)
	for i := range old.Builds {
		bs := append([]JSONBase(nil), old.Builds[i].Bases...)
		for k := range bs {
			bs[k].Resolved, bs[k].Host = true, "mirror.invalid:5000"
		}
		old.Builds[i].Bases = bs
	}
	d := Compare(old, plan.JSON(nil))
	assert.True(t, d.Empty(), "%+v", d)

	moved := plan.JSON(nil)
	moved.Builds[0].Bases[0].Digest = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
	d = Compare(moved, plan.JSON(nil))
	assert.Equal(t, map[string][]string{moved.Builds[0].ID: {"bases"}}, d.Reasons)
}

// TestCompareWithoutConfigDigest: a plan saved before config_digest existed cannot prove
// the config unchanged, so every build it shares is changed, reason "config".
func TestCompareWithoutConfigDigest(t *testing.T) {
	t.Parallel()
	plan := compileProject(t, projectDir)
	old := plan.JSON(nil)
	for i := range old.Builds {
		old.Builds[i].ConfigDigest = ""
	}
	d := Compare(old, plan.JSON(nil))
	assert.Len(t, d.Changed, len(plan.Builds))
	for _, id := range d.Changed {
		assert.Equal(t, []string{"config"}, d.Reasons[id], id)
	}
}
