package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"github.com/archc-dev/archc/internal/testenv"
)

// parityCase is one Dockerfile built by archc and by BuildKit's own Dockerfile frontend
// (buildctl build --frontend dockerfile.v0) on the same daemon. Its context is
// testdata/parity/NAME, copied with the modes BuildKit's test gives (files 0600 and
// directories 0755 unless modes says otherwise); its named local contexts are
// testdata/parity/NAME.named/CTX.
type parityCase struct {
	name string
	// source names the BuildKit frontend test the Dockerfile is taken from
	// (frontend/dockerfile/dockerfile_*_test.go at the go.mod version; the Unix variant) and
	// what was adapted: the test busybox (the mirror's docker.io/library/busybox:latest) has
	// Debian's busybox-static applets, root and nobody/nogroup, and no /usr/bin.
	source     string
	modes      map[string]os.FileMode
	links      map[string]string // symlink name → target
	dockerfile string            // "" is Dockerfile
	target     string
	args       map[string]string
	named      []string
	// arm64 builds linux/arm64 (under qemu) as well as linux/amd64.
	arm64 bool
	// configOnly: the image has no layer (a final FROM scratch stage with only metadata).
	configOnly bool
}

func (c parityCase) platforms() []string {
	if c.arm64 {
		return []string{"linux/amd64", "linux/arm64"}
	}
	return []string{"linux/amd64"}
}

var parityCases = []parityCase{
	{name: "scratch_config", source: "testDockerfileScratchConfig (image)", arm64: true, configOnly: true},
	{name: "expose", source: "testExposeExpansion (core)", configOnly: true},
	{name: "labels", source: "testLabels (core)", configOnly: true},
	{name: "workdir", source: "testWorkdirCreatesDir (workdir)"},
	{name: "cmd_shell", source: "testCmdShell (cmd), its second Dockerfile with busybox as the base", arm64: true},
	{name: "metadata", source: "archc's own: USER WORKDIR EXPOSE LABEL HEALTHCHECK SHELL STOPSIGNAL VOLUME ENTRYPOINT CMD with ARG/ENV expansion (HEALTHCHECK and STOPSIGNAL are only in BuildKit's lint tests)",
		args: map[string]string{"VERSION": "2.5"}},
	{name: "history", source: "testExportedHistory (history)"},
	{name: "heredoc_copy", source: "testCopyHeredoc (heredoc); no adduser in the test busybox: the user is appended to /etc/passwd and /etc/group", arm64: true},
	{name: "heredoc_run", source: "testRunBasicHeredoc (heredoc)", arm64: true},
	{name: "heredoc_vars", source: "testHeredocVarSubstitution (heredoc), without the qsingle/qdouble variants"},
	{name: "copy_parents", source: "testCopyParents (parents)", arm64: true,
		modes: map[string]os.FileMode{"foo1": 0o700, "foo1/foo2": 0o700}},
	{name: "copy_exclude", source: "testExcludePatterns (exclude_patterns), plain-directory variant; the Dockerfile is in the context, so COPY . takes it on both sides",
		modes: map[string]os.FileMode{"dir1": 0o777, "dir2": 0o777, "dir3": 0o777, "dir4": 0o777},
		links: map[string]string{"dir4/file-402.txt": "file-401.txt", "dir4/file-403.txt": "file-404.txt"}},
	{name: "copy_link", source: "testCopyLinkDotDestDir (copy)"},
	{name: "copy_chmod", source: "testCopyChmod (copy), build-arg mode=755", args: map[string]string{"mode": "755"},
		modes: map[string]os.FileMode{"bar": 0o700}},
	{name: "add_chown", source: "testDockerfileAddChownExpand (add); group nogroup (the test busybox has no group nobody)", args: map[string]string{"group": "nogroup"}},
	{name: "mount_context", source: "testMountContext (mount): a bind mount of the main context"},
	{name: "mount_tmpfs", source: "testMountTmpfs (mount)"},
	{name: "mount_cache", source: "testCacheMountUser (mount)"},
	{name: "mount_from", source: "testMountRWCache (mount): a bind mount from a stage; /unique lists the mount instead of hashing /dev/urandom, so the two builds can agree"},
	{name: "onbuild_stage", source: "testOnBuildInheritedStageRun (onbuild)"},
	{name: "onbuild_config", source: "testOnBuildCleared (onbuild), its first Dockerfile: the trigger stays in the config"},
	{name: "target", source: "testTargetStageNameArg (args), target foo; busybox for alpine", target: "foo"},
	{name: "implicit_from", source: "testMultiStageImplicitFrom (multistage)"},
	{name: "global_arg", source: "testGlobalArg (args), build-arg tag=latest", args: map[string]string{"tag": "latest"}},
	{name: "args_env", source: "testDefaultEnvWithArgs (args), case override; #!/bin/sh for #!/usr/bin/env sh", arm64: true,
		args: map[string]string{"my_arg": "override"}, modes: map[string]os.FileMode{"myscript.sh": 0o700}},
	{name: "dockerignore", source: "testDockerignore (dockerignore): a negation, the Dockerfile and .dockerignore ignored"},
	{name: "dockerignore_named", source: "testDockerignoreOverride (dockerignore): Dockerfile2 reads Dockerfile2.dockerignore", dockerfile: "Dockerfile2"},
	{name: "named_local", source: "testNamedLocalContext (namedcontext): context:base=local:basedir, whose .dockerignore drops out2", named: []string{"base"}},
}

// testFrontendParity builds parityCases with archc (one spec, one component each, one
// apply, oci outputs) and with buildctl and the daemon's own Dockerfile frontend (oci
// outputs, in parallel), and compares per Dockerfile and platform: the image config
// (everything but the created timestamps), the history (without created) and each layer's
// file list (path, mode, owner, type, link target, content hash).
func testFrontendParity(t *testing.T, e *env, reg registryClient) {
	buildctl := filepath.Join(filepath.Dir(e.bin), "buildctl")
	if _, err := os.Stat(buildctl); err != nil {
		testenv.Missing(t, "bin/buildctl: %v (make build)", err)
	}
	start := time.Now()
	dir := parityProject(t, e)
	r := e.run(t, dir, "builder", "up")
	require.Equal(t, 0, r.code, r.stderr)
	// buildctl's pulls go through the same mirror: the daemon's config names it.
	cfg, err := os.ReadFile(filepath.Join(e.state, "archc", "builders", "local", "buildkitd.toml"))
	require.NoError(t, err)
	require.Contains(t, string(cfg), e.mirror.Host, "buildkitd.toml must send docker.io pulls to the mirror")
	addr := "unix://" + filepath.Join(e.state, "archc", "builders", "local", "buildkitd.sock")

	// Both at once: archc's one apply and buildctl's builds share the daemon.
	var (
		apply  result
		failed map[string]error
		wg     sync.WaitGroup
	)
	wg.Add(2)
	go func() { defer wg.Done(); apply = e.run(t, dir, "apply", "--progress=quiet") }()
	go func() { defer wg.Done(); failed = parityBuildctl(buildctl, addr, dir) }()
	wg.Wait()
	t.Logf("parity: %d Dockerfiles built by archc and buildctl in %s", len(parityCases), time.Since(start).Round(time.Millisecond))

	t.Run("config-only image pushed", func(t *testing.T) {
		require.Equal(t, 0, apply.code, grepLines(apply.stderr, "archc: component scratch_push "))
		img := reg.image(t, "parity/scratch", "v1")
		require.Len(t, img.Manifests, 2)
		for p, m := range img.Manifests {
			assert.Empty(t, m.Layers, p)
			assert.Contains(t, img.Configs[p].Config.Env, "foo=bar", p)
			assert.Empty(t, img.Configs[p].RootFS.DiffIDs, p)
		}
	})

	for _, c := range parityCases {
		t.Run(c.name, func(t *testing.T) {
			require.NoError(t, failed[c.name], "%s (%s): buildctl", c.name, c.source)
			tarball := filepath.Join(dir, "out", "archc", c.name+".tar")
			if _, err := os.Stat(tarball); err != nil {
				require.Failf(t, "archc did not build it", "%s (%s): apply exit %d\n%s", c.name, c.source, apply.code, grepLines(apply.stderr, "archc: component "+c.name+" "))
			}
			want := ociImages(t, filepath.Join(dir, "out", "buildctl", c.name+".tar"))
			got := ociImages(t, tarball)
			require.Equal(t, slices.Sorted(maps.Keys(want)), slices.Sorted(maps.Keys(got)), "%s (%s): platforms", c.name, c.source)
			for p, w := range want {
				g := got[p]
				assert.Equal(t, c.configOnly, len(g.layers) == 0, "%s %s: archc's image has %d layers", c.name, p, len(g.layers))
				assert.Equal(t, w.config, g.config, "%s (%s) %s: image config, buildctl (-) vs archc (+)", c.name, c.source, p)
				assert.Equal(t, w.layers, g.layers, "%s (%s) %s: layer files, buildctl (-) vs archc (+)", c.name, c.source, p)
			}
		})
	}
}

// parityProject writes the cases under cases/NAME (named contexts under named/NAME/CTX)
// and a spec with one component per case.
func parityProject(t *testing.T, e *env) string {
	t.Helper()
	dir := t.TempDir()
	var spec strings.Builder
	fmt.Fprintf(&spec, "registry \"docker.io\" { mirrors = [%q] }\nregistry %q { http = true }\n", e.mirror.URL, e.push.Host)
	for _, c := range parityCases {
		copyCase(t, filepath.Join("testdata", "parity", c.name), filepath.Join(dir, "cases", c.name), c.modes, c.links)
		fmt.Fprintf(&spec, "component %q {\n  context = \"./cases/%s\"\n  platforms = [\"%s\"]\n  output = \"oci\"\n  output_path = \"out/archc/%s.tar\"\n",
			c.name, c.name, strings.Join(c.platforms(), `", "`), c.name)
		if c.dockerfile != "" {
			fmt.Fprintf(&spec, "  dockerfile = %q\n", c.dockerfile)
		}
		if c.target != "" {
			fmt.Fprintf(&spec, "  target = %q\n", c.target)
		}
		if len(c.args) > 0 {
			fmt.Fprintf(&spec, "  args = {\n")
			for _, k := range slices.Sorted(maps.Keys(c.args)) {
				fmt.Fprintf(&spec, "    %s = %q\n", k, c.args[k])
			}
			fmt.Fprintf(&spec, "  }\n")
		}
		if len(c.named) > 0 {
			fmt.Fprintf(&spec, "  contexts = {\n")
			for _, n := range c.named {
				copyCase(t, filepath.Join("testdata", "parity", c.name+".named", n), filepath.Join(dir, "named", c.name, n), nil, nil)
				fmt.Fprintf(&spec, "    %s = \"./named/%s/%s\"\n", n, c.name, n)
			}
			fmt.Fprintf(&spec, "  }\n")
		}
		spec.WriteString("}\n")
	}
	// The config-only image pushed too: the registry exporter with nil refs.
	fmt.Fprintf(&spec, "component \"scratch_push\" {\n  context = \"./cases/scratch_config\"\n  platforms = [\"linux/amd64\", \"linux/arm64\"]\n  tags = [\"%s/parity/scratch:v1\"]\n}\n", e.push.Host)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "archbuild.hcl"), []byte(spec.String()), 0o644))
	return dir
}

// copyCase copies a case's files from src to dst as BuildKit's tests create them: files
// 0600, directories 0755, then modes and links.
func copyCase(t *testing.T, src, dst string, modes map[string]os.FileMode, links map[string]string) {
	t.Helper()
	require.NoError(t, filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		dt, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), dt, 0o600)
	}))
	for name, target := range links {
		require.NoError(t, os.Symlink(target, filepath.Join(dst, filepath.FromSlash(name))))
	}
	for name, mode := range modes {
		require.NoError(t, os.Chmod(filepath.Join(dst, filepath.FromSlash(name)), mode))
	}
}

// parityBuildctl builds every case with buildctl and the dockerfile frontend, four at a
// time, into out/buildctl/NAME.tar, and returns the failures by case.
func parityBuildctl(buildctl, addr, dir string) map[string]error {
	failed := map[string]error{}
	if err := os.MkdirAll(filepath.Join(dir, "out", "buildctl"), 0o755); err != nil {
		for _, c := range parityCases {
			failed[c.name] = err
		}
		return failed
	}
	var (
		mu sync.Mutex
		eg errgroup.Group
	)
	eg.SetLimit(4)
	for _, c := range parityCases {
		eg.Go(func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			out, err := exec.CommandContext(ctx, buildctl, buildctlArgs(c, addr, dir)...).CombinedOutput()
			if err != nil {
				mu.Lock()
				failed[c.name] = fmt.Errorf("%v\n%s", err, tail(string(out), 40))
				mu.Unlock()
			}
			return nil
		})
	}
	_ = eg.Wait()
	return failed
}

// buildctlArgs is the buildctl command line equivalent to c's component.
func buildctlArgs(c parityCase, addr, dir string) []string {
	ctxDir := filepath.Join(dir, "cases", c.name)
	args := []string{"--addr", addr, "build", "--progress=plain", "--frontend", "dockerfile.v0",
		"--local", "context=" + ctxDir, "--local", "dockerfile=" + ctxDir,
		"--opt", "platform=" + strings.Join(c.platforms(), ","),
		"--output", "type=oci,dest=" + filepath.Join(dir, "out", "buildctl", c.name+".tar")}
	if c.dockerfile != "" {
		args = append(args, "--opt", "filename="+c.dockerfile)
	}
	if c.target != "" {
		args = append(args, "--opt", "target="+c.target)
	}
	for _, k := range slices.Sorted(maps.Keys(c.args)) {
		args = append(args, "--opt", "build-arg:"+k+"="+c.args[k])
	}
	for _, n := range c.named {
		args = append(args, "--local", n+"="+filepath.Join(dir, "named", c.name, n), "--opt", "context:"+n+"=local:"+n)
	}
	return args
}

// parityImage is one platform's image, normalized for comparison.
type parityImage struct {
	// config is the image config as indented JSON without what normalizedConfig drops.
	config string
	// layers lists each layer's entries, one line each (layerListing).
	layers []string
}

// ociImages reads an OCI layout tarball: platform → image (attestations skipped).
func ociImages(t *testing.T, path string) map[string]parityImage {
	t.Helper()
	blobs := tarFiles(t, path)
	blob := func(d ocispecs.Descriptor) []byte {
		dt, ok := blobs["blobs/"+d.Digest.Algorithm().String()+"/"+d.Digest.Encoded()]
		require.True(t, ok, "%s: blob %s missing", path, d.Digest)
		return dt
	}
	out := map[string]parityImage{}
	var walk func(d ocispecs.Descriptor)
	walk = func(d ocispecs.Descriptor) {
		if d.Platform != nil && d.Platform.OS == "unknown" {
			return // an attestation manifest
		}
		switch d.MediaType {
		case ocispecs.MediaTypeImageIndex, "application/vnd.docker.distribution.manifest.list.v2+json":
			var idx ocispecs.Index
			require.NoError(t, json.Unmarshal(blob(d), &idx))
			for _, m := range idx.Manifests {
				walk(m)
			}
		default:
			var m ocispecs.Manifest
			require.NoError(t, json.Unmarshal(blob(d), &m))
			raw := blob(m.Config)
			var cfg ocispecs.Image
			require.NoError(t, json.Unmarshal(raw, &cfg))
			p := cfg.OS + "/" + cfg.Architecture
			if cfg.Variant != "" {
				p += "/" + cfg.Variant
			}
			img := parityImage{config: normalizedConfig(t, raw)}
			for _, l := range m.Layers {
				img.layers = append(img.layers, layerListing(t, l.MediaType, blob(l)))
			}
			out[p] = img
		}
	}
	var idx ocispecs.Index
	require.NoError(t, json.Unmarshal(blobs["index.json"], &idx), path)
	for _, d := range idx.Manifests {
		walk(d)
	}
	return out
}

func tarFiles(t *testing.T, path string) map[string][]byte {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	files := map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files
		}
		require.NoError(t, err, path)
		dt, err := io.ReadAll(tr)
		require.NoError(t, err)
		files[h.Name] = dt
	}
}

// normalizedConfig drops what legitimately differs between two builds of the same
// Dockerfile: the created timestamps (config and history), and the layer digests (their
// tar headers carry the build's mtimes), keeping their count.
func normalizedConfig(t *testing.T, raw []byte) string {
	var cfg map[string]any
	require.NoError(t, json.Unmarshal(raw, &cfg))
	delete(cfg, "created")
	if h, ok := cfg["history"].([]any); ok {
		for _, e := range h {
			if m, ok := e.(map[string]any); ok {
				delete(m, "created")
			}
		}
	}
	if rf, ok := cfg["rootfs"].(map[string]any); ok {
		if ids, ok := rf["diff_ids"].([]any); ok {
			rf["diff_ids"] = fmt.Sprintf("%d layers", len(ids))
		}
	}
	dt, err := json.MarshalIndent(cfg, "", "  ")
	require.NoError(t, err)
	return string(dt)
}

// layerListing is one line per tar entry: path, mode, uid:gid, type, link target and the
// content's sha256, sorted by path. Modification times are left out.
func layerListing(t *testing.T, mediaType string, dt []byte) string {
	var r io.Reader = bytes.NewReader(dt)
	if strings.HasSuffix(mediaType, "gzip") {
		zr, err := gzip.NewReader(r)
		require.NoError(t, err)
		r = zr
	}
	tr := tar.NewReader(r)
	var lines []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		sum := ""
		if h.Typeflag == tar.TypeReg {
			s := sha256.New()
			_, err := io.Copy(s, tr)
			require.NoError(t, err)
			sum = fmt.Sprintf("sha256:%x", s.Sum(nil))
		}
		lines = append(lines, fmt.Sprintf("%s %o %d:%d %c %s %s", h.Name, h.Mode, h.Uid, h.Gid, h.Typeflag, h.Linkname, sum))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}
