package registry

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestBackoffIsCappedAndJittered(t *testing.T) {
	t.Parallel()
	const maxDelay = 10 * time.Second
	tests := []struct {
		name     string
		base     time.Duration
		round    int
		min, max time.Duration
	}{
		{"first retry", time.Second, 0, 500 * time.Millisecond, time.Second},
		{"doubles", time.Second, 2, 2 * time.Second, 4 * time.Second},
		{"capped", time.Second, 10, maxDelay / 2, maxDelay},
		{"no overflow", time.Second, 100, maxDelay / 2, maxDelay},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			seen := map[time.Duration]bool{}
			for range 50 {
				d := Backoff(tc.base, maxDelay, tc.round)
				assert.GreaterOrEqual(t, d, tc.min)
				assert.LessOrEqual(t, d, tc.max)
				seen[d] = true
			}
			// 50 draws from hundreds of millions of nanoseconds: without jitter there is one value.
			assert.Greater(t, len(seen), 1, "delays must be jittered")
		})
	}
}
