package registry

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"time"

	"github.com/archc-dev/archc/spec"
	"github.com/containerd/containerd/v2/core/remotes/docker"
)

// MirrorHealth is what CheckMirror found.
type MirrorHealth struct {
	// URL is the mirror URL, credentials redacted.
	URL string
	// Host is "host[:port]".
	Host string
	// Scheme is the scheme actually used ("http" or "https").
	Scheme string
	// Status is the HTTP status of GET /v2/ (200, or 401 for a registry that wants a
	// token), 0 when there was no answer.
	Status int
	// AuthRealm is the token realm a 401 points at ("https://auth.docker.io/token"), or "".
	AuthRealm string
	// Proxied is true when the request went through the spec's proxy.
	Proxied bool
	// Latency is the time to the answer (or to the failure).
	Latency time.Duration
}

// CheckMirror asks a mirror's /v2/ endpoint whether it is alive, with a short deadline
// (DefaultCheckTimeout unless WithAttemptTimeout), through the spec's proxy unless no_proxy
// covers it, using the http/insecure/CA settings the spec gives the mirror's host. 200 and
// 401 are healthy; anything else, or no answer in time, is a *HostError saying why. s may
// be nil (no proxy, defaults). Apply and doctor call it before handing mirrors to buildkitd.
func CheckMirror(ctx context.Context, mirrorURL string, s *spec.Spec, opts ...Option) (*MirrorHealth, error) {
	mu, err := ParseMirror(mirrorURL)
	if err != nil {
		return nil, err
	}
	s, o, conf, err := standalone(s, append([]Option{WithAttemptTimeout(DefaultCheckTimeout)}, opts...))
	if err != nil {
		return nil, err
	}
	mc := conf[mu.Host]
	if mu.Scheme == "http" {
		mc.PlainHTTP = boolPtr(true)
	} else if mc.PlainHTTP == nil {
		mc.PlainHTTP = boolPtr(false)
	}
	tc := newTransportConfig(s, o, nil)
	h := docker.RegistryHost{Host: mu.Host, Scheme: "https", Path: "/v2" + mu.Path}
	if err := fillHost(&h, mc, tc, nil); err != nil {
		return nil, err
	}
	mh := &MirrorHealth{URL: mu.URL, Host: mu.Host, Scheme: h.Scheme}
	target := h.Scheme + "://" + h.Host + h.Path + "/"
	if req, err := http.NewRequest(http.MethodGet, target, nil); err == nil {
		if pu, _ := tc.proxy(req); pu != nil {
			mh.Proxied = true
		}
	}

	// Each attempt has the check timeout to answer; transient answers (a 503 from a busy
	// mirror) are retried within checkRounds of it, so only a mirror that keeps failing,
	// refuses connections or never answers is called dead.
	actx, cancel := context.WithTimeout(ctx, CheckDeadline(o.attemptTimeout))
	defer cancel()
	start := time.Now()
	status, header, err := ping(actx, h.Client, target)
	mh.Latency = time.Since(start)
	mh.Status = status
	he := &HostError{Host: mu.URL, Mirror: true, Attempts: 1, Status: status}
	switch {
	case err != nil:
		oc := classify(err, actx, ctx, o.attemptTimeout)
		he.Class, he.Status, he.RetryAfter, he.msg, he.Err = oc.class, oc.status, oc.retryAfter, oc.msg, redactedError{err}
		mh.Status = oc.status
		return mh, he
	case status == http.StatusOK:
		return mh, nil
	case status == http.StatusUnauthorized:
		mh.AuthRealm = authRealm(header.Get("WWW-Authenticate"))
		return mh, nil
	default:
		he.Class = statusClass(status)
		he.msg = fmt.Sprintf("GET %s: HTTP %d (not a registry /v2/ endpoint?)", h.Path+"/", status)
		return mh, he
	}
}

// checkRounds × the attempt timeout bounds one CheckMirror, retries included.
const checkRounds = 3

func ping(ctx context.Context, c *http.Client, target string) (int, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, resp.Header, nil
}

var realmRE = regexp.MustCompile(`realm="([^"]*)"`)

func authRealm(h string) string {
	if m := realmRE.FindStringSubmatch(h); m != nil {
		return m[1]
	}
	return ""
}
