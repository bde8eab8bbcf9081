package registry

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// proxyFor is the proxy req goes through under the proxy selection proxy, as
// "scheme://host:port" without credentials, or "" when req goes direct.
func proxyFor(proxy func(*http.Request) (*url.URL, error), req *http.Request) string {
	if proxy == nil {
		return ""
	}
	u, err := proxy(req)
	if err != nil || u == nil {
		return ""
	}
	return proxyName(u)
}

// proxyName is a proxy URL as messages show it: scheme and host, never its credentials.
func proxyName(u *url.URL) string { return u.Scheme + "://" + u.Host }

// proxyRefusedError is a CONNECT the proxy answered with a status other than 200: the
// proxy could not (or would not) reach the host, which never answered itself.
type proxyRefusedError struct {
	proxy  string // the proxy, as proxyName shows it
	code   int    // the proxy's status code
	status string // its status text without the code ("Unable to connect")
	agent  string // its Proxy-Agent header, or ""
}

func (e *proxyRefusedError) Error() string {
	return fmt.Sprintf("proxy %s refused CONNECT: HTTP %d %s", e.proxy, e.code, e.status)
}

// onProxyConnect is every transport's http.Transport.OnProxyConnectResponse: it turns a
// refused CONNECT into a *proxyRefusedError, where net/http would return an untyped error
// holding only the status text.
func onProxyConnect(_ context.Context, proxy *url.URL, _ *http.Request, resp *http.Response) error {
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	_, text, _ := strings.Cut(resp.Status, " ")
	return &proxyRefusedError{proxy: proxyName(proxy), code: resp.StatusCode, status: text, agent: resp.Header.Get("Proxy-Agent")}
}

// proxyAnswered says which proxy wrote a 5xx answer itself (tinyproxy's 500 "Unable to
// connect", squid's 503), from what the answer shows: a Proxy-Agent header, a Server
// header or a body naming a proxy, or a Via header. via is the configured proxy the
// request went through ("" when direct). "" means the registry itself answered, as far as
// can be told.
func proxyAnswered(h http.Header, body []byte, via string) string {
	name := h.Get("Proxy-Agent")
	if name == "" && isProxyName(h.Get("Server")) {
		name = h.Get("Server")
	}
	if name == "" {
		if lb := strings.ToLower(string(body)); strings.Contains(lb, "tinyproxy") || strings.Contains(lb, "squid") {
			name = "its error page"
		}
	}
	if name == "" && h.Get("Via") != "" {
		name = "Via: " + h.Get("Via")
	}
	switch {
	case name == "":
		return ""
	case via == "":
		return Redact(name)
	}
	return via + " (" + Redact(name) + ")"
}

// isProxyName reports whether a Server header names a forward proxy.
func isProxyName(server string) bool {
	s := strings.ToLower(server)
	for _, p := range []string{"tinyproxy", "squid", "privoxy", "mitmproxy", "polipo", "ziproxy"} {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}
