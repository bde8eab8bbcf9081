package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// retryTransport is archc's one retry policy, applied to each request on the wire: every
// client this package makes (resolution, blob downloads, mirror checks, token fetches,
// pushes) sends its requests through one. A request that failed transiently is sent again,
// itself, after a capped and jittered backoff (or the server's Retry-After); nothing larger
// (an image, a build) is redone because one request failed, and each retry is a real
// request that a fault injector can count.
//
//   - 5xx, 408, 429, resets, EOF, temporary DNS failures: retried up to retryAttempts
//     times while the request's context allows the wait.
//   - connection refused: retried refusedAttempts times, quickly; a host that refuses is
//     down, and the caller moves on to the next host (and skips this one for the run).
//   - no response headers within the attempt timeout: not retried here; the host is slow
//     or blackholed, and the caller fails over to the next host.
//   - everything else (401, 403, 404, TLS, a name that does not exist): not retried.
//
// A request with a body is retried only when it can be replayed (GetBody).
type retryTransport struct {
	next   http.RoundTripper // countingTransport: transient answers come back as *statusError
	policy retryPolicy
}

// retryPolicy is the schedule of retryTransport; makeOptions fills it from the options.
type retryPolicy struct {
	attempts        int           // transient failures: attempts per request, the first included
	refusedAttempts int           // connection refused: attempts per request
	attemptTimeout  time.Duration // time allowed until the response headers
	hedgeAfter      time.Duration // a read without headers by then is sent again alongside (0: never)
	backoffBase     time.Duration
	backoffMax      time.Duration
	maxRetryAfter   time.Duration // a longer Retry-After is not waited for
	logf            func(format string, args ...any)
}

const (
	retryAttempts   = 10 // at 20% random failures, 1e-7 per request gives up
	refusedAttempts = 3
	refusedBackoff  = 100 * time.Millisecond
	maxRetryAfter   = 30 * time.Second
	// hedgeAfter is well above a healthy registry's time to first byte, even far away
	// through a proxy, and well below a stall worth avoiding.
	hedgeAfter = time.Second
)

// attemptTimeoutError is an attempt that got no response headers in time.
type attemptTimeoutError struct {
	after time.Duration
	host  string
}

func (e *attemptTimeoutError) Error() string {
	return fmt.Sprintf("timed out after %s", e.after)
}

// Timeout marks it as a timeout for code that asks (net.Error's method).
func (e *attemptTimeoutError) Timeout() bool { return true }

// attemptsError carries how many requests were sent for a request that failed for good.
type attemptsError struct {
	err error
	n   int
}

func (e *attemptsError) Error() string { return e.err.Error() }
func (e *attemptsError) Unwrap() error { return e.err }

// requestAttempts is the number of requests sent for err's request (1 when err does not
// say).
func requestAttempts(err error) int {
	var ae *attemptsError
	if errors.As(err, &ae) {
		return ae.n
	}
	return 1
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	p := t.policy
	for attempt := 1; ; attempt++ {
		r, err := replay(req, attempt)
		if err != nil {
			return nil, err
		}
		resp, err := t.once(r)
		if err == nil {
			return resp, nil
		}
		if ctx.Err() != nil {
			return nil, err
		}
		o := classify(err, ctx, ctx, 0)
		limit := p.attempts
		if o.refused {
			limit = p.refusedAttempts
		}
		if !o.class.Retryable() || o.class == ClassTimeout || attempt >= limit || !replayable(req) {
			return nil, &attemptsError{err: err, n: attempt}
		}
		wait := Backoff(p.backoffBase, p.backoffMax, attempt-1)
		if o.refused {
			wait = Backoff(refusedBackoff, refusedBackoff*4, attempt-1)
		}
		if o.retryAfter > 0 {
			if o.retryAfter > p.maxRetryAfter {
				return nil, &attemptsError{err: err, n: attempt}
			}
			wait = max(wait, o.retryAfter)
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return nil, &attemptsError{err: err, n: attempt}
		}
		p.logf("%s %s: %s; retrying in %s", req.Method, Redact(req.URL.Redacted()), o.msg, wait.Round(time.Millisecond))
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return nil, &attemptsError{err: err, n: attempt}
		}
	}
}

// once sends one attempt: hedged when it may be (hedged), else single.
func (t *retryTransport) once(r *http.Request) (*http.Response, error) {
	if t.policy.hedgeAfter > 0 && (r.Method == http.MethodGet || r.Method == http.MethodHead) && (r.Body == nil || r.Body == http.NoBody) {
		return t.hedged(r)
	}
	return t.single(r)
}

// hedged sends r and, when no response headers came within the hedge delay, sends it once
// more while the first still waits; the first answer wins and the other is cancelled. A
// mirror that stalls one request in ten then costs the hedge delay, not the stall; a
// healthy one, whose headers come in milliseconds, is never asked twice. Only reads are
// hedged. An attempt that fails while the other still runs waits for it; when both fail,
// the first failure is returned to the retry loop.
func (t *retryTransport) hedged(r *http.Request) (*http.Response, error) {
	type result struct {
		i    int
		resp *http.Response
		err  error
	}
	results := make(chan result, 2)
	var cancels [2]context.CancelFunc
	launch := func(i int) {
		ctx, cancel := context.WithCancel(r.Context())
		cancels[i] = cancel
		go func() {
			resp, err := t.single(r.Clone(ctx))
			results <- result{i, resp, err}
		}()
	}
	launch(0)
	timer := time.NewTimer(t.policy.hedgeAfter)
	defer timer.Stop()
	launched, pending := 1, 1
	var firstErr error
	for {
		select {
		case <-timer.C:
			if launched == 1 && r.Context().Err() == nil {
				t.policy.logf("%s %s: no answer within %s; asking again", r.Method, Redact(r.URL.Redacted()), t.policy.hedgeAfter)
				launch(1)
				launched, pending = 2, pending+1
			}
		case res := <-results:
			pending--
			if res.err == nil {
				if pending > 0 {
					cancels[1-res.i]() // the other loses; close its body should it answer anyway
					go func() {
						if l := <-results; l.err == nil {
							l.resp.Body.Close()
						}
					}()
				}
				res.resp.Body = &cancelOnClose{ReadCloser: res.resp.Body, cancel: cancels[res.i]}
				return res.resp, nil
			}
			cancels[res.i]()
			if firstErr == nil {
				firstErr = res.err
			}
			if pending == 0 {
				return nil, firstErr
			}
		}
	}
}

// single sends one attempt, failing it when the response headers take longer than the
// attempt timeout. The body is read under the caller's context only.
func (t *retryTransport) single(r *http.Request) (*http.Response, error) {
	if t.policy.attemptTimeout <= 0 {
		return t.next.RoundTrip(r)
	}
	actx, cancel := context.WithCancelCause(r.Context())
	errSlow := &attemptTimeoutError{after: t.policy.attemptTimeout, host: r.URL.Host}
	timer := time.AfterFunc(t.policy.attemptTimeout, func() { cancel(errSlow) })
	resp, err := t.next.RoundTrip(r.WithContext(actx))
	stopped := timer.Stop()
	if err != nil {
		cancel(nil)
		if !stopped && errors.Is(context.Cause(actx), errSlow) && r.Context().Err() == nil {
			return nil, &transportError{err: errSlow, host: r.URL.Host}
		}
		return nil, err
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: func() { cancel(nil) }}
	return resp, nil
}

// replay returns the request for attempt n: the original first, then a copy with a fresh
// body.
func replay(req *http.Request, n int) (*http.Request, error) {
	if n == 1 || req.Body == nil || req.Body == http.NoBody {
		return req, nil
	}
	if req.GetBody == nil {
		return nil, errors.New("request body cannot be replayed")
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, err
	}
	r := req.Clone(req.Context())
	r.Body = body
	return r, nil
}

func replayable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

// cancelOnClose releases an attempt's context when its body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel func()
	once   sync.Once
}

func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.cancel)
	return err
}

// opAttempts bounds Retry. An export redone after a failed push only pushes what is
// missing, but each attempt sends several requests, so at 20 % failed requests it fails
// more often than a single request does: it gets more attempts, with a shorter first wait.
const opAttempts = 8

// Retry's backoff: 250 ms doubling to 4 s (variables for one test's sake).
var opBackoffBase, opBackoffMax = 250 * time.Millisecond, 4 * time.Second

// Retry runs op again while it fails for a reason Classify calls retryable (timeouts,
// resets, refused connections, 5xx, 429), up to opAttempts times within ctx, with the
// policy's capped, jittered backoff. It is the same policy, for an operation that cannot
// be replayed request by request: a streamed upload, or a BuildKit export that pushes
// (the build is cached by then, so only the push is redone). only, when not nil, narrows
// what is retried (a failed push, not a failed RUN); logf hears each retry.
func Retry(ctx context.Context, logf func(format string, args ...any), only func(error) bool, op func() error) error {
	for attempt := 1; ; attempt++ {
		err := op()
		if err == nil {
			return nil
		}
		class := Classify(err)
		if !class.Retryable() || (only != nil && !only(err)) || attempt >= opAttempts || ctx.Err() != nil {
			if attempt > 1 {
				return fmt.Errorf("%w (%s; %d attempts)", err, class, attempt)
			}
			return err
		}
		wait := Backoff(opBackoffBase, opBackoffMax, attempt-1)
		if logf != nil {
			logf("%s; retrying in %s", Redact(firstLine(err.Error())), wait.Round(time.Millisecond))
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return err
		}
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
