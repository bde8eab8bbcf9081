package registry

import (
	"context"
	"errors"
	"net"
	"time"
)

// Defaults for a Resolver; each can be changed with the matching With* option.
const (
	// DefaultTimeout bounds the resolution of one reference, retries included.
	DefaultTimeout = 30 * time.Second
	// DefaultAttemptTimeout bounds one attempt against one host, so a mirror that accepts
	// connections and never answers is given up on and the next host is tried.
	DefaultAttemptTimeout = 10 * time.Second
	// DefaultConcurrency is how many references are resolved at once.
	DefaultConcurrency = 16
	// DefaultCheckTimeout bounds one CheckMirror call.
	DefaultCheckTimeout = 5 * time.Second
)

// Option configures a Resolver (and CheckMirror).
type Option func(*options) error

type options struct {
	timeout        time.Duration
	attemptTimeout time.Duration
	concurrency    int
	backoffBase    time.Duration
	backoffMax     time.Duration
	creds          func(host string) (string, string, error)
	dial           func(ctx context.Context, network, addr string) (net.Conn, error)
	logf           func(format string, args ...any)
	skip           map[string]string
}

func makeOptions(opts []Option) (options, error) {
	o := options{
		timeout:        DefaultTimeout,
		attemptTimeout: DefaultAttemptTimeout,
		concurrency:    DefaultConcurrency,
		backoffBase:    100 * time.Millisecond, // each retry delay is jittered to [d/2, d]
		backoffMax:     5 * time.Second,
		dial:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 60 * time.Second}).DialContext,
		logf:           func(string, ...any) {},
	}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return o, err
		}
	}
	if o.attemptTimeout > o.timeout {
		o.attemptTimeout = o.timeout
	}
	return o, nil
}

// retryPolicy is the per-request retry schedule (retryTransport) for these options.
func (o options) retryPolicy() retryPolicy {
	return retryPolicy{attempts: retryAttempts, refusedAttempts: refusedAttempts, attemptTimeout: o.attemptTimeout, hedgeAfter: min(hedgeAfter, o.attemptTimeout/2),
		backoffBase: o.backoffBase, backoffMax: o.backoffMax, maxRetryAfter: maxRetryAfter, logf: o.logf}
}

// WithTimeout bounds the resolution of each reference, retries included (default
// DefaultTimeout). The CLI's --timeout sets it.
func WithTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return errors.New("registry: timeout must be positive")
		}
		o.timeout = d
		return nil
	}
}

// WithAttemptTimeout bounds each attempt against one host (default DefaultAttemptTimeout;
// DefaultCheckTimeout for CheckMirror).
func WithAttemptTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return errors.New("registry: attempt timeout must be positive")
		}
		o.attemptTimeout = d
		return nil
	}
}

// WithConcurrency sets how many references are resolved at once (default
// DefaultConcurrency). The CLI's --concurrency sets it.
func WithConcurrency(n int) Option {
	return func(o *options) error {
		if n < 1 {
			return errors.New("registry: concurrency must be at least 1")
		}
		o.concurrency = n
		return nil
	}
}

// WithCredentials supplies registry credentials by host (e.g. from DockerCredentials).
// Tokens are then fetched by archc through the spec's proxy.
func WithCredentials(f func(host string) (user, secret string, err error)) Option {
	return func(o *options) error {
		o.creds = f
		return nil
	}
}

// WithDialContext replaces the TCP dialer (default: net.Dialer). Tests use it to keep
// every connection on loopback; the proxy, when used, is dialed through it too.
func WithDialContext(dial func(ctx context.Context, network, addr string) (net.Conn, error)) Option {
	return func(o *options) error {
		o.dial = dial
		return nil
	}
}

// WithSkippedMirrors starts the run with these mirrors (URLs as written in the spec)
// given up on, each with why (a failed health check): they are tried only when no other
// host is left, and Skipped names them.
func WithSkippedMirrors(why map[string]string) Option {
	return func(o *options) error {
		o.skip = why
		return nil
	}
}

// WithLogf receives one line per notable event (an attempt starts, a host failed or is
// skipped, a retry is scheduled), already redacted. Default: silent. The CLI's --verbose
// sets it.
func WithLogf(logf func(format string, args ...any)) Option {
	return func(o *options) error {
		o.logf = logf
		return nil
	}
}
