package main

import (
	"bytes"
	"net/http"
	"regexp"
	"testing"

	"github.com/alecthomas/kong"
	"github.com/archc-dev/archc/internal/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every command that embeds resolveFlags gets --verbose's writer and --concurrency: a
// command with its own AfterApply would hide the flags' hook, and this test would fail.
func TestResolveFlagsWiredInEveryCommand(t *testing.T) {
	t.Parallel()
	var c cli
	var stderr bytes.Buffer
	parser, err := kong.New(&c, kong.Writers(&bytes.Buffer{}, &stderr), kong.Exit(func(int) { t.Fatal("kong exited") }))
	require.NoError(t, err)
	for name, flags := range map[string]*resolveFlags{"lock": &c.Lock.resolveFlags, "plan": &c.Plan.resolveFlags, "apply": &c.Apply.resolveFlags} {
		_, err := parser.Parse([]string{name, "-v", "--concurrency", "3"})
		require.NoError(t, err, name)
		assert.True(t, flags.Verbose, name)
		assert.Equal(t, 3, flags.Concurrency, name)
		assert.Same(t, &stderr, flags.stderr, name)
	}
}

// `archc lock -v` says what it is doing while it retries, instead of being silent.
func TestLockVerbose(t *testing.T) {
	t.Parallel()
	reg := testenv.StartRegistry(t)
	testenv.PushTiny(t, reg, "library/busybox", "1.36")
	testenv.PushTiny(t, reg, "library/alpine", "3.20")
	fp := testenv.StartFaultProxy(t, reg.URL)
	fp.Set(testenv.Status(http.StatusServiceUnavailable, nil).FirstK(1))
	specPath, cacheDir := lockProject(t, fp.URL)

	code, _, errs := runArchc(lockArgs(specPath, cacheDir, "--concurrency", "1", "-v")...)
	require.Equal(t, exitOK, code, errs)
	// The one 503 goes to whichever request is first: the request, not the image, is
	// retried, and the log says which.
	m := regexp.MustCompile(`archc: HEAD ` + regexp.QuoteMeta(fp.URL) + `/v2/library/\S+: HTTP 503 Service Unavailable; retrying in \d+ms\n`).FindStringSubmatch(errs)
	require.NotNil(t, m, "the 503 and its retry are reported:\n%s", errs)
	for _, want := range []string{
		"archc: docker.io/library/alpine:3.20: trying mirror " + fp.URL + "\n",
		"archc: docker.io/library/busybox:1.36: trying mirror " + fp.URL + "\n",
		"archc: docker.io/library/alpine:3.20: resolved to sha256:",
		"archc: docker.io/library/busybox:1.36: resolved to sha256:",
	} {
		assert.Contains(t, errs, want)
	}

	code, _, errs = runArchc(lockArgs(specPath, cacheDir)...)
	require.Equal(t, exitOK, code, errs)
	assert.NotContains(t, errs, "trying", "quiet without -v")
}
