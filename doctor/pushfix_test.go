package doctor

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestAuthStatus: a 401 or 403 counts only as a status, never inside a blob digest (a
// digest holding "403" once made a plain-HTTP push failure read as refused credentials).
func TestAuthStatus(t *testing.T) {
	t.Parallel()
	for cause, want := range map[string]bool{
		"unexpected status from HEAD request to http://h/v2/a/blobs/sha256:1d6c16040331d9b7: 400 Bad Request": false,
		"unexpected status from PUT request to https://h/v2/a/manifests/x: 401 Unauthorized":                  true,
		"403 Forbidden":   true,
		"status 403":      true,
		"sha256:ab403cd0": false,
	} {
		assert.Equal(t, want, authStatus.MatchString(cause), cause)
	}
}
