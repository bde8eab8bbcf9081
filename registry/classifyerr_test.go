package registry

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"

	remoteserrors "github.com/containerd/containerd/v2/core/remotes/errors"
	"github.com/containerd/errdefs"
	"github.com/stretchr/testify/assert"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// overGRPC is what an error raised inside a builder looks like to archc: its text under a
// gRPC status, every type gone. A failed pull comes back with codes.Unknown (checked
// against bin/buildkitd: refused mirror, 503, 404 all do; a deadline comes back as
// DeadlineExceeded).
func overGRPC(code codes.Code, err error) error {
	return fmt.Errorf("prefetch on builder local: %w", status.Error(code, "failed to load cache key: "+err.Error()))
}

func TestClassify(t *testing.T) {
	t.Parallel()
	const ref = "127.0.0.1:5000/library/busybox@sha256:2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db0429500917921a48"
	const url = "http://127.0.0.1:5000/v2/library/busybox/manifests/sha256:2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db0429500917921a48"
	refused := fmt.Errorf("failed to do request: Head %q: %w", url, &net.OpError{Op: "dial", Net: "tcp",
		Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}, Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)})
	unexpected := func(code int, text string) error {
		return remoteserrors.ErrUnexpectedStatus{Status: fmt.Sprintf("%d %s", code, text), StatusCode: code, RequestURL: url, RequestMethod: "HEAD"}
	}
	notFound := fmt.Errorf("%s: %w", ref, errdefs.ErrNotFound)
	dns := fmt.Errorf("failed to do request: Head %q: %w", "https://upstream.invalid/v2/", &net.DNSError{Err: "no such host", Name: "upstream.invalid", IsNotFound: true})
	untrusted := fmt.Errorf("failed to do request: Head %q: tls: failed to verify certificate: %w", url, x509.UnknownAuthorityError{})
	tests := []struct {
		name string
		err  error
		want Class
	}{
		{"dead mirror over gRPC", overGRPC(codes.Unknown, refused), ClassTransient},
		{"dead mirror, in process", refused, ClassTransient},
		{"503 over gRPC", overGRPC(codes.Unknown, unexpected(503, "Service Unavailable")), ClassTransient},
		{"429 over gRPC", overGRPC(codes.Unknown, unexpected(429, "Too Many Requests")), ClassTransient},
		{"401 over gRPC", overGRPC(codes.Unknown, unexpected(401, "Unauthorized")), ClassAuth},
		{"404 status over gRPC", overGRPC(codes.Unknown, unexpected(404, "Not Found")), ClassNotFound},
		{"400 over gRPC", overGRPC(codes.Unknown, unexpected(400, "Bad Request")), ClassMalformed},
		// the digest holds "429" and "500": not a status.
		{"not found over gRPC, digest with 429 in it", overGRPC(codes.Unknown, notFound), ClassNotFound},
		{"not found, in process", notFound, ClassNotFound},
		{"no such host over gRPC", overGRPC(codes.Unknown, dns), ClassDNS},
		{"untrusted certificate over gRPC", overGRPC(codes.Unknown, untrusted), ClassTLS},
		{"deadline over gRPC", fmt.Errorf("prefetch: %w", status.Error(codes.DeadlineExceeded, "context deadline exceeded")), ClassTimeout},
		{"unavailable over gRPC", status.Error(codes.Unavailable, "connection error"), ClassTransient},
		{"a push that raced another over gRPC", overGRPC(codes.Unknown, errors.New("failed to push 127.0.0.1:5001/app: errors:\nunknown: provided digest did not match uploaded content\nunknown: blob unknown to registry - sha256:1b82")), ClassTransient},
		{"canceled over gRPC", status.Error(codes.Canceled, "context canceled"), ClassCanceled},
		{"i/o timeout over gRPC", overGRPC(codes.Unknown, errors.New("dial tcp 127.0.0.1:5000: i/o timeout")), ClassTimeout},
		{"context canceled", fmt.Errorf("pull: %w", context.Canceled), ClassCanceled},
		{"archc's own resolve error", &ResolveError{Ref: ref, Hosts: []*HostError{{Host: "127.0.0.1:5000", Class: ClassTimeout}}}, ClassTimeout},
		{"a build step, not a registry", overGRPC(codes.Unknown, errors.New(`process "/bin/sh -c exit 3" did not complete successfully: exit code: 3`)), ClassUnknown},
		// A push refused, as a remote node's BuildKit writes it (its containerd may be older).
		{"DENIED error code over gRPC", overGRPC(codes.Unknown, errors.New("failed to push 127.0.0.1:5001/app: errors:\ndenied: requested access to the resource is denied")), ClassAuth},
		{"push access denied over gRPC", overGRPC(codes.Unknown, errors.New("push access denied, repository does not exist or may require authorization: server message: insufficient_scope")), ClassAuth},
		{"older client's 403", overGRPC(codes.Unknown, errors.New("failed to do request: unexpected status: 403 Forbidden")), ClassAuth},
		{"a status 401", errors.New("token fetch: status 401"), ClassAuth},
		{"a 403 inside a digest", errors.New("failed to push: sha256:1d6c16040331d9b7 403abc"), ClassUnknown},
		{"permission denied is no registry's", overGRPC(codes.Unknown, errors.New("open /etc/buildkit/ca.pem: permission denied: unknown")), ClassUnknown},
		{"plain HTTP to an HTTPS port", errors.New("400 Bad Request: Client sent an HTTP request to an HTTPS server."), ClassTLS},
		{"a TLS alert from the server", overGRPC(codes.Unknown, errors.New("failed to do request: Put \"https://h/v2/\": remote error: tls: bad certificate")), ClassTLS},
		{"nil", nil, ClassUnknown},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := Classify(tc.err)
			assert.Equal(t, tc.want, got, "%v: got %s, want %s", tc.err, got, tc.want)
		})
	}
}

func TestClassRetryable(t *testing.T) {
	t.Parallel()
	for c, want := range map[Class]bool{ClassTransient: true, ClassTimeout: true, ClassNotFound: false,
		ClassAuth: false, ClassDNS: false, ClassTLS: false, ClassUnknown: false, ClassCanceled: false} {
		assert.Equal(t, want, c.Retryable(), c.String())
	}
}
