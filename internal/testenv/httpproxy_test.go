package testenv

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// viaProxy returns a client that sends everything through proxyURL and trusts srv's TLS cert.
func viaProxy(t *testing.T, proxyURL string, srv *httptest.Server) *http.Client {
	t.Helper()
	u, err := url.Parse(proxyURL)
	require.NoError(t, err)
	tr := &http.Transport{Proxy: http.ProxyURL(u), DisableKeepAlives: true}
	if srv != nil && srv.TLS != nil {
		tr.TLSClientConfig = &tls.Config{RootCAs: srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}
	}
	return &http.Client{Transport: tr}
}

func hello(t *testing.T, tlsServer bool) *httptest.Server {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "hello "+r.URL.Path) })
	var s *httptest.Server
	if tlsServer {
		s = httptest.NewTLSServer(h)
	} else {
		s = httptest.NewServer(h)
	}
	t.Cleanup(s.Close)
	return s
}

func TestHTTPProxyForwards(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		tls        bool
		opts       []ProxyOption
		auth       bool // client sends the credentials
		wantStatus int  // 0: transport error expected
		connects   int
		forwarded  int
	}{
		{name: "plain http", wantStatus: 200, forwarded: 1},
		{name: "connect tls", tls: true, wantStatus: 200, connects: 1},
		{name: "auth ok plain", opts: []ProxyOption{WithProxyAuth("u", "p@ss")}, auth: true, wantStatus: 200, forwarded: 1},
		{name: "auth ok connect", tls: true, opts: []ProxyOption{WithProxyAuth("u", "p@ss")}, auth: true, wantStatus: 200, connects: 1},
		{name: "auth missing plain", opts: []ProxyOption{WithProxyAuth("u", "p@ss")}, wantStatus: 407},
		{name: "auth missing connect", tls: true, opts: []ProxyOption{WithProxyAuth("u", "p@ss")}},
		{name: "connect refused", tls: true, opts: []ProxyOption{WithoutConnect()}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := hello(t, tc.tls)
			p := StartHTTPProxy(t, tc.opts...)
			proxyURL := p.URL
			if tc.auth {
				proxyURL = p.URLWithAuth()
			}
			resp, err := viaProxy(t, proxyURL, srv).Get(srv.URL + "/x")
			if tc.wantStatus == 0 {
				require.Error(t, err)
			} else {
				require.NoError(t, err)
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				assert.Equal(t, tc.wantStatus, resp.StatusCode)
				if tc.wantStatus == 200 {
					assert.Equal(t, "hello /x", string(body))
				}
			}
			host := srv.Listener.Addr().String()
			assert.Equal(t, tc.connects, p.Connects(host))
			assert.Equal(t, tc.forwarded, p.Forwarded(host))
		})
	}
}

func TestHTTPProxyRefusesNonLoopback(t *testing.T) {
	t.Parallel()
	p := StartHTTPProxy(t)
	c := viaProxy(t, p.URL, nil)
	resp, err := c.Get("http://registry-1.docker.io/v2/")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
	_, err = c.Get("https://registry-1.docker.io/v2/")
	require.Error(t, err)
	assert.Equal(t, 1, p.Refused("registry-1.docker.io:80"))
	assert.Equal(t, 1, p.Refused("registry-1.docker.io:443"))
	assert.Equal(t, []string{"registry-1.docker.io:443", "registry-1.docker.io:80"}, p.Targets())
}

func TestHTTPProxyHostOverride(t *testing.T) {
	t.Parallel()
	srv := hello(t, false)
	p := StartHTTPProxy(t, WithHostOverride("Auth.Archc.Test:80", srv.Listener.Addr().String()))
	resp, err := viaProxy(t, p.URL, nil).Get("http://auth.archc.test/token")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, "hello /token", string(body))
	assert.Equal(t, 1, p.Forwarded("auth.archc.test:80"))
}
