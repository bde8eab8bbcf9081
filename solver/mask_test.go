package solver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/console"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zclconf/go-cty/cty"

	"github.com/archc-dev/archc/spec"
)

const testSecret = "s3cr3t-T0KEN"

// sensitiveSpec is a spec whose TOKEN variable is sensitive: its Scrubber is what apply
// hands the display.
func sensitiveSpec() *spec.Spec {
	return &spec.Spec{Variables: []spec.Variable{
		{Name: "TOKEN", Sensitive: true, Cty: cty.StringVal(testSecret)},
		{Name: "ONE", Sensitive: true, Cty: cty.StringVal("1")}, // too short to hide
	}}
}

func TestStatusMaskerRewritesEveryField(t *testing.T) {
	t.Parallel()
	m := newStatusMasker(sensitiveSpec().Scrubber())
	v := digest.FromString("run")
	now := time.Now()
	st := &client.SolveStatus{
		Vertexes: []*client.Vertex{{Digest: v, Name: "[2/2] RUN echo " + testSecret + " > /t\x1b]0;owned\a", Error: "exit 1: " + testSecret}},
		Statuses: []*client.VertexStatus{{ID: "pushing reg/app:\x1b[2J" + testSecret, Vertex: v, Name: testSecret}},
		Warnings: []*client.VertexWarning{{Vertex: v, Short: []byte("ARG " + testSecret), Detail: [][]byte{[]byte("d " + testSecret)},
			URL: "https://u:" + testSecret + "@x", SourceInfo: &pb.SourceInfo{Filename: "Dockerfile", Data: []byte("ARG T=" + testSecret + "\n")}}},
		Logs: []*client.VertexLog{{Vertex: v, Stream: 1, Data: []byte(testSecret + " 1\n"), Timestamp: now}},
	}
	m.rewrite(st)
	assert.Equal(t, `[2/2] RUN echo (sensitive) > /t\x1b]0;owned\x07`, st.Vertexes[0].Name)
	assert.Equal(t, "exit 1: (sensitive)", st.Vertexes[0].Error)
	assert.Equal(t, `pushing reg/app:\x1b[2J(sensitive)`, st.Statuses[0].ID)
	assert.Equal(t, "(sensitive)", st.Statuses[0].Name)
	w := st.Warnings[0]
	assert.Equal(t, "ARG (sensitive)", string(w.Short))
	assert.Equal(t, "d (sensitive)", string(w.Detail[0]))
	assert.NotContains(t, w.URL, testSecret)
	assert.Equal(t, "ARG T=(sensitive)\n", string(w.SourceInfo.Data))
	require.Len(t, st.Logs, 1)
	assert.Equal(t, "(sensitive) 1\n", string(st.Logs[0].Data), "values under 3 bytes stay: they would mask every digit")
}

// TestStatusMaskerLogChunks feeds logs as the daemon may cut them, then checks what is
// shown, concatenated, per stream.
func TestStatusMaskerLogChunks(t *testing.T) {
	t.Parallel()
	half := len(testSecret) / 2
	tests := []struct {
		name     string
		chunks   []string
		complete bool // the vertex completes after the chunks (else the stream ends)
		want     string
	}{
		{"value cut in two", []string{"token=" + testSecret[:half], testSecret[half:] + "\nnext\n"}, false, "token=(sensitive)\nnext\n"},
		{"value cut, then completion", []string{"a\n" + testSecret[:half], testSecret[half:]}, true, "a\n(sensitive)"},
		{"value in the last unfinished line", []string{"x " + testSecret}, false, "x (sensitive)"},
		{"CRLF cut between chunks", []string{"10%\r", "\n20%\r30%\r\n"}, false, "10%\n20%\n30%\n"},
		{"escapes from the build", []string{"\x1b]52;c;cHduZWQ=\a\n"}, false, `\x1b]52;c;cHduZWQ=\x07` + "\n"},
		{"long line shown in pieces", []string{strings.Repeat("x", maxHeldLog+10), testSecret + "\n"}, false, strings.Repeat("x", maxHeldLog+10) + "(sensitive)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := newStatusMasker(sensitiveSpec().Scrubber())
			v := digest.FromString("run")
			var shown []*client.VertexLog
			for _, c := range tt.chunks {
				st := &client.SolveStatus{Logs: []*client.VertexLog{{Vertex: v, Stream: 1, Data: []byte(c)}}}
				m.rewrite(st)
				shown = append(shown, st.Logs...)
			}
			if tt.complete {
				now := time.Now()
				st := &client.SolveStatus{Vertexes: []*client.Vertex{{Digest: v, Name: "RUN x", Completed: &now}}}
				m.rewrite(st)
				shown = append(shown, st.Logs...)
				assert.Nil(t, m.flush(), "completion flushed the vertex")
			} else if st := m.flush(); st != nil {
				shown = append(shown, st.Logs...)
			}
			var all strings.Builder
			for _, l := range shown {
				assert.NotContains(t, string(l.Data), testSecret[:half], "no piece of the value is shown")
				all.Write(l.Data)
			}
			assert.Equal(t, tt.want, all.String())
		})
	}
}

// TestProgressMasksEveryMode runs a masked status stream through the real display in
// each mode (tty on a pseudo-terminal).
func TestProgressMasksEveryMode(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"tty", "plain", "rawjson", "quiet"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			j, ops := twoPlatformJob(t)
			var buf bytes.Buffer
			var w io.Writer = &buf
			output := buf.String
			if mode == "tty" {
				w, output = pseudoTerminal(t)
			}
			p, err := NewProgress(context.Background(), w, mode, WithMask(sensitiveSpec().Scrubber()))
			require.NoError(t, err)
			tr := newTracker(j, j.Builds)
			run := ops["linux/amd64"][1]
			start, end := time.Now(), time.Now().Add(time.Second)
			ch := tr.follow(p)
			ch <- &client.SolveStatus{Vertexes: []*client.Vertex{{Digest: run, Name: `RUN echo "` + testSecret + `" > /t`, Started: &start}}}
			ch <- &client.SolveStatus{Logs: []*client.VertexLog{{Vertex: run, Stream: 1, Data: []byte(testSecret[:4]), Timestamp: start}}}
			ch <- &client.SolveStatus{Logs: []*client.VertexLog{{Vertex: run, Stream: 1, Data: []byte(testSecret[4:] + "\n"), Timestamp: start}}}
			ch <- &client.SolveStatus{Vertexes: []*client.Vertex{{Digest: run, Name: `RUN echo "` + testSecret + `" > /t`, Started: &start, Completed: &end, Error: "exit code 1"}}}
			close(ch)
			require.NoError(t, p.Close())
			out := output()
			assert.NotContains(t, out, testSecret)
			if mode != "quiet" {
				assert.Contains(t, out, "(sensitive)")
			}
			name, logs, _ := tr.failure()
			assert.Equal(t, `[web linux/amd64] RUN echo "(sensitive)" > /t`, name, "the failure summary sees the masked stream")
			assert.Equal(t, []string{"(sensitive)"}, logs)
		})
	}
}

func TestMaskError(t *testing.T) {
	t.Parallel()
	cause := hintedTestError{errors.New("mkdir /work/" + testSecret + ": read-only file system")}
	err := maskError(fmt.Errorf("component c: %w", errors.Join(cause, context.Canceled)), sensitiveSpec().Scrubber())
	assert.Equal(t, "component c: mkdir /work/(sensitive): read-only file system\ncontext canceled", err.Error())
	assert.ErrorIs(t, err, context.Canceled, "the chain is kept")
	var h hintedTestError
	assert.ErrorAs(t, err, &h, "hints are still found")
	assert.NoError(t, maskError(nil, sensitiveSpec().Scrubber()))
}

// pseudoTerminal returns the terminal end of a pty, for progressui's tty mode, and a
// function that closes it and returns everything written to it.
func pseudoTerminal(t *testing.T) (*os.File, func() string) {
	t.Helper()
	master, name, err := console.NewPty()
	require.NoError(t, err)
	t.Cleanup(func() { _ = master.Close() })
	term, err := os.OpenFile(name, os.O_RDWR|syscall.O_NOCTTY, 0)
	require.NoError(t, err)
	require.NoError(t, master.Resize(console.WinSize{Height: 40, Width: 200}))
	var out bytes.Buffer
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		_, _ = io.Copy(&out, master) // ends with EIO once the terminal end is closed
	}()
	return term, func() string {
		_ = term.Close()
		<-drained
		return out.String()
	}
}
