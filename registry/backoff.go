package registry

import (
	"math/rand/v2"
	"time"
)

// Backoff is the delay before attempt round+1 (round counts from 0): base doubled per
// round, capped at max, with jitter in [d/2, d] so that clients retrying against one
// struggling registry do not retry in step. It is the one retry schedule of archc: the
// resolver's and the solver's base prefetch.
func Backoff(base, max time.Duration, round int) time.Duration {
	d := base << min(round, 20)
	if d > max || d <= 0 {
		d = max
	}
	return d/2 + rand.N(d/2+1)
}
