package e2e

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// reproSpec is a two-platform component with RUN steps and a COPY of its context, one fed
// by it through a named context (pushed), and the same again as an oci tarball. %[3]s is
// the builder's name (a fresh managed buildkitd with its own state directory), %[4]s the
// repository prefix, %[5]s the source_date_epoch line.
const reproSpec = `
platforms = ["linux/amd64", "linux/arm64"]
%[5]s
registry "docker.io" { mirrors = ["%[1]s"] }
registry "%[2]s" { http = true }
builder "%[3]s" {}

component "base" {
  context = "./base"
  tags    = ["%[2]s/%[4]s/base:v1"]
}

component "app" {
  context  = "./app"
  contexts = { base = component.base }
  tags     = ["%[2]s/%[4]s/app:v1"]
}

component "bundle" {
  context     = "./app"
  contexts    = { base = component.base }
  output      = "oci"
  output_path = "./out/bundle.tar"
}
`

// reproFiles are written anew for each apply: every file's time is the time of the run.
var reproFiles = map[string]string{
	"base/Dockerfile": `FROM busybox
RUN mkdir -p /data && uname -m > /data/arch && echo hello > /data/greeting
COPY . /src/
WORKDIR /work
RUN touch /work/stamp && ln -s /data/arch /work/arch
ENV GREETING=hello
`,
	"base/kept.txt":     "kept\n",
	"base/sub/deep.txt": "deep\n",
	"app/Dockerfile": `FROM base
RUN cat /data/arch > /app-arch && ls /src > /app-saw-src
COPY . /app/
`,
	"app/config.txt": "a=1\n",
}

// reproRun is what one apply on a fresh builder produced.
type reproRun struct {
	dir       string
	base, app image
	oci       []byte
}

// testReproducible (issue 14, "Reproducible output"): the same project, with
// source_date_epoch, applied on two fresh builders (separate buildkitd state) at different
// times and pushed to two repositories, gives the same index and manifest digests per
// platform, and byte-identical oci tarballs. Without the epoch, the same runs differ: the
// comparison can fail.
func testReproducible(t *testing.T, e *env, reg registryClient) {
	const epoch = 1700000000
	apply := func(t *testing.T, name, epochLine string) reproRun {
		t.Helper()
		dir := t.TempDir()
		files := map[string]string{"archbuild.hcl": fmt.Sprintf(reproSpec, e.mirror.URL, e.push.Host, name, name, epochLine)}
		for k, v := range reproFiles {
			files[k] = v
		}
		write(t, dir, files)
		t.Cleanup(func() { e.run(t, dir, "builder", "down") })
		r := e.run(t, dir, "apply", "--progress=plain")
		require.Equal(t, 0, r.code, r.stderr)
		oci, err := os.ReadFile(filepath.Join(dir, "out", "bundle.tar"))
		require.NoError(t, err)
		return reproRun{dir: dir, base: reg.image(t, name+"/base", "v1"), app: reg.image(t, name+"/app", "v1"), oci: oci}
	}
	twice := func(t *testing.T, prefix, epochLine string) (reproRun, reproRun) {
		a := apply(t, prefix+"a", epochLine)
		time.Sleep(1500 * time.Millisecond) // another second on the wall clock: other file and build times
		b := apply(t, prefix+"b", epochLine)
		return a, b
	}

	t.Run("with source_date_epoch: the same digests from two fresh builders", func(t *testing.T) {
		a, b := twice(t, "repro", fmt.Sprintf("source_date_epoch = %d", epoch))
		t.Logf("base index %s and %s; app index %s and %s; base linux/amd64 layers %v", a.base.Digest, b.base.Digest, a.app.Digest, b.app.Digest, a.base.Manifests["linux/amd64"].Layers)
		for _, x := range []struct {
			name string
			a, b image
		}{{"base", a.base, b.base}, {"app", a.app, b.app}} {
			require.Len(t, x.a.Manifests, 2, x.name)
			assert.Equal(t, x.a.Digest, x.b.Digest, "%s: index digest", x.name)
			for p, m := range x.a.Manifests {
				assert.Equal(t, m, x.b.Manifests[p], "%s %s: manifest (config and layer digests)", x.name, p)
				cfg := x.a.Configs[p]
				require.NotNil(t, cfg.Created, "%s %s", x.name, p)
				assert.Equal(t, time.Unix(epoch, 0).UTC(), cfg.Created.UTC(), "%s %s: created is the epoch", x.name, p)
				for _, h := range cfg.History {
					if h.Created != nil {
						assert.False(t, h.Created.After(time.Unix(epoch, 0)), "%s %s: history %q at %s", x.name, p, h.CreatedBy, h.Created)
					}
				}
			}
		}
		// What the layers hold is the build's: clamped times, the right architecture.
		for p, want := range map[string]string{"linux/amd64": "x86_64\n", "linux/arm64": "aarch64\n"} {
			arch, err := reg.file(t, "reproa/app", a.app.Manifests[p], "app-arch")
			require.NoError(t, err, p)
			assert.Equal(t, want, arch, p)
		}
		r := e.run(t, a.dir, "plan")
		require.Equal(t, 0, r.code, r.stderr)
		assert.Contains(t, r.stdout, fmt.Sprintf("  epoch       %d (reproducible)\n", epoch))
		require.NotEmpty(t, a.oci)
		assert.True(t, bytes.Equal(a.oci, b.oci), "the oci tarballs differ (%d and %d bytes)", len(a.oci), len(b.oci))
	})

	t.Run("without an epoch the same runs differ", func(t *testing.T) {
		a, b := twice(t, "unrepro", "")
		t.Logf("base index %s and %s; app index %s and %s; base linux/amd64 layers %v and %v", a.base.Digest, b.base.Digest, a.app.Digest, b.app.Digest, a.base.Manifests["linux/amd64"].Layers, b.base.Manifests["linux/amd64"].Layers)
		assert.NotEqual(t, a.base.Digest, b.base.Digest, "base's index")
		assert.NotEqual(t, a.app.Digest, b.app.Digest, "app's index")
		assert.False(t, bytes.Equal(a.oci, b.oci), "the oci tarballs")
	})
}
