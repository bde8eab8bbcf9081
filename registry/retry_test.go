package registry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/archc-dev/archc/internal/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// script answers the nth request (from 1) with what answer says, and records arrivals.
type script struct {
	mu       sync.Mutex
	arrivals []time.Time
	bodies   []string
	answer   func(n int, w http.ResponseWriter) bool // false: stall until the client leaves
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.arrivals = append(s.arrivals, time.Now())
	s.bodies = append(s.bodies, string(body))
	n := len(s.arrivals)
	s.mu.Unlock()
	if !s.answer(n, w) {
		<-r.Context().Done()
	}
}

func (s *script) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.arrivals)
}

func testTransport(t *testing.T, count *atomic.Int64, opts ...Option) http.RoundTripper {
	t.Helper()
	o, err := makeOptions(append([]Option{WithDialContext(loopbackOnly), withBackoff(10*time.Millisecond, 50*time.Millisecond)}, opts...))
	require.NoError(t, err)
	tc := newTransportConfig(nil, o, count)
	return tc.client(tc.newTransport(nil), nil, "")
}

// TestRetryTransport: each request is retried on its own, by class: transient answers
// until they pass, refused connections briefly, a host that never answers not at all
// (the caller fails over), final answers never; a body is replayed only when it can be.
func TestRetryTransport(t *testing.T) {
	t.Parallel()
	status := func(codes ...int) func(int, http.ResponseWriter) bool {
		return func(n int, w http.ResponseWriter) bool {
			if n <= len(codes) {
				w.WriteHeader(codes[n-1])
				return true
			}
			_, _ = w.Write([]byte("ok"))
			return true
		}
	}
	tests := []struct {
		name      string
		answer    func(int, http.ResponseWriter) bool
		method    string
		body      func() io.Reader // nil: no body
		opaque    bool             // hide the body's type: not replayable
		wantOK    bool
		requests  int
		attempts  int // reported; 0: requests
		wantClass Class
	}{
		{name: "503 twice, then 200", answer: status(503, 503), wantOK: true, requests: 3},
		{name: "500, 502, 504 and 408 are transient", answer: status(500, 502, 504, 408), wantOK: true, requests: 5},
		{name: "503 until the attempts run out", answer: status(503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503),
			requests: retryAttempts, wantClass: ClassTransient},
		{name: "404 is final", answer: status(404), requests: 1, wantOK: true /* the answer is the caller's to read */},
		{name: "401 is final", answer: status(401), requests: 1, wantOK: true},
		{name: "a host that never answers is not waited on twice", answer: func(int, http.ResponseWriter) bool { return false },
			requests: hedged, attempts: 1, wantClass: ClassTimeout},
		{name: "a replayable body is sent again", answer: status(503), method: http.MethodPut,
			body: func() io.Reader { return strings.NewReader("manifest") }, wantOK: true, requests: 2},
		{name: "a streamed body is not", answer: status(503), method: http.MethodPut, opaque: true,
			body: func() io.Reader { return strings.NewReader("manifest") }, requests: 1, wantClass: ClassTransient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sc := &script{answer: tt.answer}
			srv := httptest.NewServer(sc)
			t.Cleanup(srv.Close)
			var count atomic.Int64
			rt := testTransport(t, &count, WithAttemptTimeout(300*time.Millisecond))
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			var body io.Reader
			if tt.body != nil {
				body = tt.body()
				if tt.opaque {
					body = io.MultiReader(body)
				}
			}
			req, err := http.NewRequestWithContext(context.Background(), method, srv.URL+"/v2/", body)
			require.NoError(t, err)
			resp, err := rt.RoundTrip(req)
			if tt.wantOK {
				require.NoError(t, err)
				resp.Body.Close()
			} else {
				require.Error(t, err)
				o := classify(err, context.Background(), context.Background(), 0)
				assert.Equal(t, tt.wantClass, o.class, err.Error())
				want := tt.attempts
				if want == 0 {
					want = tt.requests
				}
				assert.Equal(t, want, o.attempts, "attempts reported")
			}
			assert.Equal(t, tt.requests, sc.count(), "requests the server saw")
			assert.EqualValues(t, tt.requests, count.Load(), "requests counted")
			if tt.body != nil && !tt.opaque {
				for _, b := range sc.bodies {
					assert.Equal(t, "manifest", b, "each attempt carries the whole body")
				}
			}
		})
	}
}

// TestRetryTransportRetryAfter: a 429's Retry-After is waited for, not the short backoff.
func TestRetryTransportRetryAfter(t *testing.T) {
	t.Parallel()
	sc := &script{answer: func(n int, w http.ResponseWriter) bool {
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
		}
		return true
	}}
	srv := httptest.NewServer(sc)
	t.Cleanup(srv.Close)
	rt := testTransport(t, nil)
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/v2/", nil)
	require.NoError(t, err)
	resp, err := rt.RoundTrip(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 2, sc.count())
	gap := sc.arrivals[1].Sub(sc.arrivals[0])
	assert.GreaterOrEqual(t, gap, 900*time.Millisecond, "the server asked for a second; the backoff alone is 50 ms")
}

// TestRetryTransportRefused: a refused connection is retried briefly, then reported as
// refused so the caller skips the host.
func TestRetryTransportRefused(t *testing.T) {
	t.Parallel()
	var count atomic.Int64
	rt := testTransport(t, &count)
	req, err := http.NewRequest(http.MethodGet, "http://"+testenv.ClosedAddr(t)+"/v2/", nil)
	require.NoError(t, err)
	_, err = rt.RoundTrip(req)
	require.Error(t, err)
	o := classify(err, context.Background(), context.Background(), 0)
	assert.True(t, o.refused, err.Error())
	assert.Equal(t, refusedAttempts, o.attempts)
	assert.EqualValues(t, refusedAttempts, count.Load())
}

// TestRetryOp: Retry redoes a whole operation only while it fails transiently and only
// passes; anything else is returned at once.
func TestRetryOp(t *testing.T) {
	// Not parallel: it shortens Retry's backoff, which only this test uses.
	defer func(b, m time.Duration) { opBackoffBase, opBackoffMax = b, m }(opBackoffBase, opBackoffMax)
	opBackoffBase, opBackoffMax = 10*time.Millisecond, 40*time.Millisecond
	transient := errors.New(`failed to push x: unexpected status from PUT request to http://h/v2/x/manifests/v1: 503 Service Unavailable`)
	final := errors.New(`process "/bin/sh -c exit 3" did not complete successfully: exit code: 3`)
	onlyPush := func(err error) bool { return strings.Contains(err.Error(), "failed to push") }

	n := 0
	err := Retry(context.Background(), nil, onlyPush, func() error {
		if n++; n < 3 {
			return transient
		}
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, 3, n)

	n = 0
	err = Retry(context.Background(), nil, onlyPush, func() error { n++; return final })
	assert.Equal(t, final, err)
	assert.Equal(t, 1, n, "a failed build step is not redone")

	var logged bytes.Buffer
	n = 0
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = Retry(ctx, func(f string, a ...any) { logged.WriteString(f + "\n") }, nil, func() error { n++; return transient })
	require.Error(t, err)
	assert.Equal(t, opAttempts, n)
	assert.Contains(t, err.Error(), fmt.Sprintf("%d attempts", opAttempts))
	assert.Equal(t, opAttempts-1, strings.Count(logged.String(), "retrying in"))
}

// TestResolveRefusedOnlyMirror: the only mirror of a mirrors_only registry is not dropped
// on its first refusal, but a stopped one costs two rounds of quick attempts, not the
// whole deadline.
func TestResolveRefusedOnlyMirror(t *testing.T) {
	t.Parallel()
	mirror := "http://" + testenv.ClosedAddr(t)
	r := newTestResolver(t, mirrorSpec(true, mirror), WithTimeout(time.Minute))
	_, err := r.Resolve(context.Background(), "busybox:1.36", both)
	var re *ResolveError
	require.ErrorAs(t, err, &re)
	require.Len(t, re.Hosts, 1)
	assert.Equal(t, lastHostTimeouts*refusedAttempts, re.Hosts[0].Attempts, err.Error())
	assert.Contains(t, err.Error(), "connection refused")
	assert.Equal(t, []string{"mirror " + mirror + ": refused connections"}, r.Skipped())
}

// TestRetryTransportHedges: a read without headers after the hedge delay is sent again;
// the first answer wins, and a host that answers at once is asked once.
func TestRetryTransportHedges(t *testing.T) {
	t.Parallel()
	sc := &script{answer: func(n int, w http.ResponseWriter) bool {
		if n == 1 {
			return false // the first request stalls until the client leaves
		}
		_, _ = w.Write([]byte("ok"))
		return true
	}}
	srv := httptest.NewServer(sc)
	t.Cleanup(srv.Close)
	var count atomic.Int64
	rt := testTransport(t, &count, WithAttemptTimeout(10*time.Second))
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/v2/", nil)
	require.NoError(t, err)
	resp, err := rt.RoundTrip(req)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, "ok", string(body), "the hedge's answer")
	assert.Equal(t, 2, sc.count())
	assert.EqualValues(t, 2, count.Load())

	// An answer within the hedge delay: one request.
	sc2 := &script{answer: func(int, http.ResponseWriter) bool { return true }}
	srv2 := httptest.NewServer(sc2)
	t.Cleanup(srv2.Close)
	req, err = http.NewRequest(http.MethodGet, srv2.URL+"/v2/", nil)
	require.NoError(t, err)
	resp, err = rt.RoundTrip(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 1, sc2.count())
}
