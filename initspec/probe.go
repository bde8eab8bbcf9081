package initspec

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/archc-dev/archc/registry"
	"github.com/archc-dev/archc/spec"
)

// speech is how a registry host answered /v2/.
type speech string

const (
	speaksTLS         speech = "TLS with a trusted certificate"
	speaksInsecureTLS speech = "TLS with a certificate it cannot verify"
	speaksHTTP        speech = "plain HTTP"
	speaksUnknown     speech = ""
)

// probeResult is the outcome of probing one host.
type probeResult struct {
	kind speech
	why  string // for speaksUnknown: what each attempt ran into (credentials redacted)
}

// short is why without the URLs: each attempt's last cause ("connection refused").
func (r probeResult) short() string {
	var out []string
	for _, w := range strings.Split(r.why, "; ") {
		if i := strings.LastIndex(w, ": "); i >= 0 {
			w = w[i+2:]
		}
		out = append(out, w)
	}
	return strings.Join(dedupe(out), "; ")
}

func (r probeResult) report() string {
	switch r.kind {
	case speaksHTTP:
		return "probe of /v2/: plain HTTP, http = true"
	case speaksInsecureTLS:
		return "probe of /v2/: TLS with an unverifiable certificate, insecure = true"
	case speaksTLS:
		return "probe of /v2/: TLS with a trusted certificate, nothing to set"
	}
	return "probe of /v2/ could not tell (" + r.why + "): left as a comment"
}

// probe asks host for /v2/ over verified TLS, then TLS without verification, then plain
// HTTP, each within timeout, through registry's client (the spec's proxy and no_proxy, the
// one retry policy), so it reaches the host as archc later will. A registry answers /v2/
// with 200 or 401.
func probe(ctx context.Context, host string, px *spec.Proxy, timeout time.Duration) probeResult {
	var whys []string
	for _, try := range []struct {
		kind   speech
		scheme string
		reg    spec.Registry
	}{
		{speaksTLS, "https", spec.Registry{Host: host}},
		{speaksInsecureTLS, "https", spec.Registry{Host: host, Insecure: true}},
		{speaksHTTP, "http", spec.Registry{Host: host, HTTP: true}},
	} {
		err := getV2(ctx, try.scheme, try.reg, px, timeout)
		if err == nil {
			return probeResult{kind: try.kind}
		}
		whys = append(whys, try.scheme+": "+spec.RedactText(err.Error()))
		if errors.Is(ctx.Err(), context.Canceled) {
			break
		}
	}
	return probeResult{kind: speaksUnknown, why: strings.Join(dedupe(whys), "; ")}
}

func getV2(ctx context.Context, scheme string, reg spec.Registry, px *spec.Proxy, timeout time.Duration) error {
	s := &spec.Spec{Registries: []spec.Registry{reg}, Proxy: px}
	c, err := registry.NewHTTPClient(s, reg.Host, registry.WithTimeout(timeout), registry.WithAttemptTimeout(timeout))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+reg.Host+"/v2/", nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusUnauthorized {
		return fmt.Errorf("answered %s, not a registry's /v2/", resp.Status)
	}
	return nil
}

func dedupe(list []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
