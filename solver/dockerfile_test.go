package solver

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/buildkit/solver/errdefs"
	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/buildkit/util/grpcerrors"
	digest "github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLocateStep(t *testing.T) {
	t.Parallel()
	df := filepath.Join(t.TempDir(), "Dockerfile")
	require.NoError(t, os.WriteFile(df, []byte("FROM busybox AS build\nRUN echo one\nRUN make \\\n    all\nCOPY --from=build /a /b\n"), 0o644))
	tests := []struct {
		step, want string
	}{
		{"[web linux/arm64] [build 2/3] RUN echo one", ":2\n    2 | >>> RUN echo one\n"},
		{"[web] [build 3/3] RUN make     all", ":3\n    3 | >>> RUN make \\\n    4 | >>>     all\n"},
		{"[web linux/amd64] [stage-1 1/1] COPY --from=build /a /b", ":5\n"},
		{"[web] RUN something else", ""},
		{"not a step", ""},
	}
	for _, tc := range tests {
		got := locateStep(df, tc.step)
		if tc.want == "" {
			assert.Empty(t, got, tc.step)
			continue
		}
		assert.Contains(t, got, tc.want, tc.step)
	}
}

func TestBuildErrorSource(t *testing.T) {
	t.Parallel()
	// The Dockerfile on disk has the RUN on line 2; the source map says line 3 of
	// bad/Dockerfile: which one the error names tells which path was taken.
	df := filepath.Join(t.TempDir(), "Dockerfile")
	require.NoError(t, os.WriteFile(df, []byte("FROM busybox\nRUN exit 3\n"), 0o644))
	mapped := "FROM busybox\nRUN echo preparing\nRUN exit 3\n"
	withSource := errdefs.WithSource(errors.New("process \"/bin/sh -c exit 3\" did not complete successfully: exit code: 3"), &errdefs.Source{
		Info:   &pb.SourceInfo{Filename: "bad/Dockerfile", Language: "Dockerfile", Data: []byte(mapped)},
		Ranges: []*pb.Range{{Start: &pb.Position{Line: 3}, End: &pb.Position{Line: 3}}},
	})
	// what the client gets back: the error crossed gRPC as a status with details.
	overGRPC := grpcerrors.FromGRPC(grpcerrors.ToGRPC(context.Background(), withSource))
	tests := []struct {
		name string
		err  error
		step string
		want []string // substrings of Source; none means empty
	}{
		{"source map, through gRPC", overGRPC, "[bad] [2/2] RUN exit 3", []string{"bad/Dockerfile:3\n", ">>> RUN exit 3"}},
		{"source map, wrapped", &PlatformError{Platform: "linux/amd64", Err: withSource}, "", []string{"bad/Dockerfile:3\n"}},
		{"no source map: matched by step name", errors.New("exit code: 3"), "[bad] [2/2] RUN exit 3", []string{":2\n", ">>> RUN exit 3"}},
		{"no source map, no step", errors.New("exit code: 3"), "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			job := &Job{Component: "bad", Dockerfile: df}
			tr := newTracker(job, nil)
			if tc.step != "" {
				d := digest.FromString(tc.step)
				tr.names[d] = tc.step
				tr.failed = append(tr.failed, d)
			}
			be := buildError(job, &Builder{Name: "local"}, tr, tc.err)
			if len(tc.want) == 0 {
				assert.Empty(t, be.Source)
				return
			}
			for _, w := range tc.want {
				assert.Contains(t, be.Source, w)
			}
			assert.Equal(t, 1, strings.Count(be.Source, "Dockerfile:"), "the location is named once:\n%s", be.Source)
			assert.Contains(t, be.Error(), tc.want[0])
		})
	}
}
