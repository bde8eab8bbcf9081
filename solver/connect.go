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
	// Timeout bounds each remote builder's connection and worker listing (0: 5s).
	Timeout time.Duration
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
func LocalConfig(s *spec.Spec) (config []byte, env []string, err error) {
	reg, err := registry.RegistryConfig(s)
	if err != nil {
		return nil, nil, err
	}
	config, err = renderLocalBuildkitd(s, reg)
	if err != nil {
		return nil, nil, err
	}
	return config, DaemonProxyEnv(s.Proxy), nil
}

// DaemonConfigDigest is the ConfigDigest of LocalConfig: what a local builder's running
// config is compared with. (compiler.SpecDigest is the spec's identity in a plan.)
func DaemonConfigDigest(s *spec.Spec) (string, error) {
	config, env, err := LocalConfig(s)
	if err != nil {
		return "", err
	}
	return ConfigDigest(config, env), nil
}

// Connect starts or reuses the spec's local builders and connects its remote ones, all
// remote ones at once, each within o.Timeout. A local builder's config is the spec's,
// whatever this run's mirror check found: builders read bases from archc (Bases), never
// through a mirror, so a mirror that is down for a while is no reason to restart one.
//
// A remote builder that does not answer is not an error here: it is in down, with why,
// for Availability to decide whether the run can go ahead without it. A local builder
// that cannot be started is an error (archc manages it: something is wrong on this
// machine).
func Connect(ctx context.Context, s *spec.Spec, o ConnectOptions) (up []*Builder, down map[string]error, err error) {
	if o.Out == nil {
		o.Out = io.Discard
	}
	config, env, err := LocalConfig(s)
	if err != nil {
		return nil, nil, err
	}
	locals, err := ensureLocals(LocalBuilders(s), func(lb spec.Builder) (*Builder, error) {
		lo := LocalOptions{Name: lb.Name, Config: config, Env: env, Out: o.Out}
		if len(s.Files) > 0 {
			lo.Spec = s.Files[0] // named in the message when another spec restarts it
		}
		b, err := EnsureLocal(ctx, lo)
		if err != nil {
			return nil, err
		}
		b.Declared = lb.Platforms
		return b, nil
	})
	if err != nil {
		return nil, nil, err
	}
	remotes := make([]*Builder, len(s.Builders))
	errs := make([]error, len(s.Builders))
	var wg sync.WaitGroup
	for i, sb := range s.Builders {
		if sb.Address == "" {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			remotes[i], errs[i] = ConnectRemote(ctx, sb, o.Timeout)
		}()
	}
	wg.Wait()
	// Spec order (builders are sorted by name), locals first when there are no blocks.
	down = map[string]error{}
	li := 0
	for i, sb := range s.Builders {
		switch {
		case sb.Address == "":
			up = append(up, locals[li])
			li++
		case errs[i] != nil:
			down[sb.Name] = errs[i]
		default:
			up = append(up, remotes[i])
		}
	}
	if len(s.Builders) == 0 {
		up = locals
	}
	return up, down, nil
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
	// Dead maps each mirror that failed, as written in the spec, to its cause.
	Dead map[string]string
	// Messages name each dead mirror's host and cause.
	Messages []string
}

// CheckSpecMirrors checks every mirror of the spec's registries concurrently, each with
// its own deadline (timeout; registry.DefaultCheckTimeout when 0; transient answers are
// retried within it), and says once on out which are skipped in this run. Only archc's
// own resolution and downloads use mirrors (builders read bases from archc), so a dead
// mirror costs a builder nothing; archc still tries it when no other host is left, as for
// the only mirror of a mirrors_only registry.
func CheckSpecMirrors(ctx context.Context, s *spec.Spec, timeout time.Duration, out io.Writer) *MirrorCheck {
	mc := &MirrorCheck{}
	mc.Dead, mc.Messages = checkMirrors(ctx, s, timeout)
	for _, m := range mc.Messages {
		fmt.Fprintf(out, "%s; skipping it in this run unless no other host is left\n", spec.SafeLine(m))
	}
	return mc
}

// checkMirrors returns the dead mirrors and one message for each.
func checkMirrors(ctx context.Context, s *spec.Spec, timeout time.Duration) (dead map[string]string, msgs []string) {
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
	dead = map[string]string{}
	for i, err := range errs {
		if err == nil {
			continue
		}
		var he *registry.HostError
		if errors.As(err, &he) {
			dead[mirrors[i]] = "failed its health check: " + strings.TrimPrefix(he.Error(), "mirror "+he.Host+": ")
			msgs = append(msgs, "unhealthy "+he.Error())
			continue
		}
		dead[mirrors[i]] = "failed its health check"
		msgs = append(msgs, fmt.Sprintf("unhealthy mirror %s: %v", registry.Redact(mirrors[i]), err))
	}
	return dead, msgs
}
