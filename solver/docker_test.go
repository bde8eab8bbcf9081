package solver

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/archc-dev/archc/compiler"
	"github.com/archc-dev/archc/spec"

	"github.com/archc-dev/archc/internal/testenv"
)

func dockerJob(platforms []string, tags []string, path string) *Job {
	j := &Job{Component: "app", Output: spec.OutputDocker, Tags: tags, OutputPath: path}
	for _, p := range platforms {
		j.Builds = append(j.Builds, PlatformBuild{Platform: p})
	}
	return j
}

func TestDockerExports(t *testing.T) {
	t.Parallel()
	engine := newDockerEngine("/nonexistent.sock")
	tests := []struct {
		name    string
		job     *Job
		engine  *dockerEngine
		wantErr string
	}{
		{name: "tarball", job: dockerJob([]string{"linux/amd64"}, []string{"127.0.0.1:5001/app:v1", "app:latest"}, "/out/app.tar")},
		{name: "engine only", job: dockerJob([]string{"linux/amd64"}, []string{"app:v1"}, ""), engine: engine},
		{name: "engine and tarball", job: dockerJob([]string{"linux/amd64"}, []string{"app:v1"}, "/out/app.tar"), engine: engine},
		{name: "two platforms", job: dockerJob([]string{"linux/amd64", "linux/arm64"}, []string{"app:v1"}, "/out/app.tar"), engine: engine,
			wantErr: "component app: output docker loads one platform, the component has 2 (linux/amd64, linux/arm64): give it one platform, or use output oci"},
		{name: "no tags", job: dockerJob([]string{"linux/amd64"}, nil, "/out/app.tar"),
			wantErr: "component app: output docker names the image by its tags; the component has none"},
		{name: "nowhere to go", job: dockerJob([]string{"linux/amd64"}, []string{"app:v1"}, ""),
			wantErr: "no Docker engine to load the image into (WHY) and no output_path to write it to: set output_path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ex, err := dockerExports(tt.job, tt.engine, "WHY")
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Len(t, ex, 1)
			assert.Equal(t, client.ExporterDocker, ex[0].Type)
			assert.Equal(t, map[string]string{"name": joinTags(tt.job.Tags)}, ex[0].Attrs, "every tag goes into RepoTags")
			assert.NotNil(t, ex[0].Output, "the archive comes back to archc, which writes or loads it")
			assert.Empty(t, ex[0].OutputDir)
		})
	}
}

func joinTags(tags []string) string {
	var b bytes.Buffer
	for i, t := range tags {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(t)
	}
	return b.String()
}

// export runs an entry's Output as BuildKit's file sync does: open, write, close.
func export(t *testing.T, e client.ExportEntry, archive []byte) error {
	t.Helper()
	wc, err := e.Output(map[string]string{})
	require.NoError(t, err)
	_, werr := io.Copy(wc, bytes.NewReader(archive))
	cerr := wc.Close()
	if werr != nil {
		return werr
	}
	return cerr
}

func TestDockerExportTarball(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "out", "app.tar")
	ex, err := dockerExports(dockerJob([]string{"linux/amd64"}, []string{"app:v1"}, path), nil, "none here")
	require.NoError(t, err)
	archive := makeDockerArchive(t, "app:v1")
	require.NoError(t, export(t, ex[0], archive))
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, archive, got, "the exporter's archive, byte for byte")
}

func TestDockerExportLoadsIntoEngine(t *testing.T) {
	t.Parallel()
	for _, withPath := range []bool{false, true} {
		fake := testenv.StartDockerEngine(t)
		engine, why := findDockerEngine(context.Background(), env(map[string]string{"DOCKER_HOST": "unix://" + fake.Socket}), "/nonexistent.sock")
		require.NotNil(t, engine, why)
		path := ""
		if withPath {
			path = filepath.Join(t.TempDir(), "app.tar")
		}
		ex, err := dockerExports(dockerJob([]string{"linux/amd64"}, []string{"127.0.0.1:5001/app:v1"}, path), engine, why)
		require.NoError(t, err)
		archive := makeDockerArchive(t, "127.0.0.1:5001/app:v1")
		require.NoError(t, export(t, ex[0], archive))

		loads := fake.Loaded()
		require.Len(t, loads, 1, "with output_path %v", withPath)
		assert.Equal(t, []string{"127.0.0.1:5001/app:v1"}, loads[0].RepoTags)
		assert.Len(t, loads[0].Layers, 1)
		if withPath {
			got, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, archive, got, "output_path is written too")
		}
	}
}

func TestDockerExportEngineRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		stopEarly bool
		archive   func([]byte) []byte
		wantErr   string
	}{
		{name: "truncated archive", archive: func(a []byte) []byte { return a[:len(a)/2] },
			wantErr: "load app:v1 into the Docker engine at unix://"},
		{name: "corrupt layer", archive: func(a []byte) []byte {
			b := bytes.Clone(a)
			i := bytes.Index(b, []byte{0x1f, 0x8b})
			b[i+20] ^= 0xff
			return b
		}, wantErr: "holds sha256:"},
		// The engine answers before reading: the exporter's writes must fail, not block.
		{name: "engine stops reading", stopEarly: true, archive: func(a []byte) []byte { return bytes.Repeat(a, 200) },
			wantErr: "500 Internal Server Error: no space left on device"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := testenv.StartDockerEngine(t)
			fake.StopEarly = tt.stopEarly
			engine := newDockerEngine(fake.Socket)
			ex, err := dockerExports(dockerJob([]string{"linux/amd64"}, []string{"app:v1"}, ""), engine, "")
			require.NoError(t, err)
			err = export(t, ex[0], tt.archive(makeDockerArchive(t, "app:v1")))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.Empty(t, fake.Loaded())
		})
	}
}

func scratchDef(t *testing.T) *llb.Definition {
	t.Helper()
	d, err := llb.Scratch().Marshal(context.Background())
	require.NoError(t, err)
	return d
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestFindDockerEngine(t *testing.T) {
	t.Parallel()
	fake := testenv.StartDockerEngine(t)
	missing := filepath.Join(t.TempDir(), "docker.sock")
	tests := []struct {
		name     string
		env      map[string]string
		socket   string
		wantHost string
		wantWhy  string
	}{
		{name: "default socket", socket: fake.Socket, wantHost: "unix://" + fake.Socket},
		{name: "DOCKER_HOST wins", env: map[string]string{"DOCKER_HOST": "unix://" + fake.Socket}, socket: missing, wantHost: "unix://" + fake.Socket},
		{name: "no engine", socket: missing, wantWhy: "unix://" + missing + ": connect: no such file or directory"},
		{name: "DOCKER_HOST tcp", env: map[string]string{"DOCKER_HOST": "tcp://127.0.0.1:2375"}, socket: fake.Socket,
			wantWhy: "DOCKER_HOST=tcp://127.0.0.1:2375 is not a unix socket, the only kind archc loads images through"},
		{name: "DOCKER_HOST down", env: map[string]string{"DOCKER_HOST": "unix://" + missing}, socket: fake.Socket,
			wantWhy: "unix://" + missing + ": connect:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, why := findDockerEngine(context.Background(), env(tt.env), tt.socket)
			if tt.wantHost == "" {
				assert.Nil(t, e)
				assert.Contains(t, why, tt.wantWhy)
				return
			}
			require.NotNil(t, e, why)
			assert.Equal(t, tt.wantHost, e.host)
			assert.Empty(t, why)
		})
	}
}

func TestDockerNote(t *testing.T) {
	t.Parallel()
	engine := newDockerEngine("/var/run/docker.sock")
	tests := []struct {
		name   string
		path   string
		engine *dockerEngine
		want   string
	}{
		{name: "engine", engine: engine,
			want: "component app: loaded app:v1, app:latest into the Docker engine at unix:///var/run/docker.sock"},
		{name: "engine and tarball", engine: engine, path: "out/app.tar",
			want: "component app: loaded app:v1, app:latest into the Docker engine at unix:///var/run/docker.sock; also wrote out/app.tar"},
		{name: "tarball", path: "out/app.tar",
			want: "component app: wrote out/app.tar (no Docker engine: WHY); load it with: docker load -i out/app.tar"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			job := dockerJob([]string{"linux/amd64"}, []string{"app:v1", "app:latest"}, tt.path)
			assert.Equal(t, tt.want, dockerNote(job, tt.engine, "WHY"))
		})
	}
}

func TestJobsFromPlanDocker(t *testing.T) {
	t.Parallel()
	s := &spec.Spec{Dir: "/proj", Components: []spec.Component{{Name: "app", Platforms: []string{"linux/amd64"}}}}
	tests := []struct {
		name     string
		outputs  []compiler.Output
		wantPath string
	}{
		{name: "tarball", outputs: []compiler.Output{{Type: spec.OutputDocker, Name: "app:latest", Path: "out/app.tar"}, {Type: spec.OutputDocker, Name: "app:v1", Path: "out/app.tar"}},
			wantPath: "/proj/out/app.tar"},
		{name: "engine only", outputs: []compiler.Output{{Type: spec.OutputDocker, Name: "app:latest"}, {Type: spec.OutputDocker, Name: "app:v1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := &compiler.Plan{Builds: []compiler.Build{{ID: "app/linux/amd64", Component: "app", Platform: "linux/amd64",
				Definition: scratchDef(t), Outputs: tt.outputs}}}
			jobs, err := JobsFromPlan(p, s)
			require.NoError(t, err)
			require.Len(t, jobs, 1)
			assert.Equal(t, spec.OutputDocker, jobs[0].Output)
			assert.Equal(t, []string{"app:latest", "app:v1"}, jobs[0].Tags)
			assert.Equal(t, tt.wantPath, jobs[0].OutputPath)
		})
	}
}
