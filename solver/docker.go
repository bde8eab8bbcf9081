package solver

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/moby/buildkit/client"

	"github.com/archc-dev/archc/spec"
)

// Output "docker": BuildKit's docker exporter writes a `docker load` archive (manifest.json
// with RepoTags, the config and the layers, plus the OCI layout). Where a Docker engine
// answers, the archive is streamed into its image load API as it is written (docker_engine.go);
// with output_path it is also written there; with neither, apply fails before solving.

// lookupDockerEngine finds the engine once per process: every docker output of a run goes
// to the same place, and the note printed after a solve (noteDocker) names the place the
// export used.
var lookupDockerEngine = sync.OnceValues(func() (*dockerEngine, string) {
	return findDockerEngine(context.Background(), os.Getenv, defaultDockerSocket)
})

// dockerExports is the exporter entry of a docker output, sent to engine (nil: none, why
// says so) and to job.OutputPath when set.
func dockerExports(job *Job, engine *dockerEngine, why string) ([]client.ExportEntry, error) {
	if len(job.Builds) > 1 {
		// BuildKit's docker exporter writes one platform ("does not currently support
		// exporting manifest lists"), and a classic engine store keeps one per tag.
		return nil, fmt.Errorf("component %s: output docker loads one platform, the component has %d (%s): give it one platform, or use output oci for a multi-platform archive",
			job.Component, len(job.Builds), strings.Join(job.Platforms(), ", "))
	}
	if len(job.Tags) == 0 {
		return nil, fmt.Errorf("component %s: output docker names the image by its tags; the component has none", job.Component)
	}
	if engine == nil && job.OutputPath == "" {
		return nil, fmt.Errorf("component %s: output docker: no Docker engine to load the image into (%s) and no output_path to write it to: set output_path for a tarball to `docker load -i`", job.Component, why)
	}
	attrs := map[string]string{"name": strings.Join(job.Tags, ",")}
	path, tags := job.OutputPath, job.Tags
	return []client.ExportEntry{{Type: client.ExporterDocker, Attrs: attrs, Output: func(map[string]string) (io.WriteCloser, error) {
		return openDockerTarget(path, engine, tags)
	}}}, nil
}

// openDockerTarget opens where the archive goes: the file at path, the engine, or both.
func openDockerTarget(path string, engine *dockerEngine, tags []string) (io.WriteCloser, error) {
	var file io.WriteCloser
	if path != "" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, err
		}
		f, err := os.Create(path)
		if err != nil {
			return nil, err
		}
		file = f
	}
	if engine == nil {
		return file, nil
	}
	load := engine.load(tags)
	if file == nil {
		return load, nil
	}
	return &teeWriteCloser{a: file, b: load}, nil
}

// teeWriteCloser writes to both; Close closes both and returns the first error.
type teeWriteCloser struct{ a, b io.WriteCloser }

func (t *teeWriteCloser) Write(p []byte) (int, error) {
	if n, err := t.a.Write(p); err != nil {
		return n, err
	}
	return t.b.Write(p)
}

func (t *teeWriteCloser) Close() error {
	errA, errB := t.a.Close(), t.b.Close()
	if errA != nil {
		return errA
	}
	return errB
}

// dockerNote says where a docker output went, after its solve: loaded into the engine,
// written to output_path (with the `docker load` command when no engine took it).
func dockerNote(job *Job, engine *dockerEngine, why string) string {
	path := relName(job.OutputPath)
	switch {
	case engine != nil && path != "":
		return fmt.Sprintf("component %s: loaded %s into the Docker engine at %s; also wrote %s", job.Component, strings.Join(job.Tags, ", "), engine.host, path)
	case engine != nil:
		return fmt.Sprintf("component %s: loaded %s into the Docker engine at %s", job.Component, strings.Join(job.Tags, ", "), engine.host)
	default:
		return fmt.Sprintf("component %s: wrote %s (no Docker engine: %s); load it with: docker load -i %s", job.Component, path, why, path)
	}
}

// noteDocker tells logf where a finished docker output went.
func noteDocker(job *Job, logf func(string, ...any)) {
	if job.Output != spec.OutputDocker || logf == nil {
		return
	}
	engine, why := lookupDockerEngine()
	logf("%s", dockerNote(job, engine, why))
}
