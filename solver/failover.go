package solver

import (
	"context"
	"errors"
	"io"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// maxReruns bounds how often one platform build is re-run after losing its builder.
const maxReruns = 2

// isConnectionLoss reports whether a solve failed because the connection to its builder
// dropped (the daemon died, was killed, or the network went), not because of the build:
// gRPC Unavailable, Canceled without this run having cancelled, EOF, or the transport's
// own words. A failing RUN step is never a connection loss, whatever its output says.
func isConnectionLoss(ctx context.Context, err error) bool {
	if err == nil || ctx.Err() != nil {
		return false
	}
	msg := err.Error()
	if strings.Contains(msg, "did not complete successfully") {
		return false // a RUN's exit code
	}
	switch status.Code(err) {
	case codes.Unavailable:
		return true
	case codes.Canceled:
		return true // not this run's cancel (checked above): the transport's
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	for _, s := range []string{"connection reset", "transport is closing", "error reading from server",
		"connection refused", "broken pipe", "use of closed network connection", "connection closed"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// LostError is a build whose builder went away and that could not be re-run elsewhere.
type LostError struct {
	Builder string
	// Why the build was not re-run: a required builder, no other candidate, re-runs used up.
	Reason string
	Err    error
}

func (e *LostError) Error() string {
	return "builder " + quote(e.Builder) + " went away: " + e.Err.Error() + "; " + e.Reason
}
func (e *LostError) Unwrap() error { return e.Err }

func quote(s string) string { return `"` + s + `"` }
