package doctor

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/archc-dev/archc/registry"
	"github.com/archc-dev/archc/spec"
)

// connectTimeout bounds talking to the proxy: TCP connect, then one CONNECT.
const connectTimeout = 8 * time.Second

// proxyTimeout bounds a proxy check: talking to it, then judging what a proxy that does
// not work breaks.
const proxyTimeout = connectTimeout + judgeTimeout

// proxyChecks returns one check per distinct proxy URL (TCP reachable; for the https
// proxy, answers CONNECT) and the no_proxy check; nothing without a proxy block.
func (e *env) proxyChecks() []Check {
	p := e.s.Proxy
	if p == nil {
		return nil
	}
	var urls []string
	https := map[string]bool{}
	for _, u := range []string{p.HTTPSProxy, p.AllProxy, p.HTTPProxy} {
		if u == "" {
			continue
		}
		if !slices.Contains(urls, u) {
			urls = append(urls, u)
		}
		// https traffic uses https_proxy, else all_proxy (as registry's transports do).
		if u == p.HTTPSProxy || p.HTTPSProxy == "" && u == p.AllProxy {
			https[u] = true
		}
	}
	var checks []Check
	for _, u := range urls {
		checks = append(checks, Check{Name: "proxy " + spec.RedactURL(u), Timeout: proxyTimeout,
			Run: func(ctx context.Context) Finding {
				cctx, cancel := context.WithTimeout(ctx, connectTimeout)
				defer cancel()
				return e.judgeProxy(ctx, u, e.checkProxy(cctx, u, https[u]))
			}})
	}
	return append(checks, e.noProxyCheck())
}

// proxyHost is the host:port of a proxy URL ("" when it does not parse).
func proxyHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	if u.Port() == "" {
		port := "80"
		if u.Scheme == "https" {
			port = "443"
		}
		return net.JoinHostPort(u.Hostname(), port)
	}
	return u.Host
}

// judgeProxy turns a proxy that does not work into a failure only when apply needs it:
// when a push target, or every host a registry's images could come from, goes through it.
// Otherwise (the mirror and the push registries are in no_proxy) it is a warning naming
// what does go through it.
func (e *env) judgeProxy(ctx context.Context, raw string, f Finding) Finding {
	if f.Verdict != Fail {
		return f
	}
	var then string
	f.Verdict, then = e.proxyLoss(ctx, raw)
	f.Cause += "; " + then
	return f
}

// proxyLoss says how bad a proxy that does not work is for apply, and what follows.
func (e *env) proxyLoss(ctx context.Context, raw string) (Verdict, string) {
	needed, affected := e.proxyImpact(ctx, raw)
	if len(needed) > 0 {
		return Fail, "it carries " + strings.Join(needed, ", ") + ", which will fail"
	}
	return Warn, "nothing archc or the builder pulls or pushes needs it (the mirrors and push registries it would carry are not behind it); it only carries " + strings.Join(affected, "; ")
}

func (e *env) checkProxy(ctx context.Context, raw string, https bool) Finding {
	hp := proxyHost(raw)
	if hp == "" {
		return Finding{Verdict: Fail, Checked: spec.RedactURL(raw), Cause: "not a proxy URL",
			Fix: "write it as http://HOST:PORT (or http://USER:PASSWORD@HOST:PORT) in the proxy block"}
	}
	conn, err := e.o.Dial(ctx, "tcp", hp)
	if err != nil {
		return Finding{Verdict: Fail, Checked: "TCP connect " + hp, Cause: netCause(err, ctx),
			Fix: fmt.Sprintf("start the proxy on %s, or fix the proxy block's URLs (every pull through it fails)", hp)}
	}
	defer conn.Close()
	checked := "TCP connect " + hp + " ok"
	if !https {
		return Finding{Verdict: OK, Checked: checked + " (http_proxy: plain HTTP is forwarded, no CONNECT needed)"}
	}
	target := e.o.ConnectTarget
	if target == "" {
		target = e.connectTarget()
	}
	if target == "" {
		return Finding{Verdict: OK, Checked: checked + "; no https registry goes through it, CONNECT not tried"}
	}
	return e.tryConnect(ctx, conn, raw, target, checked)
}

// tryConnect asks the proxy to open a tunnel to target, as a client of an https registry.
func (e *env) tryConnect(ctx context.Context, conn net.Conn, raw, target, checked string) Finding {
	checked += "; CONNECT " + target
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	req := fmt.Sprintf("CONNECT %s HTTP/1.1\r\nHost: %s\r\n", target, target)
	if u, err := url.Parse(raw); err == nil && u.User != nil {
		pass, _ := u.User.Password()
		req += "Proxy-Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(u.User.Username()+":"+pass)) + "\r\n"
	}
	if _, err := conn.Write([]byte(req + "\r\n")); err != nil {
		return Finding{Verdict: Fail, Checked: checked, Cause: netCause(err, ctx), Fix: "check the proxy's logs"}
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: http.MethodConnect})
	if err != nil {
		return Finding{Verdict: Fail, Checked: checked, Cause: "no answer to CONNECT: " + netCause(err, ctx),
			Fix: "check that this is an HTTP proxy (not SOCKS) and its logs"}
	}
	resp.Body.Close()
	checked += fmt.Sprintf(" → %d", resp.StatusCode)
	switch c := resp.StatusCode; {
	case c == http.StatusOK:
		return Finding{Verdict: OK, Checked: checked + " (tunnel open)"}
	case c == http.StatusProxyAuthRequired:
		return Finding{Verdict: Fail, Checked: checked, Cause: "the proxy wants credentials (407 Proxy Authentication Required)",
			Fix: "put them in the proxy URL: https_proxy = \"http://USER:PASSWORD@" + proxyHost(raw) + "\" (archc never prints the password)"}
	case c >= 500:
		return Finding{Verdict: Warn, Checked: checked, Cause: fmt.Sprintf("the proxy accepts CONNECT but could not reach %s (HTTP %d)", target, c),
			Fix: "check the proxy's own DNS and outbound access to " + target}
	default:
		return Finding{Verdict: Fail, Checked: checked, Cause: fmt.Sprintf("the proxy refuses CONNECT (HTTP %d): https registries cannot be reached through it", c),
			Fix: "allow CONNECT to port 443 on the proxy (tinyproxy: ConnectPort 443; squid: http_access for CONNECT), or use a proxy that does; reach https registries through a mirror in no_proxy meanwhile"}
	}
}

// connectTarget is the first https host the spec sends through the proxy: a registry
// (not mirrors_only) or an https mirror.
func (e *env) connectTarget() string {
	for _, r := range e.s.Registries {
		up := registry.UpstreamHost(r.Host)
		if e.used[r.Host] && !r.MirrorsOnly && e.schemeOf(r.Host) == "https" && e.proxyFor("https", up) != "" {
			return withPort(up, "443")
		}
	}
	var others []string
	for host := range e.used {
		if host != "" && e.s.Registry(host) == nil {
			others = append(others, host)
		}
	}
	slices.Sort(others)
	for _, host := range others {
		up := registry.UpstreamHost(host)
		if e.schemeOf(host) == "https" && e.proxyFor("https", up) != "" {
			return withPort(up, "443")
		}
	}
	for _, m := range e.mirrors {
		if m.Scheme == "https" && e.proxyFor("https", m.Host) != "" {
			return withPort(m.Host, "443")
		}
	}
	return ""
}

func withPort(host, port string) string {
	if _, _, err := net.SplitHostPort(host); err == nil {
		return host
	}
	return net.JoinHostPort(host, port)
}
