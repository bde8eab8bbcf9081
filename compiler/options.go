package compiler

import (
	"fmt"
	"runtime"

	"github.com/containerd/platforms"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Option configures Compile.
type Option func(*options) error

type options struct {
	buildPlatform ocispecs.Platform
	parallel      int
}

// WithBuildPlatform sets the platform $BUILDPLATFORM stages run on. Default: the host's
// platform (containerd/platforms.DefaultSpec, normalized).
func WithBuildPlatform(p string) Option {
	return func(o *options) error {
		if p == "" {
			return nil
		}
		pp, err := platforms.Parse(p)
		if err != nil {
			return fmt.Errorf("build platform %q: %w", p, err)
		}
		o.buildPlatform = platforms.Normalize(pp)
		return nil
	}
}

func makeOptions(opts []Option) (options, error) {
	o := options{
		buildPlatform: platforms.Normalize(platforms.DefaultSpec()),
		parallel:      runtime.GOMAXPROCS(0),
	}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return o, err
		}
	}
	return o, nil
}
