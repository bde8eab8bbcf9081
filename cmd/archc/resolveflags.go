package main

import (
	"time"

	"github.com/archc-dev/archc/registry"
	"github.com/archc-dev/archc/spec"
)

// resolveFlags are the flags of every command that may resolve base images (lock, plan,
// apply): one definition, so they mean the same everywhere.
type resolveFlags struct {
	Timeout        time.Duration `default:"30s" help:"Give up on an image after this long, retries included."`
	AttemptTimeout time.Duration `name:"attempt-timeout" default:"10s" help:"Give up on one host (mirror or registry) after this long and try the next."`
	CacheDir       string        `name:"cache-dir" type:"path" placeholder:"DIR" help:"Registry content cache (default $XDG_CACHE_HOME/archc)."`
	BuildPlatform  string        `name:"build-platform" placeholder:"OS/ARCH" help:"Platform $BUILDPLATFORM stands for (default: this machine's)."`
}

// resolver opens the content cache and a resolver for s with these flags' deadlines and the
// user's Docker credentials; extra options (apply's dead mirrors) come last.
func (f *resolveFlags) resolver(s *spec.Spec, extra ...registry.Option) (*registry.Cache, *registry.Resolver, error) {
	cache, err := registry.OpenCache(f.CacheDir)
	if err != nil {
		return nil, nil, err
	}
	opts := append([]registry.Option{
		registry.WithTimeout(f.Timeout), registry.WithAttemptTimeout(f.AttemptTimeout),
		registry.WithCredentials(registry.DockerCredentials()),
	}, extra...)
	res, err := registry.NewResolver(s, cache, opts...)
	if err != nil {
		return nil, nil, err
	}
	return cache, res, nil
}
