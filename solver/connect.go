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
	// Out receives one line per daemon start or restart.
	Out io.Writer
	// Mirrors is this run's mirror check; nil renders the spec's full config (builder up).
	Mirrors *MirrorCheck
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

// Connect starts or reuses the spec's local builders (with this run's dead mirrors left
// out of their config) and connects its remote ones.
func Connect(ctx context.Context, s *spec.Spec, o ConnectOptions) ([]*Builder, error) {
	if o.Out == nil {
		o.Out = io.Discard
	}
	var dead []string
	if o.Mirrors != nil {
		dead = o.Mirrors.Dead
	}
	var builders []*Builder
	closeAll := func() {
		for _, b := range builders {
			b.Close()
		}
	}
	config, env, err := LocalConfig(s, dead)
	if err != nil {
		return nil, err
	}
	builders, err = ensureLocals(LocalBuilders(s), func(lb spec.Builder) (*Builder, error) {
		b, err := EnsureLocal(ctx, LocalOptions{Name: lb.Name, Config: config, Env: env, Binary: o.Binary, Out: o.Out})
		if err != nil {
			return nil, err
		}
		b.Declared = lb.Platforms
		return b, nil
	})
	if err != nil {
		return nil, err
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

// ensureLocals calls ensure for each local builder in name order and returns the builders
// in lbs' order. The fixed order matters: each holds its builder's lock shared, so two
// runs taking two builders in opposite orders could each hold one and wait forever to
// restart the other. On failure it closes those already open.
func ensureLocals(lbs []spec.Builder, ensure func(spec.Builder) (*Builder, error)) ([]*Builder, error) {
	order := make([]int, len(lbs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return strings.Compare(lbs[a].Name, lbs[b].Name) })
	out := make([]*Builder, len(lbs))
	for _, i := range order {
		b, err := ensure(lbs[i])
		if err != nil {
			for _, o := range out {
				if o != nil {
					o.Close()
				}
			}
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

// MirrorCheck is what the health check before a run found.
type MirrorCheck struct {
	// Dead are the mirrors that failed, as written in the spec.
	Dead []string
	// Messages name each dead mirror's host and cause.
	Messages []string
}

// CheckSpecMirrors checks every mirror of the spec's registries concurrently, each with
// its own deadline (timeout; registry.DefaultCheckTimeout when 0), and says once on out
// which are skipped in this run. A dead mirror with a remote builder is an error unless
// allowUnhealthy: BuildKit hangs on a mirror that accepts connections and never answers,
// and archc cannot change a remote daemon's config.
func CheckSpecMirrors(ctx context.Context, s *spec.Spec, timeout time.Duration, allowUnhealthy bool, out io.Writer) (*MirrorCheck, error) {
	mc := &MirrorCheck{}
	mc.Dead, mc.Messages = checkMirrors(ctx, s, timeout)
	if len(mc.Dead) == 0 {
		return mc, nil
	}
	hasRemote := slices.ContainsFunc(s.Builders, func(b spec.Builder) bool { return b.Address != "" })
	if hasRemote && !allowUnhealthy {
		return nil, fmt.Errorf("unhealthy mirrors:\n  %s\na remote builder keeps its own config and BuildKit hangs on a mirror that never answers; "+
			"fix or remove the mirror in the spec, or pass --allow-unhealthy-mirrors", strings.Join(mc.Messages, "\n  "))
	}
	for _, m := range mc.Messages {
		if hasRemote {
			fmt.Fprintf(out, "%s; skipping it in archc's resolution and local builders (remote builders may still use it)\n", m)
			continue
		}
		fmt.Fprintf(out, "%s; skipping it in this run (archc's resolution and the local builder's config)\n", m)
	}
	return mc, nil
}

// WithoutMirrors returns a copy of s whose registries no longer list the given mirrors,
// so archc's own resolution does not wait on them either.
func WithoutMirrors(s *spec.Spec, dead []string) *spec.Spec {
	if len(dead) == 0 {
		return s
	}
	c := *s
	c.Registries = make([]spec.Registry, len(s.Registries))
	for i, r := range s.Registries {
		r.Mirrors = slices.DeleteFunc(slices.Clone(r.Mirrors), func(m string) bool { return slices.Contains(dead, m) })
		c.Registries[i] = r
	}
	return &c
}

// checkMirrors returns the dead mirrors and one message for each.
func checkMirrors(ctx context.Context, s *spec.Spec, timeout time.Duration) (dead, msgs []string) {
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
