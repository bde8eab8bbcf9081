package solver

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	remoteserrors "github.com/containerd/containerd/v2/core/remotes/errors"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/buildkit/util/grpcerrors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fromDaemon is a pull error as the gateway client returns it: raised in buildkitd,
// sent as a gRPC status, decoded by the client (only the text survives).
func fromDaemon(err error) error {
	return grpcerrors.FromGRPC(grpcerrors.ToGRPC(context.Background(), fmt.Errorf("failed to load cache key: %w", err)))
}

func TestPrefetchRetriesOnlyWhatTheRegistryCallsRetryable(t *testing.T) {
	t.Parallel()
	// a digest with "429" and "500" in it, as real ones often have.
	const ref = "127.0.0.1:5000/library/busybox@sha256:2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db0429500917921a48"
	const url = "http://127.0.0.1:5000/v2/library/busybox/manifests/sha256:2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db0429500917921a48"
	tests := []struct {
		name     string
		err      error
		attempts int
		suffix   string
	}{
		{"dead mirror: retried", fromDaemon(fmt.Errorf("failed to do request: Head %q: dial tcp 127.0.0.1:9: connect: connection refused", url)), 3, "(transient, 3 attempts)"},
		{"503: retried", fromDaemon(remoteserrors.ErrUnexpectedStatus{Status: "503 Service Unavailable", StatusCode: 503, RequestURL: url, RequestMethod: "HEAD"}), 3, "(transient, 3 attempts)"},
		{"not found: once, though the digest says 429", fromDaemon(fmt.Errorf("%s: %w", ref, cerrdefs.ErrNotFound)), 1, ": not found"},
		{"401: once", fromDaemon(remoteserrors.ErrUnexpectedStatus{Status: "401 Unauthorized", StatusCode: 401, RequestURL: url, RequestMethod: "HEAD"}), 1, "401 Unauthorized"},
		{"untrusted certificate: once", fromDaemon(errors.New("tls: failed to verify certificate: x509: certificate signed by unknown authority")), 1, "unknown authority"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n := 0
			err := retry(context.Background(), 3, time.Millisecond, func() error { n++; return tc.err })
			require.Error(t, err)
			assert.Equal(t, tc.attempts, n)
			assert.True(t, strings.HasSuffix(err.Error(), tc.suffix), "%q should end with %q", err, tc.suffix)
		})
	}
	t.Run("success after a transient failure", func(t *testing.T) {
		t.Parallel()
		n := 0
		err := retry(context.Background(), 3, time.Millisecond, func() error {
			if n++; n == 1 {
				return fromDaemon(errors.New("read tcp 127.0.0.1:5000: connection reset by peer"))
			}
			return nil
		})
		require.NoError(t, err)
		assert.Equal(t, 2, n)
	})
}
