package testenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Fault is what a FaultProxy does to a matching request instead of (or before) forwarding it.
// Build one with Blackhole, Slow, FailEveryN, Reset, TooMany or Status; Random makes any of
// them hit only a seeded share of requests.
type Fault struct {
	name       string
	delay      time.Duration // Slow: wait, then forward
	blackhole  bool          // never answer
	reset      bool          // close the connection with RST, no response
	status     int           // answer with this status
	every      int           // FailEveryN: only every Nth matching request gets status
	header     http.Header   // extra response headers with status
	pathPrefix string        // only requests whose path has this prefix match
	firstK     int           // only the first K matching requests are faulted (0: all)
	random     bool          // Random: only a share of matching requests is faulted
	rate       float64       // Random: each matching request is faulted with this probability
	seed       int64         // Random: seed of the source Set starts
}

// Blackhole accepts the request and never answers until the client gives up.
func Blackhole() Fault { return Fault{name: "blackhole", blackhole: true} }

// Slow delays each matching request by d, then forwards it.
func Slow(d time.Duration) Fault { return Fault{name: "slow " + d.String(), delay: d} }

// FailEveryN answers every Nth matching request (N, 2N, ...) with status; others are forwarded.
func FailEveryN(n, status int) Fault {
	return Fault{name: fmt.Sprintf("%d every %d", status, n), status: status, every: n}
}

// Reset closes the connection with a TCP reset and no response.
func Reset() Fault { return Fault{name: "reset", reset: true} }

// TooMany answers 429 with a Retry-After header of retryAfter in whole seconds.
func TooMany(retryAfter time.Duration) Fault {
	h := http.Header{"Retry-After": {strconv.Itoa(int(retryAfter.Seconds()))}}
	return Fault{name: "429", status: http.StatusTooManyRequests, header: h}
}

// Status answers with code and the given headers (e.g. 401 with WWW-Authenticate, 404).
func Status(code int, header http.Header) Fault {
	return Fault{name: strconv.Itoa(code), status: code, header: header.Clone()}
}

// Random makes f hit each matching request with probability rate, decided by a math/rand
// source seeded with seed when the fault is Set. The decisions are a fixed sequence for a seed,
// taken in arrival order: the same seed and the same request order give the same faults, but
// concurrent clients (BuildKit fetches in parallel) make the order, and so which request gets
// which decision, vary from run to run. Log the seed so a failing run can be replayed.
func Random(seed int64, rate float64, f Fault) Fault {
	f.random, f.rate, f.seed = true, rate, seed
	f.name = fmt.Sprintf("%s at %g%% (seed %d)", f.name, rate*100, seed)
	return f
}

// OnPath limits the fault to requests whose URL path starts with prefix (e.g. "/v2/library/").
func (f Fault) OnPath(prefix string) Fault { f.pathPrefix = prefix; return f }

// FirstK limits the fault to the first k matching requests after Set; later ones pass.
func (f Fault) FirstK(k int) Fault { f.firstK = k; return f }

// String names the fault for logs.
func (f Fault) String() string { return f.name }

// ProxyRequest is one request a FaultProxy saw.
type ProxyRequest struct {
	Method string
	Path   string
	Fault  string // "" when forwarded untouched
	Status int    // status sent; 0 for blackhole and reset
}

// FaultProxy is a reverse proxy on 127.0.0.1 in front of an upstream (usually a Registry),
// with one switchable Fault and a request log.
type FaultProxy struct {
	Host string // "127.0.0.1:PORT"
	URL  string // "http://127.0.0.1:PORT"

	upstream *url.URL
	rp       *httputil.ReverseProxy
	srv      *http.Server
	closing  chan struct{}

	mu      sync.Mutex
	fault   *Fault
	matched int        // matching requests since the fault was set
	rng     *rand.Rand // Random's source, seeded by Set
	log     []ProxyRequest
}

// StartFaultProxy starts a FaultProxy forwarding to upstream ("http://127.0.0.1:5000"), with no
// fault set, and closes it when the test ends.
func StartFaultProxy(t testing.TB, upstream string) *FaultProxy {
	t.Helper()
	u, err := url.Parse(upstream)
	if err != nil || u.Host == "" {
		t.Fatalf("fault proxy upstream %q: want http://HOST:PORT", upstream)
	}
	requireLoopback(t, u.Hostname())
	l := listen(t)
	p := &FaultProxy{Host: l.Addr().String(), URL: "http://" + l.Addr().String(), upstream: u,
		closing: make(chan struct{})}
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(u)
			r.Out.Host = r.In.Host // the upstream answers as if it were the proxy
		},
		// Keep connections to the registry alive under concurrency (Go keeps 2 idle per host by
		// default): opening one per request would make the front, not the fault, the cost.
		Transport: &http.Transport{Proxy: nil, DisableCompression: true, MaxIdleConnsPerHost: 128},
		ErrorLog:  log.New(io.Discard, "", 0),
	}
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.srv.Serve(l) }()
	t.Cleanup(p.close)
	return p
}

func (p *FaultProxy) close() {
	close(p.closing)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := p.srv.Shutdown(ctx); err != nil {
		_ = p.srv.Close()
	}
}

// Set installs f for the following requests, replacing any previous fault and restarting its
// FirstK and FailEveryN counts and its Random source.
func (p *FaultProxy) Set(f Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fault, p.matched = &f, 0
	p.rng = rand.New(rand.NewSource(f.seed))
}

// Clear removes the fault: every request is forwarded.
func (p *FaultProxy) Clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fault, p.matched = nil, 0
}

// Requests returns a copy of the request log, in arrival order.
func (p *FaultProxy) Requests() []ProxyRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]ProxyRequest(nil), p.log...)
}

// Count returns how many requests had a path starting with prefix ("" counts all).
func (p *FaultProxy) Count(prefix string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, r := range p.log {
		if strings.HasPrefix(r.Path, prefix) {
			n++
		}
	}
	return n
}

// FaultStats sums up a request log: how the fault injector treated a run.
type FaultStats struct {
	Requests int // every request seen
	Faulted  int // requests that got the fault
	// Retried counts faulted requests whose path was requested again later and answered
	// (status below 400): the client really went back to the network.
	Retried int
}

// Stats sums up the request log.
func (p *FaultProxy) Stats() FaultStats {
	reqs := p.Requests()
	s := FaultStats{Requests: len(reqs)}
	// answeredAfter[path] is the last log index at which the path was answered below 400.
	answeredAfter := map[string]int{}
	for i, r := range reqs {
		if r.Fault == "" && r.Status > 0 && r.Status < 400 {
			answeredAfter[r.Path] = i
		}
	}
	for i, r := range reqs {
		if r.Fault == "" {
			continue
		}
		s.Faulted++
		if last, ok := answeredAfter[r.Path]; ok && last > i {
			s.Retried++
		}
	}
	return s
}

// String renders the stats for logs.
func (s FaultStats) String() string {
	return fmt.Sprintf("%d requests, %d faulted, %d of them retried and answered", s.Requests, s.Faulted, s.Retried)
}

// ResetLog clears the request log (the fault stays).
func (p *FaultProxy) ResetLog() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.log = nil
}

// pick decides the fault for a request and logs it; it returns the log index.
func (p *FaultProxy) pick(r *http.Request) (*Fault, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var f *Fault
	if p.fault != nil && strings.HasPrefix(r.URL.Path, p.fault.pathPrefix) {
		p.matched++
		n := p.matched
		// One draw per matching request, whatever the other conditions say, so the decisions
		// for a seed do not depend on FirstK or FailEveryN.
		miss := p.fault.random && p.rng.Float64() >= p.fault.rate
		switch {
		case p.fault.firstK > 0 && n > p.fault.firstK:
		case p.fault.every > 0 && n%p.fault.every != 0:
		case miss:
		default:
			f = p.fault
		}
	}
	entry := ProxyRequest{Method: r.Method, Path: r.URL.Path}
	if f != nil {
		entry.Fault = f.name
	}
	p.log = append(p.log, entry)
	return f, len(p.log) - 1
}

func (p *FaultProxy) setStatus(i, status int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.log[i].Status = status
}

// ServeHTTP applies the fault, if any, then forwards.
func (p *FaultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f, i := p.pick(r)
	if f != nil {
		switch {
		case f.blackhole:
			select {
			case <-r.Context().Done():
			case <-p.closing:
			}
			return
		case f.reset:
			resetConn(w)
			return
		case f.status != 0:
			for k, vs := range f.header {
				w.Header()[k] = vs
			}
			p.setStatus(i, f.status)
			http.Error(w, fmt.Sprintf("fault injected by testenv: %s", f.name), f.status)
			return
		case f.delay > 0:
			select {
			case <-time.After(f.delay):
			case <-r.Context().Done():
				return
			case <-p.closing:
				return
			}
		}
	}
	sw := &statusWriter{ResponseWriter: w}
	p.rp.ServeHTTP(sw, r)
	p.setStatus(i, sw.status)
}

// resetConn hijacks the connection and closes it with SO_LINGER 0, which sends a TCP RST.
func resetConn(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(errors.New("testenv: response writer cannot be hijacked"))
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// statusWriter records the status the upstream answered with.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// requireLoopback fails the test when host is not a loopback address or "localhost".
func requireLoopback(t testing.TB, host string) {
	t.Helper()
	if !isLoopback(host) {
		t.Fatalf("testenv only talks to 127.0.0.0/8, not %q", host)
	}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
