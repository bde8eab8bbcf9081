package solver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/archc-dev/archc/registry"
	"github.com/archc-dev/archc/spec"
)

// ConnectOptions control Connect.
type ConnectOptions struct {
	// Out receives one line per dead mirror and per daemon start or restart.
	Out io.Writer
	// AllowUnhealthyMirrors lets a remote builder be used although a mirror is dead.
	AllowUnhealthyMirrors bool
	// CheckTimeout bounds each mirror health check; registry.DefaultCheckTimeout when 0.
	CheckTimeout time.Duration
	// SkipMirrorCheck renders the spec's full config (builder up/status).
	SkipMirrorCheck bool
	// Binary is the buildkitd executable for local builders ("" finds it).
	Binary string
}

// LocalBuilders returns the spec's builder blocks archc manages (no address); a spec
// without builder blocks has one, DefaultLocalName.
func LocalBuilders(s *spec.Spec) []spec.Builder {
	if len(s.Builders) == 0 {
		return []spec.Builder{{Name: DefaultLocalName}}
	}
	var out []spec.Builder
	for _, b := range s.Builders {
		if b.Address == "" {
			out = append(out, b)
		}
	}
	return out
}

// LocalConfig is what a local builder runs with: buildkitd.toml and proxy environment.
func LocalConfig(s *spec.Spec, deadMirrors []string) (config []byte, env []string, err error) {
	reg, err := registry.RegistryConfig(s)
	if err != nil {
		return nil, nil, err
	}
	if len(deadMirrors) > 0 {
		reg = registry.WithoutMirrors(reg, deadMirrors)
	}
	config, err = RenderBuildkitdRegistries(reg, s.Proxy)
	if err != nil {
		return nil, nil, err
	}
	return config, DaemonProxyEnv(s.Proxy), nil
}

// SpecDigest is the ConfigDigest of the spec's full rendering: what a local builder's
// running config is compared with.
func SpecDigest(s *spec.Spec) (string, error) {
	config, env, err := LocalConfig(s, nil)
	if err != nil {
		return "", err
	}
	return ConfigDigest(config, env), nil
}

// Connect checks the spec's mirrors, then starts or reuses its local builders (with dead
// mirrors left out of this run's config) and connects its remote ones. A dead mirror with
// a remote builder is an error unless AllowUnhealthyMirrors: BuildKit hangs on a mirror
// that accepts connections and never answers, and archc cannot change a remote config.
func Connect(ctx context.Context, s *spec.Spec, o ConnectOptions) ([]*Builder, error) {
	if o.Out == nil {
		o.Out = io.Discard
	}
	var dead []string
	if !o.SkipMirrorCheck {
		var msgs []string
		dead, msgs = CheckMirrors(ctx, s, o.CheckTimeout)
		hasRemote := slices.ContainsFunc(s.Builders, func(b spec.Builder) bool { return b.Address != "" })
		if len(dead) > 0 && hasRemote && !o.AllowUnhealthyMirrors {
			return nil, fmt.Errorf("unhealthy mirrors:\n  %s\na remote builder keeps its own config and BuildKit hangs on a mirror that never answers; "+
				"fix or remove the mirror in the spec, or pass --allow-unhealthy-mirrors", strings.Join(msgs, "\n  "))
		}
		for _, m := range msgs {
			fmt.Fprintf(o.Out, "%s; leaving it out of this run's local builder config\n", m)
		}
	}
	var builders []*Builder
	closeAll := func() {
		for _, b := range builders {
			b.Close()
		}
	}
	for _, lb := range LocalBuilders(s) {
		config, env, err := LocalConfig(s, dead)
		if err != nil {
			closeAll()
			return nil, err
		}
		b, err := EnsureLocal(ctx, LocalOptions{Name: lb.Name, Config: config, Env: env, Binary: o.Binary, Out: o.Out})
		if err != nil {
			closeAll()
			return nil, err
		}
		b.Declared = lb.Platforms
		builders = append(builders, b)
	}
	for _, sb := range s.Builders {
		if sb.Address == "" {
			continue
		}
		b, err := ConnectRemote(ctx, sb, 0)
		if err != nil {
			closeAll()
			return nil, err
		}
		builders = append(builders, b)
	}
	return builders, nil
}

// CheckMirrors checks every mirror of the spec concurrently, each with its own deadline.
// It returns the dead ones (as written in the spec) and one message for each, naming the
// host and the cause.
func CheckMirrors(ctx context.Context, s *spec.Spec, timeout time.Duration) (dead, msgs []string) {
	var mirrors []string
	for _, r := range s.Registries {
		for _, m := range r.Mirrors {
			if !slices.Contains(mirrors, m) {
				mirrors = append(mirrors, m)
			}
		}
	}
	var opts []registry.Option
	if timeout > 0 {
		opts = append(opts, registry.WithAttemptTimeout(timeout))
	}
	errs := make([]error, len(mirrors))
	var wg sync.WaitGroup
	for i, m := range mirrors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = registry.CheckMirror(ctx, m, s, opts...)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err == nil {
			continue
		}
		dead = append(dead, mirrors[i])
		var he *registry.HostError
		if errors.As(err, &he) {
			msgs = append(msgs, "unhealthy "+he.Error())
			continue
		}
		msgs = append(msgs, fmt.Sprintf("unhealthy mirror %s: %v", registry.Redact(mirrors[i]), err))
	}
	return dead, msgs
}
