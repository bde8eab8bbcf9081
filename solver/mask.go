package solver

import (
	"cmp"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
	"google.golang.org/protobuf/proto"

	"github.com/archc-dev/archc/spec"
)

// maxHeldLog bounds the text of an unfinished log line held back per vertex and stream: a
// longer line is shown in pieces, keeping this much back. A sensitive value longer than
// this, split by the daemon between two chunks of one line, could show in part.
const maxHeldLog = 4096

// statusMasker rewrites one status stream before anything displays or records it, so every
// progress mode (tty, plain, rawjson, quiet), the failure summary and the error a failed
// build returns see the same text. BuildKit expands build args in step names ("RUN echo
// $TOKEN" arrives with the value) and a build may print them, so mask (the spec's
// Scrubber: sensitive values become "(sensitive)", URL credentials are hidden) runs over
// vertex names and errors, status names, warnings and logs; then control characters are
// escaped (spec.SafeText), so a tag, a registry's error body or a build's output cannot
// drive the reader's terminal.
//
// Logs arrive in chunks that may cut a value in two, so the text after a chunk's last
// newline is held back until the next chunk of that vertex and stream, the vertex's
// completion or the end of the stream.
type statusMasker struct {
	mask func(string) string
	held map[logKey]*client.VertexLog
}

type logKey struct {
	vertex digest.Digest
	stream int
}

// newStatusMasker masks with mask; nil hides URL credentials only.
func newStatusMasker(mask func(string) string) *statusMasker {
	if mask == nil {
		mask = spec.RedactText
	}
	return &statusMasker{mask: mask, held: map[logKey]*client.VertexLog{}}
}

// rewrite masks and escapes st in place. Logs held back from earlier chunks of a vertex
// that completes in st are added to st's logs.
func (m *statusMasker) rewrite(st *client.SolveStatus) {
	for _, v := range st.Vertexes {
		v.Name = spec.SafeLine(m.mask(v.Name))
		v.Error = spec.SafeText(m.mask(v.Error))
	}
	for _, s := range st.Statuses {
		s.ID = spec.SafeLine(m.mask(s.ID))
		s.Name = spec.SafeLine(m.mask(s.Name))
	}
	for _, w := range st.Warnings {
		m.rewriteWarning(w)
	}
	logs := st.Logs[:0]
	for _, l := range st.Logs {
		if l = m.log(l); l != nil {
			logs = append(logs, l)
		}
	}
	st.Logs = logs
	for _, v := range st.Vertexes {
		if v.Completed != nil {
			st.Logs = append(st.Logs, m.flushVertex(v.Digest)...)
		}
	}
}

func (m *statusMasker) rewriteWarning(w *client.VertexWarning) {
	w.Short = []byte(spec.SafeLine(m.mask(string(w.Short))))
	for i, d := range w.Detail {
		w.Detail[i] = []byte(spec.SafeText(m.mask(string(d))))
	}
	w.URL = spec.SafeLine(m.mask(w.URL))
	if w.SourceInfo != nil {
		// rawjson prints the source (the Dockerfile) whole; the display prints its lines.
		si := proto.Clone(w.SourceInfo).(*pb.SourceInfo)
		si.Filename = spec.SafeLine(m.mask(si.Filename))
		si.Data = []byte(spec.SafeText(m.mask(string(si.Data))))
		w.SourceInfo = si
	}
}

// log returns what can be shown of l with the text held back before it: up to its last
// newline (or all but maxHeldLog bytes of a long line), masked and escaped; nil when
// everything is held back.
func (m *statusMasker) log(l *client.VertexLog) *client.VertexLog {
	k := logKey{l.Vertex, l.Stream}
	text := string(l.Data)
	if h := m.held[k]; h != nil {
		text = string(h.Data) + text
		delete(m.held, k)
	}
	text = m.mask(lineBreaks(text, false))
	cut := strings.LastIndexByte(text, '\n') + 1
	if len(text)-cut > maxHeldLog {
		cut = len(text) - maxHeldLog
		for cut < len(text) && !utf8.RuneStart(text[cut]) {
			cut++
		}
	}
	if cut < len(text) {
		h := *l
		h.Data = []byte(text[cut:])
		m.held[k] = &h
	}
	if cut == 0 {
		return nil
	}
	l.Data = []byte(spec.SafeText(text[:cut]))
	return l
}

// flushVertex returns the held text of a vertex's streams, masked and escaped.
func (m *statusMasker) flushVertex(d digest.Digest) []*client.VertexLog {
	var out []*client.VertexLog
	for _, k := range m.heldKeys() {
		if k.vertex == d {
			out = append(out, m.final(k))
		}
	}
	return out
}

// flush returns everything still held (the stream ended), nil when nothing is.
func (m *statusMasker) flush() *client.SolveStatus {
	if len(m.held) == 0 {
		return nil
	}
	st := &client.SolveStatus{}
	for _, k := range m.heldKeys() {
		st.Logs = append(st.Logs, m.final(k))
	}
	return st
}

func (m *statusMasker) heldKeys() []logKey {
	keys := slices.Collect(maps.Keys(m.held))
	slices.SortFunc(keys, func(a, b logKey) int {
		return cmp.Or(strings.Compare(string(a.vertex), string(b.vertex)), cmp.Compare(a.stream, b.stream))
	})
	return keys
}

// final removes k's held text and returns it as a log, masked and escaped.
func (m *statusMasker) final(k logKey) *client.VertexLog {
	h := m.held[k]
	delete(m.held, k)
	h.Data = []byte(spec.SafeText(m.mask(lineBreaks(string(h.Data), true))))
	return h
}

// lineBreaks turns carriage returns (progress bars, CRLF) into newlines, which the display
// shows as lines where an escaped "\r" would pile up on one. Unless final, a trailing "\r"
// is kept: it may be the first half of a CRLF.
func lineBreaks(s string, final bool) string {
	if !strings.Contains(s, "\r") {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	if !final && strings.HasSuffix(s, "\r") {
		return strings.ReplaceAll(s[:len(s)-1], "\r", "\n") + "\r"
	}
	return strings.ReplaceAll(s, "\r", "\n")
}

// maskedError is an error whose message is masked (the spec's Scrubber): a failed solve's
// error repeats what BuildKit put in it (a step's name, a path expanded from a build arg).
// Unwrap keeps the chain, so exit codes and hints are found as before.
type maskedError struct {
	err  error
	mask func(string) string
}

// maskError masks err's message with mask; nil stays nil.
func maskError(err error, mask func(string) string) error {
	if err == nil || mask == nil {
		return err
	}
	return &maskedError{err: err, mask: mask}
}

func (e *maskedError) Error() string { return e.mask(e.err.Error()) }
func (e *maskedError) Unwrap() error { return e.err }
