package compiler

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/archc-dev/archc/spec"
	"github.com/containerd/platforms"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/require"
)

// fakeImages pins every reference to a digest derived from its name and platform, with a
// small config that has one layer (so it is not mistaken for scratch). It counts calls.
type fakeImages struct {
	mu      sync.Mutex
	calls   map[string]int
	missing map[string]bool // refs the "lock" lacks: served with Resolved
}

func newFakeImages() *fakeImages {
	return &fakeImages{calls: map[string]int{}, missing: map[string]bool{}}
}

func (f *fakeImages) Image(_ context.Context, ref string, p ocispecs.Platform) (Image, error) {
	f.mu.Lock()
	f.calls[ref+" "+platforms.Format(p)]++
	missing := f.missing[ref]
	f.mu.Unlock()
	switch ref {
	case "docker.io/library/nosuch:1":
		return Image{}, fmt.Errorf("not found in lock")
	case "docker.io/library/base:latest", "docker.io/library/assets:latest", "docker.io/library/tools:latest":
		return Image{}, fmt.Errorf("%s is a named context, not an image: it must never reach the resolver", ref)
	}
	cfg := fmt.Sprintf(`{"architecture":%q,"os":%q,"config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","FROM_IMAGE=%s"],"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":[%q]}}`,
		p.Architecture, p.OS, ref, digest.FromString("layer "+ref+platforms.Format(p)))
	return Image{
		Digest:   digest.FromString("manifest " + ref + " " + platforms.Format(p)),
		Config:   []byte(cfg),
		Host:     "127.0.0.1:5000",
		Resolved: missing,
	}, nil
}

// projectSpec returns the spec of testdata/compiler/project rooted at dir (a copy in a
// temp dir when a test edits files).
func projectSpec(t testing.TB, dir string) *spec.Spec {
	t.Helper()
	abs, err := filepath.Abs(dir)
	require.NoError(t, err)
	p := func(rel string) string { return filepath.Join(abs, rel) }
	both := []string{"linux/amd64", "linux/arm64"}
	return &spec.Spec{
		Files:     []string{p("archbuild.hcl")},
		Dir:       abs,
		Platforms: both,
		Proxy: &spec.Proxy{
			HTTPProxy:  "http://alice:s3cr3t-pw@127.0.0.1:7890",
			HTTPSProxy: "http://alice:s3cr3t-pw@127.0.0.1:7890",
			NoProxy:    []string{"localhost", "127.0.0.1"},
		},
		Components: []spec.Component{
			{
				Name: "base", Context: p("base"), Dockerfile: p("base/Dockerfile"),
				Target: "runtime", Args: map[string]string{"ALPINE_VERSION": "3.20"},
				Platforms: both, Output: spec.OutputCacheOnly,
			},
			{
				Name: "static", Context: p("static"), Dockerfile: p("static/Dockerfile"),
				Platforms: []string{"linux/amd64"}, Output: spec.OutputLocal, OutputPath: p("out/static"),
			},
			{
				Name: "app", Context: p("app"), Dockerfile: p("app/Dockerfile"),
				Labels:    map[string]string{"org.opencontainers.image.title": "app"},
				Tags:      []string{"registry.invalid/app:dev", "registry.invalid/app:latest"},
				Platforms: both, Output: spec.OutputRegistry,
				Contexts: []spec.NamedContext{
					{Name: "assets", Path: p("assets")},
					{Name: "base", Component: "base"},
					{Name: "tools", Image: "busybox:1.36"},
				},
				DependsOn: []string{"base"},
			},
		},
	}
}

func compileProject(t testing.TB, dir string, opts ...Option) *Plan {
	t.Helper()
	opts = append([]Option{WithBuildPlatform("linux/amd64")}, opts...)
	plan, err := Compile(context.Background(), projectSpec(t, dir), newFakeImages(), opts...)
	require.NoError(t, err)
	return plan
}
