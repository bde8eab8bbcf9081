package doctor

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/archc-dev/archc/registry"
)

// mirrorTimeout bounds a mirror check: /v2/ (healthBound), then the token realm; a dead
// mirror's verdict may wait for the registry itself (healthBound again).
const mirrorTimeout = healthBound + judgeTimeout + realmTimeout + time.Second

// realmTimeout bounds the request to a token realm.
const realmTimeout = 3 * time.Second

// mirrorCheck asks the mirror's /v2/ whether it is alive (registry.CheckMirror, with the
// spec's http/insecure/CA and proxy: apply's rule for leaving a mirror out) and, when it
// answers 401, whether the token realm it points at is reachable the way the spec reaches
// it. A dead mirror fails the check only when apply would fail (mirrorLoss).
func (e *env) mirrorCheck(m mirrorOf) Check {
	return Check{Name: "mirror " + m.URL, Timeout: mirrorTimeout, Run: func(ctx context.Context) Finding {
		h, ok := e.mirrorHealth(ctx, m)
		if !ok {
			return Finding{Verdict: Fail, Checked: "GET " + m.URL + "/v2/", Cause: "no verdict before the deadline",
				Fix: "see the dns and proxy checks"}
		}
		mh, err := h.mh, h.err
		target := fmt.Sprintf("GET %s://%s%s/v2/", m.Scheme, m.Host, m.Path)
		if mh != nil {
			target = fmt.Sprintf("GET %s://%s%s/v2/", mh.Scheme, mh.Host, m.Path)
		}
		if err != nil {
			f := e.mirrorDown(m, target, err)
			var then string
			f.Verdict, then = e.mirrorLoss(ctx, m)
			f.Cause += "; " + then
			return f
		}
		checked := fmt.Sprintf("%s → %d, %s", target, mh.Status, e.transportNote(m, mh))
		if mh.Status != http.StatusUnauthorized || mh.AuthRealm == "" {
			return Finding{Verdict: OK, Checked: checked}
		}
		return e.realmFinding(ctx, m, checked, mh.AuthRealm)
	}}
}

// transportNote says how the mirror was reached: TLS or plain HTTP, and whether proxied.
func (e *env) transportNote(m mirrorOf, mh *registry.MirrorHealth) string {
	note := "plain HTTP as configured (http://)"
	if mh.Scheme == "https" {
		note = "TLS, certificate verified"
		if c := e.conf[m.Host]; c.Insecure != nil && *c.Insecure {
			note = "TLS without verification (insecure = true)"
		}
	}
	if mh.Proxied {
		note += ", through the proxy"
	}
	return note
}

// mirrorDown explains a mirror that did not answer /v2/ properly; the caller judges it.
func (e *env) mirrorDown(m mirrorOf, target string, err error) Finding {
	f := Finding{Checked: target}
	remove := fmt.Sprintf("or remove %q from registry %q { mirrors }", m.Raw, m.Registry.Host)
	var he *registry.HostError
	if !errors.As(err, &he) {
		f.Cause = registry.Redact(err.Error())
		f.Fix = "fix the mirror URL in the spec " + remove
		return f
	}
	switch he.Class {
	case registry.ClassTimeout:
		f.Cause = fmt.Sprintf("no answer within %s: the mirror accepts connections and never answers", registry.DefaultCheckTimeout)
		f.Fix = "restart or repair the mirror service, " + remove + "; `archc apply` skips it for the run (builders never use it: they read bases from archc)"
	case registry.ClassTLS:
		f.Cause = netCause(he.Err, context.Background())
		f.Fix = registry.TLSFix(m.Registry.Host, m.URL, registry.IsPlainHTTP(he.Err))
	case registry.ClassDNS:
		f.Cause = fmt.Sprintf("%s does not resolve (%s)", registry.Hostname(m.Host), e.o.Resolver.Name)
		f.Fix = "fix the mirror's name in the spec, add it to DNS or /etc/hosts, " + remove
	case registry.ClassNotFound, registry.ClassMalformed, registry.ClassAuth:
		f.Cause = hostCause(he)
		if he.Status == http.StatusBadRequest && m.Scheme == "http" {
			f.Cause += "; it probably speaks HTTPS"
		}
		f.Fix = "point the spec at the registry's base URL (the one whose /v2/ answers 200 or 401) " + remove
	default:
		f.Cause = hostCause(he)
		f.Fix = "start the mirror (is it listening on " + m.Host + "?) " + remove
	}
	return f
}

// realmFinding checks the token realm a 401 points at: the daemon and archc fetch tokens
// from there, not from the mirror, so a realm the spec cannot reach is the classic
// `failed to fetch oauth token` timeout behind a mirror that itself works.
func (e *env) realmFinding(ctx context.Context, m mirrorOf, checked, realm string) Finding {
	checked += "; token realm " + realm
	u, err := url.Parse(realm)
	if err != nil || u.Host == "" {
		return Finding{Verdict: Warn, Checked: checked, Cause: fmt.Sprintf("the mirror's 401 names a token realm that is not a URL: %q", realm),
			Fix: "fix the mirror's auth configuration (its WWW-Authenticate realm)"}
	}
	fix := fmt.Sprintf("add a proxy block through which %s is reachable (and keep it out of no_proxy), or make %s resolvable and reachable from here and from the builder", u.Host, u.Hostname())
	proxy := e.proxyFor(u.Scheme, u.Host)
	if proxy == "" && !isLoopback(u.Host) {
		if _, err := e.o.Resolver.LookupHost(ctx, u.Hostname()); err != nil {
			return Finding{Verdict: Warn, Checked: checked,
				Cause: fmt.Sprintf("the mirror answers 401 and sends clients for tokens to %s, but %s does not resolve (%s: %s) and the spec has no proxy for it: pulls will fail with `failed to fetch oauth token`",
					realm, u.Hostname(), e.o.Resolver.Name, dnsCause(err, ctx)),
				Fix: fix}
		}
	}
	c, err := e.client(u.Host)
	if err != nil {
		return Finding{Verdict: Warn, Checked: checked, Cause: err.Error(), Fix: fix}
	}
	rctx, cancel := context.WithTimeout(ctx, realmTimeout)
	defer cancel()
	resp, err := get(rctx, c, http.MethodGet, realm, nil)
	via := "directly"
	if proxy != "" {
		via = "through the proxy " + proxy
	}
	if err != nil {
		return Finding{Verdict: Warn, Checked: checked + " " + via,
			Cause: fmt.Sprintf("the token realm %s does not answer %s: %s: pulls will fail with `failed to fetch oauth token`", realm, via, netCause(err, rctx)),
			Fix:   fix}
	}
	return Finding{Verdict: OK, Checked: fmt.Sprintf("%s → %d %s", checked, resp.StatusCode, via)}
}

// hostCause is a HostError's message without the "mirror URL: " prefix the check's name
// already says.
func hostCause(he *registry.HostError) string {
	msg := he.Error()
	for _, p := range []string{"mirror " + he.Host + ": ", he.Host + ": "} {
		if rest, ok := strings.CutPrefix(msg, p); ok {
			return rest
		}
	}
	return msg
}
