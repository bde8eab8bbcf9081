package registry

import (
	"errors"
	"net/http"
	"reflect"
	"strings"
)

// proxyFor is the proxy next sends req through, as "scheme://host:port" without
// credentials, or "" when req goes direct.
func proxyFor(next http.RoundTripper, req *http.Request) string {
	t, ok := next.(*http.Transport)
	if !ok || t.Proxy == nil {
		return ""
	}
	u, err := t.Proxy(req)
	if err != nil || u == nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
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

// isConnectRefusal reports whether err is net/http's error for a CONNECT the proxy
// answered with a status other than 200: a bare errors.New of the status text (under
// url.Error at most), no network or TLS error inside.
func isConnectRefusal(err error) bool {
	for u := errors.Unwrap(err); u != nil; u = errors.Unwrap(err) {
		err = u
	}
	return reflect.TypeOf(err) == reflect.TypeOf(errors.New(""))
}
