package testenv

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// DefaultRealmHost is the token realm's host:port. It does not resolve: a client reaches it
// only through an HTTPProxy with WithHostOverride(DefaultRealmHost, ta.TokenHost).
const DefaultRealmHost = "auth.archc.test:80"

// TokenAuth is a registry front on 127.0.0.1 that demands Bearer tokens, as docker.io does,
// and the tiny token server that issues them.
type TokenAuth struct {
	Host      string // registry front "127.0.0.1:PORT"
	URL       string // "http://127.0.0.1:PORT"
	TokenHost string // token server's real loopback "127.0.0.1:PORT"
	Realm     string // realm URL announced in WWW-Authenticate
	Service   string // service announced in WWW-Authenticate

	token       string
	user, pass  string
	directRealm bool

	mu        sync.Mutex
	tokens    int // tokens issued
	tokenDeny int // token requests refused (bad credentials)
	unauth    int // registry requests answered 401
}

// TokenOption configures StartTokenAuth.
type TokenOption func(*TokenAuth)

// WithRealm announces realm instead of http://auth.archc.test/token (e.g. the TokenHost URL
// itself, to test without a proxy).
func WithRealm(realm string) TokenOption { return func(a *TokenAuth) { a.Realm = realm } }

// WithDirectRealm announces the token server's own loopback URL as the realm, so clients
// reach it without a proxy.
func WithDirectRealm() TokenOption { return func(a *TokenAuth) { a.directRealm = true } }

// WithTokenCredentials makes the token server require Basic user/password (as a logged-in
// docker client sends); without it, anonymous tokens are issued.
func WithTokenCredentials(user, password string) TokenOption {
	return func(a *TokenAuth) { a.user, a.pass = user, password }
}

// StartTokenAuth starts the token server and a front that forwards authorized requests to
// upstream (usually a Registry's URL); both close when the test ends.
func StartTokenAuth(t testing.TB, upstream string, opts ...TokenOption) *TokenAuth {
	t.Helper()
	u, err := url.Parse(upstream)
	if err != nil || u.Host == "" {
		t.Fatalf("token auth upstream %q: want http://HOST:PORT", upstream)
	}
	requireLoopback(t, u.Hostname())
	var rnd [16]byte
	_, _ = rand.Read(rnd[:])
	a := &TokenAuth{Realm: "http://" + strings.TrimSuffix(DefaultRealmHost, ":80") + "/token",
		Service: "archc-test-registry", token: hex.EncodeToString(rnd[:])}
	for _, o := range opts {
		o(a)
	}
	tl := listen(t)
	a.TokenHost = tl.Addr().String()
	if a.directRealm {
		a.Realm = a.TokenURL()
	}
	tokenSrv := &http.Server{Handler: http.HandlerFunc(a.serveToken), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = tokenSrv.Serve(tl) }()
	t.Cleanup(func() { _ = tokenSrv.Close() })

	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(u)
		r.Out.Host = r.In.Host
		r.Out.Header.Del("Authorization")
	}, Transport: &http.Transport{Proxy: nil}}
	fl := listen(t)
	a.Host, a.URL = fl.Addr().String(), "http://"+fl.Addr().String()
	front := &http.Server{Handler: a.front(rp), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = front.Serve(fl) }()
	t.Cleanup(func() { _ = front.Close() })
	return a
}

// TokenURL is the token endpoint on its real loopback address (no proxy needed).
func (a *TokenAuth) TokenURL() string { return "http://" + a.TokenHost + "/token" }

// TokensIssued returns how many tokens the token server handed out.
func (a *TokenAuth) TokensIssued() int { a.mu.Lock(); defer a.mu.Unlock(); return a.tokens }

// TokensDenied returns how many token requests had wrong or missing credentials.
func (a *TokenAuth) TokensDenied() int { a.mu.Lock(); defer a.mu.Unlock(); return a.tokenDeny }

// Unauthorized returns how many registry requests were answered 401.
func (a *TokenAuth) Unauthorized() int { a.mu.Lock(); defer a.mu.Unlock(); return a.unauth }

func (a *TokenAuth) front(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "Bearer "+a.token {
			next.ServeHTTP(w, r)
			return
		}
		a.mu.Lock()
		a.unauth++
		a.mu.Unlock()
		challenge := fmt.Sprintf(`Bearer realm=%q,service=%q`, a.Realm, a.Service)
		if repo := repoOf(r.URL.Path); repo != "" {
			action := "pull"
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				action = "pull,push"
			}
			challenge += fmt.Sprintf(`,scope="repository:%s:%s"`, repo, action)
		}
		w.Header().Set("WWW-Authenticate", challenge)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = fmt.Fprintln(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
	})
}

// repoOf extracts the repository name from /v2/NAME/{manifests,blobs,tags}/...
func repoOf(path string) string {
	rest, ok := strings.CutPrefix(path, "/v2/")
	if !ok {
		return ""
	}
	for _, kind := range []string{"/manifests/", "/blobs/", "/tags/"} {
		if i := strings.Index(rest, kind); i > 0 {
			return rest[:i]
		}
	}
	return ""
}

func (a *TokenAuth) serveToken(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/token" {
		http.NotFound(w, r)
		return
	}
	if a.user != "" {
		u, p, ok := r.BasicAuth()
		if r.Method == http.MethodPost { // containerd's OAuth POST: grant_type=password
			_ = r.ParseForm()
			u, p, ok = r.PostForm.Get("username"), r.PostForm.Get("password"), true
		}
		if !ok || u != a.user || p != a.pass {
			a.mu.Lock()
			a.tokenDeny++
			a.mu.Unlock()
			http.Error(w, `{"details":"incorrect username or password"}`, http.StatusUnauthorized)
			return
		}
	}
	a.mu.Lock()
	a.tokens++
	a.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"token": a.token, "access_token": a.token, "expires_in": 300,
		"issued_at": time.Now().UTC().Format(time.RFC3339),
	})
}
