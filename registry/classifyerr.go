package registry

import (
	"context"
	"errors"
	"regexp"
	"strconv"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Classify says what a failed registry request means when all a caller has is the error,
// so that it retries only what can get better (Class.Retryable) with the same policy as
// archc's own resolution.
//
// archc's own errors (*ResolveError, *HostError and the transport errors under them) are
// classified by type. A pull that failed inside a builder reaches archc through the gRPC
// API: every type is gone, only a status code and the text of the registry client that
// failed remain (buildkit's containerd, the same client this package uses). The code
// decides when it says something (DeadlineExceeded, Unavailable...); for codes.Unknown,
// which is what a failed pull comes back with, the text is read for the shapes that
// client writes: "unexpected status from HEAD request to URL: 503 Service Unavailable",
// "dial tcp HOST: connect: connection refused", "REF: not found", x509 and DNS errors.
func Classify(err error) Class {
	if err == nil {
		return ClassUnknown
	}
	var re *ResolveError
	var he *HostError
	switch {
	case errors.As(err, &re):
		return re.Class()
	case errors.As(err, &he):
		return he.Class
	case errors.Is(err, context.Canceled):
		return ClassCanceled
	case errors.Is(err, context.DeadlineExceeded):
		return ClassTimeout
	}
	if st, ok := status.FromError(err); ok && st.Code() != codes.OK && st.Code() != codes.Unknown {
		if c, ok := grpcClass[st.Code()]; ok {
			return c
		}
	}
	if c := classify(err, context.Background(), context.Background(), 0).class; c != ClassUnknown {
		return c
	}
	return classifyText(err.Error())
}

// grpcClass maps the status codes that say something about a registry failure.
var grpcClass = map[codes.Code]Class{
	codes.Canceled:          ClassCanceled,
	codes.DeadlineExceeded:  ClassTimeout,
	codes.Unavailable:       ClassTransient,
	codes.ResourceExhausted: ClassTransient,
	codes.Aborted:           ClassTransient,
	codes.NotFound:          ClassNotFound,
	codes.Unauthenticated:   ClassAuth,
	codes.PermissionDenied:  ClassAuth,
}

// unexpectedStatus matches containerd's ErrUnexpectedStatus text (remotes/errors), which
// carries the HTTP status of the request that failed.
var unexpectedStatus = regexp.MustCompile(`unexpected status from [A-Z]+ request to \S+: (\d{3})`)

// textRules classify the rest of an error that lost its type, first match wins. The
// order matters: TLS and DNS failures are not retried even when the text also says
// "timeout" further down; a status code is never matched loosely (digests are hex, and
// "sha256:...429..." is not a 429).
var textRules = []struct {
	class Class
	any   []string
}{
	// A TLS alert from the server, and Go's answer to plain HTTP on an HTTPS port (the
	// body of a 400, in the text of clients that print it) are TLS failures too.
	{ClassTLS, []string{"x509: ", "tls: failed to verify", "http: server gave http response to https client", "tls: first record does not look like a tls handshake",
		"remote error: tls: ", "http request to an https server"}},
	{ClassTransient, []string{"temporary failure in name resolution", "server misbehaving"}},
	{ClassDNS, []string{": no such host"}},
	{ClassTimeout, []string{"i/o timeout", "tls handshake timeout", "context deadline exceeded", "timeout awaiting response headers", "client.timeout exceeded"}},
	{ClassTransient, []string{"connection refused", "connection reset", "broken pipe", "unexpected eof", ": eof", "no route to host", "network is unreachable"}},
	// distribution's answers when concurrent pushes of one blob race (measured: 1 in ~13
	// cold 40-build farm runs against docker-registry): the same push succeeds again. A
	// pull never sees these texts untyped (archc's client classifies by status first).
	{ClassTransient, []string{"provided digest did not match uploaded content", "blob unknown to registry"}},
	{ClassAuth, []string{"pull access denied", "push access denied", "insufficient_scope", "failed to authorize", "unauthorized"}},
	{ClassNotFound, []string{": not found", "manifest unknown", "no match for platform"}},
}

// authText finds what else a refused request writes: a registry's DENIED error code
// ("denied: requested access to the resource is denied", not "permission denied: "), and a
// 401 or 403 status in older clients' texts ("unexpected status: 403 Forbidden", which
// remote nodes' BuildKit may still write), never inside a digest ("…16040331…" holds "403").
var authText = regexp.MustCompile(`(?:^|\n|: )denied: |\bstatus:? 40[13]\b|\b403 forbidden\b`)

func classifyText(msg string) Class {
	if m := unexpectedStatus.FindStringSubmatch(msg); m != nil {
		code, _ := strconv.Atoi(m[1])
		return statusClass(code)
	}
	lower := strings.ToLower(msg)
	for _, r := range textRules {
		for _, s := range r.any {
			if strings.Contains(lower, s) {
				return r.class
			}
		}
	}
	if authText.MatchString(lower) {
		return ClassAuth
	}
	return ClassUnknown
}

// statusClass classifies an HTTP status a registry answered with: the one table, used by
// the transport (which turns transient answers into retried errors) and for errors that
// lost their type.
func statusClass(code int) Class {
	switch {
	case code < 400:
		return ClassUnknown
	case code == 408, code == 429, code >= 500:
		return ClassTransient
	case code == 401, code == 403:
		return ClassAuth
	case code == 404:
		return ClassNotFound
	default:
		return ClassMalformed
	}
}
