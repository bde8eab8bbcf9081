package registry

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/distribution/reference"
)

// onHosts runs op against the hosts that serve ref, in order (each mirror, then the
// registry itself unless mirrors_only), until one succeeds: archc's failover rule, for
// resolution and for downloads alike. Each request op makes is retried by retryTransport;
// what op learned before failing is op's to keep (the cache). A host that failed for a
// reason retrying can fix is tried again in later rounds, after a backoff, until timeout
// passes. A mirror that refused connections, or timed out for downAfter references, is
// skipped for the rest of the run unless it is the last host left. The error is a
// *ResolveError naming every host and why it failed.
func (r *Resolver) onHosts(ctx context.Context, ref string, timeout time.Duration, op func(context.Context, *hostEntry) error) error {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return err
	}
	hosts, err := r.hostsFor(reference.Domain(named))
	if err != nil {
		return fmt.Errorf("%s: %w", ref, err)
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	results := make([]*HostError, len(hosts))
	for i, h := range hosts {
		results[i] = &HostError{Host: h.label, Mirror: h.mirror}
	}
	down := make([]int, len(hosts)) // times each host timed out or refused for this reference
	for round := 0; ; round++ {
		var retry bool
		var wait time.Duration
		for i, h := range hosts {
			he := results[i]
			if round > 0 && !he.Class.Retryable() {
				continue
			}
			if round > 0 && down[i] > 0 && (down[i] >= lastHostTimeouts || r.othersLeft(hosts, results, i)) {
				continue // a host that timed out or refused is tried again only as the last resort
			}
			if why := r.isDown(h); why != "" && r.othersLeft(hosts, results, i) {
				// A mirror found down earlier in this run is not tried again (see downAfter),
				// unless it is the last host left; one that already failed here keeps its cause.
				if he.Attempts == 0 {
					he.Class, he.msg = ClassSkipped, "skipped: "+why
					r.opts.logf("%s: %s", ref, he.Error())
				}
				continue
			}
			var prev *HostError
			if he.Attempts > 0 {
				cp := *he
				prev = &cp
			}
			r.opts.logf("%s: trying %s", ref, he.who())
			o := r.attempt(ctx, h, op)
			if o == nil {
				he.Attempts++
				r.opts.logf("%s: done via %s", ref, he.who())
				return nil
			}
			he.Attempts += o.attempts
			he.Class, he.Status, he.RetryAfter, he.msg, he.TokenServer, he.Proxy = o.class, o.status, o.retryAfter, o.msg, o.tokenServer, o.proxy
			if he.Mirror && o.class == ClassNotFound && o.status == http.StatusNotFound {
				he.msg = "does not have " + repoTag(ref) + " (" + o.msg + ")"
			}
			he.Err = redactedError{o.err}
			r.opts.logf("%s: %s", ref, he.Error())
			switch {
			case o.class == ClassTimeout:
				down[i]++
				r.timedOut(h, ref)
			case o.refused:
				down[i]++
				r.markDown(h, "refused connections")
			}
			if o.class == ClassCanceled {
				if prev != nil && ctx.Err() != nil && parent.Err() == nil {
					// The overall deadline ran out mid-attempt: the previous cause says more.
					he.Class, he.Status, he.RetryAfter, he.msg, he.Err, he.Proxy = prev.Class, prev.Status, prev.RetryAfter, prev.msg, prev.Err, prev.Proxy
				}
				return r.fail(ref, results)
			}
			if o.class.Retryable() {
				retry = true
				wait = max(wait, o.retryAfter)
			}
		}
		if !retry {
			return r.fail(ref, results)
		}
		wait = max(wait, Backoff(r.opts.backoffBase, r.opts.backoffMax, round))
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return r.fail(ref, results)
		}
		r.opts.logf("%s: every host failed; trying again in %s", ref, wait.Round(time.Millisecond))
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return r.fail(ref, results)
		}
	}
}

// lastHostTimeouts is how often the last host left may time out (or refuse, after its
// quick retries) for one reference before it is given up on: once more than any other
// host, as one bad answer is no verdict, but not until the deadline, as a blackholed or
// stopped host would make every reference wait that long.
const lastHostTimeouts = 2

// othersLeft reports whether a host other than hosts[i] may still serve this reference:
// not given up on for the run, and not failed here for a reason retrying cannot change.
// The last host left is always tried: a mirrors_only registry never loses its only
// mirror to one bad answer.
func (r *Resolver) othersLeft(hosts []*hostEntry, results []*HostError, i int) bool {
	for j, h := range hosts {
		if j == i || r.isDown(h) != "" {
			continue
		}
		if c := results[j].Class; results[j].Attempts == 0 || (c.Retryable() && c != ClassTimeout) {
			return true
		}
	}
	return false
}
