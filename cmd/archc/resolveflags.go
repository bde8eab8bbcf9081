package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/alecthomas/kong"
	"github.com/archc-dev/archc/registry"
	"github.com/archc-dev/archc/spec"
)

// resolveFlags are the flags of every command that may resolve base images (lock, plan,
// apply): one definition, so they mean the same everywhere.
type resolveFlags struct {
	Timeout        time.Duration `default:"30s" help:"Give up on an image after this long, retries included."`
	AttemptTimeout time.Duration `name:"attempt-timeout" default:"10s" help:"Give up on one host (mirror or registry) after this long and try the next."`
	Concurrency    int           `default:"16" help:"Resolve this many images at once."`
	CacheDir       string        `name:"cache-dir" type:"path" placeholder:"DIR" help:"Registry content cache (default $XDG_CACHE_HOME/archc)."`
	BuildPlatform  string        `name:"build-platform" placeholder:"OS/ARCH" help:"Platform $BUILDPLATFORM stands for (default: this machine's); archc lock pins each of the spec's build_platforms, and this one if given."`
	Verbose        bool          `short:"v" help:"Print each registry attempt, retry and skipped host to stderr."`

	stderr io.Writer // where --verbose writes: the command's stderr
}

// AfterApply is kong's hook: it gives the flags the command's stderr, so --verbose works in
// every command that embeds them without each passing its Globals along.
func (f *resolveFlags) AfterApply(kctx *kong.Context) error {
	f.stderr = kctx.Stderr
	return nil
}

// resolver opens the content cache and a resolver for s with these flags' deadlines and the
// user's Docker credentials; extra options (apply's dead mirrors) come last.
func (f *resolveFlags) resolver(s *spec.Spec, extra ...registry.Option) (*registry.Cache, *registry.Resolver, error) {
	cache, err := registry.OpenCache(f.CacheDir)
	if err != nil {
		return nil, nil, err
	}
	opts := []registry.Option{
		registry.WithTimeout(f.Timeout), registry.WithAttemptTimeout(f.AttemptTimeout),
		registry.WithConcurrency(f.Concurrency), registry.WithCredentials(registry.DockerCredentials()),
	}
	if f.Verbose && f.stderr != nil {
		w, mu := f.stderr, &sync.Mutex{}
		opts = append(opts, registry.WithLogf(func(format string, args ...any) {
			line := "archc: " + spec.SafeLine(registry.Redact(fmt.Sprintf(format, args...)))
			mu.Lock() // images resolve concurrently; each line is written whole
			defer mu.Unlock()
			fmt.Fprintln(w, line)
		}))
	}
	res, err := registry.NewResolver(s, cache, append(opts, extra...)...)
	if err != nil {
		return nil, nil, err
	}
	return cache, res, nil
}
