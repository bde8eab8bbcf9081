package solver

import (
	"context"
	"errors"
	"testing"

	"github.com/moby/buildkit/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type fakeAdmin struct {
	records  []*client.UsageInfo
	pruneErr error
	opts     client.PruneInfo
}

func (f *fakeAdmin) DiskUsage(context.Context, ...client.DiskUsageOption) ([]*client.UsageInfo, error) {
	return f.records, nil
}

func (f *fakeAdmin) Prune(_ context.Context, ch chan client.UsageInfo, opts ...client.PruneOption) error {
	for _, o := range opts {
		o.SetPruneOption(&f.opts)
	}
	for _, r := range f.records {
		if !r.InUse {
			ch <- *r
		}
	}
	return f.pruneErr
}

func TestCacheUsage(t *testing.T) {
	t.Parallel()
	f := &fakeAdmin{records: []*client.UsageInfo{{Size: 100}, {Size: 20, InUse: true}, {Size: 3, Shared: true}}}
	var u CacheUsage
	require.NoError(t, diskUsage(context.Background(), f, &u))
	assert.Equal(t, CacheUsage{Records: 3, Size: 123, Reclaimable: 100}, u)

	u = CacheUsage{}
	require.NoError(t, prune(PruneOptions{All: true, KeepDuration: 3600e9})(context.Background(), f, &u))
	assert.Equal(t, CacheUsage{Records: 2, Size: 103}, u)
	assert.True(t, f.opts.All)
	assert.EqualValues(t, 3600e9, f.opts.KeepDuration)

	f.pruneErr = errors.New("boom")
	assert.ErrorContains(t, prune(PruneOptions{})(context.Background(), f, &CacheUsage{}), "prune: boom")
}
