package solver

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/buildkit/util/progress/progressui"
	digest "github.com/opencontainers/go-digest"
	"google.golang.org/protobuf/proto"
)

// Progress merges the status streams of every solve into one progressui display.
type Progress struct {
	ch   chan *client.SolveStatus
	done chan struct{}
	wg   sync.WaitGroup
	err  error
	// mask hides sensitive values in every status before it is shown (statusMasker).
	mask func(string) string
}

// ProgressOption configures NewProgress.
type ProgressOption func(*Progress)

// WithMask hides what mask hides (the spec's Scrubber: its sensitive values and URL
// credentials) in everything the display shows and the failure summaries. Without it
// only URL credentials are hidden.
func WithMask(mask func(string) string) ProgressOption {
	return func(p *Progress) { p.mask = mask }
}

// NewProgress starts a display on w in mode ("auto", "tty", "plain", "rawjson", "quiet").
// Every status is masked and its control characters escaped before the display (or the
// failure summary) sees it, in every mode.
func NewProgress(ctx context.Context, w io.Writer, mode string, opts ...ProgressOption) (*Progress, error) {
	if mode == "" {
		mode = string(progressui.AutoMode)
	}
	d, err := progressui.NewDisplay(w, progressui.DisplayMode(mode))
	if err != nil {
		return nil, fmt.Errorf("progress %q: %w", mode, err)
	}
	p := &Progress{ch: make(chan *client.SolveStatus, 64), done: make(chan struct{})}
	for _, o := range opts {
		o(p)
	}
	go func() {
		defer close(p.done)
		// The display must drain the channel even after ctx ends, or solves block.
		_, p.err = d.UpdateFrom(context.WithoutCancel(ctx), p.ch)
		for range p.ch {
		}
	}()
	return p, nil
}

// Close waits for every tracker, then for the display to finish.
func (p *Progress) Close() error {
	p.wg.Wait()
	close(p.ch)
	<-p.done
	return p.err
}

// tracker follows one job's status stream: it prefixes vertex names with the component
// and platform, counts cached steps and keeps each vertex's last log lines.
type tracker struct {
	component string
	// plats maps op digests to the platforms whose definition holds them.
	plats map[digest.Digest][]string
	// steps are the exec and file ops: the work a cache hit saves (sources are loaded,
	// never "cached").
	steps map[digest.Digest]bool

	mu     sync.Mutex
	names  map[digest.Digest]string
	done   map[digest.Digest]bool
	cached map[digest.Digest]bool
	logs   map[digest.Digest][]string
	failed []digest.Digest
}

const keepLogLines = 15

func newTracker(job *Job, builds []PlatformBuild) *tracker {
	t := &tracker{
		component: job.Component,
		plats:     map[digest.Digest][]string{},
		steps:     map[digest.Digest]bool{},
		names:     map[digest.Digest]string{},
		done:      map[digest.Digest]bool{},
		cached:    map[digest.Digest]bool{},
		logs:      map[digest.Digest][]string{},
	}
	for _, b := range builds {
		if b.Def == nil {
			continue
		}
		for _, dt := range b.Def.Def {
			d := digest.FromBytes(dt)
			t.plats[d] = append(t.plats[d], b.Platform)
			var op pb.Op
			if proto.Unmarshal(dt, &op) == nil && (op.GetExec() != nil || op.GetFile() != nil) {
				t.steps[d] = true
			}
		}
	}
	return t
}

// follow returns a channel for client.Build; what arrives is masked, annotated and
// forwarded to p.
func (t *tracker) follow(p *Progress) chan *client.SolveStatus {
	in := make(chan *client.SolveStatus)
	m := newStatusMasker(p.mask)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for st := range in {
			m.rewrite(st)
			t.observe(st)
			p.ch <- st
		}
		if st := m.flush(); st != nil {
			t.observe(st)
			p.ch <- st
		}
	}()
	return in
}

func (t *tracker) prefix(d digest.Digest) string {
	ps := t.plats[d]
	if len(ps) == 1 {
		return "[" + t.component + " " + ps[0] + "] "
	}
	return "[" + t.component + "] "
}

func (t *tracker) observe(st *client.SolveStatus) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, v := range st.Vertexes {
		if !strings.HasPrefix(v.Name, "["+t.component) {
			v.Name = t.prefix(v.Digest) + v.Name
		}
		t.names[v.Digest] = v.Name
		if v.Completed != nil {
			if !t.done[v.Digest] && v.Error == "" {
				t.done[v.Digest] = true
				t.cached[v.Digest] = v.Cached
			}
			if v.Error != "" && !strings.Contains(v.Error, "context canceled") {
				t.failed = append(t.failed, v.Digest)
			}
		}
	}
	for _, l := range st.Logs {
		lines := strings.Split(strings.TrimRight(string(l.Data), "\n"), "\n")
		buf := append(t.logs[l.Vertex], lines...)
		if len(buf) > keepLogLines {
			buf = buf[len(buf)-keepLogLines:]
		}
		t.logs[l.Vertex] = buf
	}
}

// counts returns the completed exec and file steps of the definitions (not sources,
// exporter or session vertices, which are never "cached") and those served from cache.
func (t *tracker) counts() (steps, cached int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for d := range t.done {
		if !t.steps[d] {
			continue
		}
		steps++
		if t.cached[d] {
			cached++
		}
	}
	return steps, cached
}

// failure describes the first failed vertex: its name and last log lines.
func (t *tracker) failure() (name string, logs []string, platform string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.failed) == 0 {
		return "", nil, ""
	}
	d := t.failed[0]
	if ps := t.plats[d]; len(ps) == 1 {
		platform = ps[0]
	}
	return t.names[d], t.logs[d], platform
}
