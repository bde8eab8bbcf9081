package registry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/containerd/containerd/v2/core/remotes/docker"
	remoteserrors "github.com/containerd/containerd/v2/core/remotes/errors"
	"github.com/containerd/errdefs"
)

// statusError is a retryable HTTP answer (408, 429, 5xx) turned into an error by
// countingTransport, so that containerd does not retry it on its own: archc's loop does,
// with backoff.
type statusError struct {
	code       int
	status     string
	retryAfter time.Duration
	host       string // the request's host: a registry, or the token server it sent us to
	proxy      string // the proxy that wrote the answer itself, when one did (proxyAnswered)
}

func (e *statusError) Error() string { return "HTTP " + e.status }

// transportError hides a network error from containerd's own retry logic (it retries
// timeouts and EOF immediately, without backoff); classify looks inside.
type transportError struct {
	err  error
	host string // the request's host, as for statusError
}

func (e *transportError) Error() string { return e.err.Error() }

// As lets callers find the cause's specific types (x509 and TLS errors, *net.DNSError, for
// their messages) while still hiding net.Error: containerd looks for that one (a Timeout())
// to retry at once, which would undo the backoff. errors.Is still sees nothing inside
// (no Unwrap), so containerd's io.EOF retry stays off too.
func (e *transportError) As(target any) bool {
	if _, ok := target.(*net.Error); ok {
		return false
	}
	return errors.As(e.err, target)
}

// malformedError is an answer that is not what a registry should send.
type malformedError struct{ msg string }

func (e *malformedError) Error() string { return e.msg }

// countingTransport counts requests and turns transient answers into errors.
type countingTransport struct {
	next  http.RoundTripper
	count *atomic.Int64
	// proxy is the proxy selection of the transport under next (transportConfig.proxy),
	// whatever wraps it (docker.NewHTTPFallback), for naming a proxy that answered.
	proxy func(*http.Request) (*url.URL, error)
}

func (t *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.count.Add(1)
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		// A refused CONNECT names its proxy itself (proxyRefusedError).
		return nil, &transportError{err: err, host: req.URL.Host}
	}
	if c := resp.StatusCode; statusClass(c) == ClassTransient {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		sent := req // the request on the wire: an HTTP fallback sends a plain-HTTP copy
		if resp.Request != nil {
			sent = resp.Request
		}
		return nil, &statusError{code: c, status: resp.Status, retryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()), host: req.URL.Host,
			proxy: proxyAnswered(resp.Header, body, proxyFor(t.proxy, sent))}
	}
	return resp, nil
}

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// outcome is one classified failure.
type outcome struct {
	class      Class
	status     int
	retryAfter time.Duration
	msg        string // short cause for the final error: "timed out after 10s"
	err        error
	// tokenServer is the token realm's host when fetching a token failed, else "".
	tokenServer string
	// refused is true when the host refused the connection: it is down, not busy.
	refused bool
	// attempts is how many requests retryTransport sent before giving up (at least 1).
	attempts int
	// proxy is the proxy that answered in the host's place, when one did.
	proxy string
}

// classify decides what a failed attempt means. attemptCtx is the attempt's context,
// parent the reference's (overall deadline and caller's cancellation).
func classify(err error, attemptCtx, parent context.Context, attemptTimeout time.Duration) outcome {
	o := outcome{err: err}
	var se *statusError
	var te *transportError
	var ue remoteserrors.ErrUnexpectedStatus
	var me *malformedError
	var pe *platformError
	var pr *proxyRefusedError
	switch {
	case parent.Err() != nil:
		o.class, o.msg = ClassCanceled, "gave up: "+ctxReason(parent)
	case errors.As(err, &se):
		o.class, o.status, o.retryAfter, o.msg = ClassTransient, se.code, se.retryAfter, "HTTP "+se.status
		if se.retryAfter > 0 {
			o.msg += fmt.Sprintf(" (retry after %s)", se.retryAfter)
		}
		if se.proxy != "" {
			o.proxy = se.proxy
			o.msg += " from the proxy " + se.proxy + ", not from " + se.host
		}
	case attemptCtx.Err() != nil:
		o.class, o.msg = ClassTimeout, fmt.Sprintf("timed out after %s", attemptTimeout)
	case errors.As(err, &pr):
		// The proxy answered the CONNECT itself: it could not reach the host.
		o.class, o.proxy = ClassUnknown, pr.proxy
		if pr.agent != "" {
			o.proxy += " (" + Redact(pr.agent) + ")"
		}
		o.msg = fmt.Sprintf("the proxy %s answered %q instead of connecting to %s", pr.proxy, Redact(pr.status), failedHost(err))
	case errors.As(err, &te):
		o = classifyNet(te.err)
		o.err = err
		if o.class == ClassTimeout && attemptTimeout > 0 {
			o.msg = strings.Replace(o.msg, "timed out", fmt.Sprintf("timed out after %s", attemptTimeout), 1)
		}
	case errors.As(err, &ue):
		o.status = ue.StatusCode
		o.msg = "HTTP " + ue.Status
		switch {
		case ue.StatusCode == http.StatusUnauthorized, ue.StatusCode == http.StatusForbidden:
			o.class = ClassAuth
		case ue.StatusCode == http.StatusNotFound:
			o.class = ClassNotFound
		default:
			o.class = ClassMalformed
		}
	case errors.Is(err, docker.ErrInvalidAuthorization):
		o.class, o.status, o.msg = ClassAuth, http.StatusUnauthorized, "HTTP 401 Unauthorized (authorization failed)"
	case errdefs.IsNotFound(err):
		o.class, o.status, o.msg = ClassNotFound, http.StatusNotFound, "not found"
	case errors.As(err, &pe):
		o.class, o.msg = ClassNotFound, pe.Error()
	case errors.As(err, &me):
		o.class, o.msg = ClassMalformed, me.msg
	default:
		o = classifyNet(err)
		o.err = err
	}
	o.attempts = requestAttempts(err)
	return o
}

// failedHost is the host of the request that failed, when err says ("" otherwise): a
// token server's differs from the registry's.
func failedHost(err error) string {
	var se *statusError
	var te *transportError
	var ue remoteserrors.ErrUnexpectedStatus
	switch {
	case errors.As(err, &se):
		return se.host
	case errors.As(err, &te):
		return te.host
	case errors.As(err, &ue):
		if u, perr := url.Parse(ue.RequestURL); perr == nil {
			return u.Host
		}
	}
	return ""
}

// classifyNet classifies a transport-level error.
func classifyNet(err error) outcome {
	o := outcome{err: err, class: ClassTransient}
	var dnsErr *net.DNSError
	var opErr *net.OpError
	var certErr *tls.CertificateVerificationError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var recErr tls.RecordHeaderError
	var slow *attemptTimeoutError
	proxy := errors.As(err, &opErr) && opErr.Op == "proxyconnect"
	switch {
	case errors.As(err, &slow):
		o.class, o.msg = ClassTimeout, slow.Error()
	case errors.As(err, &dnsErr):
		if dnsErr.IsNotFound && !dnsErr.IsTemporary {
			o.class, o.msg = ClassDNS, "no such host (DNS)"
		} else {
			o.msg = "DNS lookup failed (temporary)"
		}
	case errors.As(err, &certErr), errors.As(err, &unknownCA), errors.As(err, &hostErr):
		o.class, o.msg = ClassTLS, "TLS certificate not trusted"
	case errors.As(err, &recErr), IsPlainHTTP(err):
		o.class, o.msg = ClassTLS, "TLS handshake with a plain-HTTP server"
	case errors.Is(err, syscall.ECONNREFUSED):
		o.msg, o.refused = "connection refused", true
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.EPIPE):
		o.msg = "connection reset"
	case isTimeout(err):
		o.class, o.msg = ClassTimeout, "timed out"
	default:
		o.class, o.msg = ClassUnknown, Redact(err.Error())
	}
	if proxy {
		o.msg = "proxy: " + o.msg
	}
	return o
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func ctxReason(ctx context.Context) string {
	if errors.Is(context.Cause(ctx), context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return "overall deadline passed"
	}
	return "canceled"
}

// describe is the short cause of a HostError.
func describe(e *HostError) string {
	if e.msg != "" {
		return e.msg
	}
	if e.Err != nil {
		return Redact(e.Err.Error())
	}
	return e.Class.String()
}
