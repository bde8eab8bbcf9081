package registry

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/archc-dev/archc/spec"
)

// Class says why a request to a registry host failed, and so whether retrying can help.
type Class int

// Failure classes. Only ClassTransient and ClassTimeout are retried.
const (
	ClassUnknown   Class = iota
	ClassTransient       // connection refused/reset, temporary DNS, 5xx, 429: retried with backoff
	ClassTimeout         // no answer within the attempt deadline: the Resolver skips the host for the rest of its run
	ClassDNS             // the host name does not exist: not retried
	ClassAuth            // 401/403: not retried; log in or fix credentials
	ClassNotFound        // 404 / no manifest for a platform: not retried
	ClassMalformed       // the answer was not a valid registry answer (bad JSON, digest mismatch)
	ClassCanceled        // the caller cancelled or the overall deadline passed
	ClassSkipped         // not tried: the mirror timed out for other images earlier in this run
	ClassTLS             // the TLS certificate is not trusted or the host speaks plain HTTP
)

var classNames = map[Class]string{
	ClassUnknown: "error", ClassTransient: "transient", ClassTimeout: "timeout", ClassDNS: "dns",
	ClassAuth: "auth", ClassNotFound: "not found", ClassMalformed: "malformed",
	ClassCanceled: "canceled", ClassSkipped: "skipped", ClassTLS: "tls",
}

func (c Class) String() string { return classNames[c] }

// Retryable reports whether another attempt against the same host may succeed.
func (c Class) Retryable() bool { return c == ClassTransient || c == ClassTimeout }

// HostError is the outcome of every attempt against one host for one reference.
type HostError struct {
	// Host is what was contacted: the mirror URL (redacted) for a mirror, else "host[:port]".
	Host string
	// Mirror is true when Host is a mirror of the reference's registry.
	Mirror bool
	// Class classifies the last failure.
	Class Class
	// Status is the last HTTP status, or 0 when there was no HTTP answer.
	Status int
	// Attempts is how many times the host was tried.
	Attempts int
	// RetryAfter is the delay the host asked for (429/503 Retry-After), or 0.
	RetryAfter time.Duration
	// Err is the last underlying error (its text redacted).
	Err error
	// TokenServer is the host of the registry's token realm when the failure was fetching
	// a token from it (the classic "failed to fetch oauth token"), else "".
	TokenServer string
	// Proxy is the proxy that answered in the host's place ("http://127.0.0.1:8888
	// (tinyproxy/1.11.1)"): it could not reach the host. "" when the host answered.
	Proxy string

	msg string
}

func (e *HostError) Error() string {
	msg := describe(e)
	if e.Attempts > 1 {
		msg += fmt.Sprintf(" (%d attempts)", e.Attempts)
	}
	return e.who() + ": " + msg
}

// who names the host as messages do: "mirror URL" or "host[:port]".
func (e *HostError) who() string {
	if e.Mirror {
		return "mirror " + e.Host
	}
	return e.Host
}

func (e *HostError) Unwrap() error { return e.Err }

// ResolveError is returned when a reference could not be resolved from any host.
type ResolveError struct {
	// Ref is the normalized reference, e.g. "docker.io/library/alpine:3.20".
	Ref string
	// Hosts are every host tried, in order, each with its own cause.
	Hosts []*HostError
	// hint is a suggestion for the user ("configure a mirror", "check the proxy", "log in").
	hint string
}

func (e *ResolveError) Error() string {
	parts := make([]string, len(e.Hosts))
	for i, h := range e.Hosts {
		parts[i] = h.Error()
	}
	msg := e.Ref + ": " + strings.Join(parts, "; ")
	if len(e.Hosts) == 0 {
		msg = e.Ref + ": no host to resolve from"
	}
	return msg
}

// Hint says what to do about the failure: log in, configure a mirror, check the proxy...
func (e *ResolveError) Hint() string { return e.hint }

// TagMissing says whether every host answered that the reference does not exist: the image
// name or tag is wrong, or the tag was removed (so its pin can only move).
func (e *ResolveError) TagMissing() bool {
	for _, h := range e.Hosts {
		if h.Class != ClassNotFound {
			return false
		}
	}
	return len(e.Hosts) > 0
}

// WithHint returns err with a suggestion for the user, rendered apart from the message
// (the CLI prints each hint of an error once, after it). It is the one hint carrier, for
// every package.
func WithHint(err error, hint string) error { return &hintError{err: err, hint: hint} }

// hintError is an error with a suggestion for the user, rendered apart from the message.
type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return e.err.Error() }
func (e *hintError) Unwrap() error { return e.err }

// Hint says what to do about the error.
func (e *hintError) Hint() string { return e.hint }

// ErrNoCacheDir is returned when the default content cache directory cannot be found.
var ErrNoCacheDir = errors.New("find the cache directory")

// Unwrap gives errors.As/Is access to every host's error.
func (e *ResolveError) Unwrap() []error {
	out := make([]error, len(e.Hosts))
	for i, h := range e.Hosts {
		out[i] = h
	}
	return out
}

// Class is the most telling class across hosts: not found and auth beat transient causes,
// since a mirror that is down matters less than an image that does not exist upstream.
func (e *ResolveError) Class() Class {
	best := ClassUnknown
	rank := map[Class]int{ClassSkipped: 1, ClassCanceled: 2, ClassDNS: 3, ClassTransient: 4,
		ClassTimeout: 5, ClassTLS: 6, ClassMalformed: 7, ClassNotFound: 8, ClassAuth: 9}
	for _, h := range e.Hosts {
		if rank[h.Class] > rank[best] {
			best = h.Class
		}
	}
	return best
}

// ErrNotCached is returned by Cache.Get for content that is not in the cache.
var ErrNotCached = errors.New("not in the content cache")

// Redact masks credentials in URLs inside s (spec.RedactText): every error and log line
// this package makes goes through it.
func Redact(s string) string { return spec.RedactText(s) }

// redactedError is an error whose text has had credentials removed; it keeps the original
// for errors.Is/As.
type redactedError struct{ err error }

func (r redactedError) Error() string { return Redact(r.err.Error()) }
func (r redactedError) Unwrap() error { return r.err }
