package testenv

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// HTTPProxy is a forward proxy on 127.0.0.1: CONNECT tunnels and absolute-URI plain HTTP.
// It only forwards to loopback destinations (after host overrides); anything else gets 502
// without a DNS lookup, so a test can never leak traffic and fallbacks to real hosts fail fast.
type HTTPProxy struct {
	Host string // "127.0.0.1:PORT"
	URL  string // "http://127.0.0.1:PORT", without credentials

	opts proxyOptions
	srv  *http.Server

	mu        sync.Mutex
	connects  map[string]int // CONNECT target -> count
	forwarded map[string]int // plain HTTP target host:port -> count
	refused   map[string]int // target -> count (not loopback, CONNECT disabled)
	authFails int
}

type proxyOptions struct {
	user, password string
	noConnect      bool
	overrides      map[string]string // "host:port" -> "127.0.0.1:port"
}

// ProxyOption configures StartHTTPProxy.
type ProxyOption func(*proxyOptions)

// WithProxyAuth requires Basic proxy authentication (Proxy-Authorization) with user/password;
// other requests get 407.
func WithProxyAuth(user, password string) ProxyOption {
	return func(o *proxyOptions) { o.user, o.password = user, password }
}

// WithoutConnect refuses CONNECT with 405, as some corporate proxies do.
func WithoutConnect() ProxyOption { return func(o *proxyOptions) { o.noConnect = true } }

// WithHostOverride routes requests for hostport ("auth.archc.test:80") to the loopback address
// to ("127.0.0.1:PORT"), making that name reachable only through this proxy.
func WithHostOverride(hostport, to string) ProxyOption {
	return func(o *proxyOptions) {
		if o.overrides == nil {
			o.overrides = map[string]string{}
		}
		o.overrides[strings.ToLower(hostport)] = to
	}
}

// StartHTTPProxy starts a forward proxy and closes it when the test ends.
func StartHTTPProxy(t testing.TB, opts ...ProxyOption) *HTTPProxy {
	t.Helper()
	p := &HTTPProxy{connects: map[string]int{}, forwarded: map[string]int{}, refused: map[string]int{}}
	for _, o := range opts {
		o(&p.opts)
	}
	for from, to := range p.opts.overrides {
		h, _, err := net.SplitHostPort(to)
		if err != nil || !isLoopback(h) {
			t.Fatalf("host override %s -> %q: want a loopback host:port", from, to)
		}
	}
	l := listen(t)
	p.Host, p.URL = l.Addr().String(), "http://"+l.Addr().String()
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.srv.Serve(l) }()
	t.Cleanup(func() { _ = p.srv.Close() })
	return p
}

// URLWithAuth returns the proxy URL with the configured credentials (http://user:pass@host).
func (p *HTTPProxy) URLWithAuth() string {
	u := url.URL{Scheme: "http", Host: p.Host}
	if p.opts.user != "" {
		u.User = url.UserPassword(p.opts.user, p.opts.password)
	}
	return u.String()
}

// Connects returns how many CONNECT tunnels were opened to hostport (as the client named it).
func (p *HTTPProxy) Connects(hostport string) int { return p.count(p.connects, hostport) }

// Forwarded returns how many plain HTTP requests were forwarded to hostport (as the client
// named it, e.g. "auth.archc.test:80").
func (p *HTTPProxy) Forwarded(hostport string) int { return p.count(p.forwarded, hostport) }

// Refused returns how many requests for hostport were refused (not loopback, or CONNECT off).
func (p *HTTPProxy) Refused(hostport string) int { return p.count(p.refused, hostport) }

// AuthFailures returns how many requests were answered 407.
func (p *HTTPProxy) AuthFailures() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.authFails
}

// Targets returns every destination the proxy was asked for, sorted, whatever happened to it.
func (p *HTTPProxy) Targets() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	seen := map[string]bool{}
	for _, m := range []map[string]int{p.connects, p.forwarded, p.refused} {
		for k := range m {
			seen[k] = true
		}
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (p *HTTPProxy) count(m map[string]int, k string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return m[strings.ToLower(k)]
}

func (p *HTTPProxy) inc(m map[string]int, k string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	m[strings.ToLower(k)]++
}

// ServeHTTP authenticates, then tunnels CONNECT or forwards an absolute-URI request.
func (p *HTTPProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !p.authorized(r) {
		p.mu.Lock()
		p.authFails++
		p.mu.Unlock()
		w.Header().Set("Proxy-Authenticate", `Basic realm="archc-testenv"`)
		http.Error(w, "proxy authentication required", http.StatusProxyAuthRequired)
		return
	}
	if r.Method == http.MethodConnect {
		p.connect(w, r)
		return
	}
	if !r.URL.IsAbs() {
		http.Error(w, "this is a forward proxy: absolute URI or CONNECT required", http.StatusBadRequest)
		return
	}
	p.forward(w, r)
}

func (p *HTTPProxy) authorized(r *http.Request) bool {
	if p.opts.user == "" {
		return true
	}
	h := r.Header.Get("Proxy-Authorization")
	enc, ok := strings.CutPrefix(h, "Basic ")
	if !ok {
		return false
	}
	b, err := base64.StdEncoding.DecodeString(enc)
	return err == nil && string(b) == p.opts.user+":"+p.opts.password
}

// target maps the client's host:port to where the proxy may dial, or "" when refused.
func (p *HTTPProxy) target(hostport string) string {
	if to, ok := p.opts.overrides[strings.ToLower(hostport)]; ok {
		return to
	}
	host, _, err := net.SplitHostPort(hostport)
	if err != nil || !isLoopback(host) {
		return ""
	}
	return hostport
}

func (p *HTTPProxy) connect(w http.ResponseWriter, r *http.Request) {
	to := p.target(r.Host)
	if p.opts.noConnect {
		p.inc(p.refused, r.Host)
		http.Error(w, "CONNECT is not allowed by this proxy", http.StatusMethodNotAllowed)
		return
	}
	if to == "" {
		p.inc(p.refused, r.Host)
		http.Error(w, fmt.Sprintf("testenv proxy: %s is not a loopback destination", r.Host), http.StatusBadGateway)
		return
	}
	up, err := net.DialTimeout("tcp", to, 5*time.Second)
	if err != nil {
		http.Error(w, fmt.Sprintf("testenv proxy: dial %s: %v", to, err), http.StatusBadGateway)
		return
	}
	p.inc(p.connects, r.Host)
	hj, ok := w.(http.Hijacker)
	if !ok {
		up.Close()
		http.Error(w, "cannot hijack", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusOK)
	client, buf, err := hj.Hijack()
	if err != nil {
		up.Close()
		return
	}
	if n := buf.Reader.Buffered(); n > 0 { // bytes the client sent right after CONNECT
		b, _ := buf.Reader.Peek(n)
		_, _ = up.Write(b)
	}
	go pipe(client, up)
}

// pipe copies both ways until either side closes.
func pipe(a, b net.Conn) {
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		if c, ok := dst.(*net.TCPConn); ok {
			_ = c.CloseWrite()
		}
		done <- struct{}{}
	}
	go cp(a, b)
	go cp(b, a)
	<-done
	<-done
	a.Close()
	b.Close()
}

func (p *HTTPProxy) forward(w http.ResponseWriter, r *http.Request) {
	hostport := r.URL.Host
	if r.URL.Port() == "" {
		hostport = net.JoinHostPort(r.URL.Hostname(), "80")
	}
	to := p.target(hostport)
	if to == "" || r.URL.Scheme != "http" {
		p.inc(p.refused, hostport)
		http.Error(w, fmt.Sprintf("testenv proxy: %s is not a loopback destination", hostport), http.StatusBadGateway)
		return
	}
	p.inc(p.forwarded, hostport)
	out := r.Clone(r.Context())
	out.RequestURI = ""
	out.Header.Del("Proxy-Authorization")
	out.Header.Del("Proxy-Connection")
	tr := &http.Transport{Proxy: nil, DisableCompression: true, DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, network, to)
	}}
	defer tr.CloseIdleConnections()
	resp, err := tr.RoundTrip(out)
	if err != nil {
		http.Error(w, fmt.Sprintf("testenv proxy: forward to %s: %v", hostport, err), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}
