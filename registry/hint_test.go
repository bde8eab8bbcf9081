package registry

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
)

// errAndHint is the error as the CLI prints it: the message, then the hint it carries.
func errAndHint(err error) string {
	var h interface{ Hint() string }
	if errors.As(err, &h) && h.Hint() != "" {
		return err.Error() + "\nhint: " + h.Hint()
	}
	return err.Error()
}

// Hints are data: a ResolveError's message says what failed, Hint what to do.
func TestResolveErrorHintIsApart(t *testing.T) {
	t.Parallel()
	e := &ResolveError{Ref: "docker.io/library/a:1", Hosts: []*HostError{{Host: "registry-1.docker.io", Class: ClassNotFound, Err: errors.New("not found")}}}
	e.hint = hintFor(e.Ref, e.Hosts)
	assert.NotContains(t, e.Error(), "hint")
	assert.NotContains(t, e.Hint(), "--", "a library hint names no flag")
	assert.Contains(t, e.Hint(), "check the image name and tag")
	assert.True(t, e.TagMissing())
	e.Hosts = append(e.Hosts, &HostError{Host: "mirror.test", Mirror: true, Class: ClassTimeout, Err: errors.New("timeout")})
	assert.False(t, e.TagMissing())
}
