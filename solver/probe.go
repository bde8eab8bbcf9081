package solver

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/containerd/containerd/v2/plugins/content/local"
	"github.com/containerd/platforms"
	"github.com/distribution/reference"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/session"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/archc-dev/archc/compiler"
	"github.com/archc-dev/archc/registry"
	"github.com/archc-dev/archc/spec"
)

// This file holds what `archc doctor` asks of one builder node before a run: can it read a
// pinned base through archc's session store, run a step on a platform, and write to the
// registries the run writes to. Each probe builds its tiny definition and solves it through
// the same pieces apply uses (WithBaseStore, Bases.solveOpt, exports), so a probe fails
// only where apply would.

// ProbeRepo is the repository, under a push target's or cache ref's own, that write probes
// push to. Images go by digest only (no tag), so nothing anyone pulls by name changes.
const ProbeRepo = "archc-doctor-probe"

// ErrNotRunning is ConnectLocal's answer for a local builder that is not running.
var ErrNotRunning = errors.New("not running")

// ConnectLocal connects to the running local builder name without starting it: doctor
// observes, it never starts or restarts a daemon.
func ConnectLocal(ctx context.Context, name string, timeout time.Duration) (*Builder, error) {
	dir, err := StateDirFor(name)
	if err != nil {
		return nil, err
	}
	if runningPID(dir) == 0 {
		return nil, ErrNotRunning
	}
	return connectLocal(ctx, name, dir, timeout)
}

// ProbeStep names the step of a probe that failed.
type ProbeStep string

// The steps of the probes.
const (
	StepRead  ProbeStep = "read the base"         // FROM base + a file: the layers through the session store
	StepRun   ProbeStep = "run a step"            // /bin/sh -c true in the base, on the platform
	StepWrite ProbeStep = "write to the registry" // push by digest, or a cache export
)

// ProbeError is a probe that failed, and at which step.
type ProbeError struct {
	Step ProbeStep
	Err  error
}

func (e *ProbeError) Error() string { return string(e.Step) + ": " + e.Err.Error() }
func (e *ProbeError) Unwrap() error { return e.Err }

// BaseProbe is what ProbeBase found.
type BaseProbe struct {
	// Ran is set when /bin/sh -c true ran on the platform; NoShell when the base has no
	// /bin/sh, so no step could be run (the base was still read).
	Ran, NoShell bool
}

// ProbeBase solves on b, for platform, FROM base (a platform manifest in cache, read
// through the session's OCI store under the source policy, as apply reads every base)
// plus one file, then runs /bin/sh -c true in it: an emulator that is registered but
// broken fails there with "exec format error". A base without /bin/sh is read, not run.
func ProbeBase(ctx context.Context, b *Builder, cache *registry.Cache, base registry.BaseContent, platform string) (BaseProbe, error) {
	var res BaseProbe
	store, err := local.NewStore(cache.Dir())
	if err != nil {
		return res, fmt.Errorf("content cache as an OCI store: %w", err)
	}
	bases := &Bases{store: store, Content: []registry.BaseContent{base}}
	if _, err := platforms.Parse(platform); err != nil {
		return res, fmt.Errorf("platform %q: %w", platform, err)
	}
	p := llb.Platform(mustPlatform(platform))
	read := llb.Image(base.Ref+"@"+base.Manifest.String(), p).
		File(llb.Mkfile("/.archc-doctor-probe", 0o644, []byte("archc doctor\n"), llb.WithCreatedTime(time.Unix(0, 0))))
	run := read.Run(llb.Args([]string{"/bin/sh", "-c", "true"}), llb.Network(llb.NetModeNone)).Root()
	var defs [2]*llb.Definition
	for i, st := range []llb.State{read, run} {
		def, err := st.Marshal(ctx, p)
		if err != nil {
			return res, fmt.Errorf("probe definition: %w", err)
		}
		if defs[i], err = compiler.WithBaseStore(def, BaseStoreID); err != nil {
			return res, fmt.Errorf("probe definition: %w", err)
		}
	}
	step := StepRead
	build := func(ctx context.Context, c gateway.Client) (*gateway.Result, error) {
		if _, err := c.Solve(ctx, gateway.SolveRequest{Definition: defs[0].ToPB(), Evaluate: true}); err != nil {
			return nil, err
		}
		step = StepRun
		if _, err := c.Solve(ctx, gateway.SolveRequest{Definition: defs[1].ToPB(), Evaluate: true}); err != nil {
			return nil, err
		}
		return gateway.NewResult(), nil
	}
	opt := bases.solveOpt(client.SolveOpt{FrontendAttrs: map[string]string{"platform": platform}})
	_, err = b.Client.Build(ctx, opt, "archc-doctor", build, nil)
	switch {
	case err == nil:
		res.Ran = true
		return res, nil
	case step == StepRun && noShell(err):
		res.NoShell = true
		return res, nil
	}
	return res, &ProbeError{Step: step, Err: err}
}

// noShell reports whether a step failed because the base has no /bin/sh (rather than
// because the platform cannot run it).
func noShell(err error) bool {
	msg := err.Error()
	return !strings.Contains(msg, "exec format error") &&
		(strings.Contains(msg, "no such file or directory") || strings.Contains(msg, "executable file not found"))
}

// mustPlatform parses a platform the spec already validated.
func mustPlatform(p string) ocispecs.Platform {
	sp, err := platforms.Parse(p)
	if err != nil {
		return ocispecs.Platform{}
	}
	return platforms.Normalize(sp)
}

// WriteTarget is one registry host a run writes to, and the entry apply writes there
// with, redirected to ProbeRepo.
type WriteTarget struct {
	// Host is the registry host ("127.0.0.1:5000").
	Host string
	// Kind is "push" (a registry output's tags) or "cache" (a registry cache_to).
	Kind string
	// Component is the first component that writes there; Ref what it writes ("host/app:v1").
	Component, Ref string
	// Probe is where the probe writes: the repository of Ref plus ProbeRepo.
	Probe string

	export *client.ExportEntry
}

// WriteTargets lists the registry hosts jobs write to, once per host and kind: their
// registry outputs' tags (with the exporter attributes apply sets, registry.insecure
// included) and their registry cache exports' refs. Each is tested by pushing a one-file
// image by digest (no tag) to the ref's repository plus ProbeRepo, with the insecure
// setting apply's entry carries.
func WriteTargets(s *spec.Spec, jobs []*Job) ([]WriteTarget, error) {
	var out []WriteTarget
	seen := map[string]bool{}
	add := func(t WriteTarget) {
		if key := t.Kind + " " + t.Host; !seen[key] {
			seen[key] = true
			out = append(out, t)
		}
	}
	for _, j := range jobs {
		if j.Output == spec.OutputRegistry {
			for _, tag := range j.Tags {
				t, err := pushTarget(s, j, tag)
				if err != nil {
					return nil, err
				}
				add(t)
			}
		}
		for _, ce := range j.CacheExports {
			if ce.Type != "registry" || ce.Attrs["ref"] == "" {
				continue
			}
			t, err := cacheTarget(j, ce)
			if err != nil {
				return nil, err
			}
			add(t)
		}
	}
	return out, nil
}

func pushTarget(s *spec.Spec, j *Job, tag string) (WriteTarget, error) {
	host, probe, err := probeName(tag)
	if err != nil {
		return WriteTarget{}, fmt.Errorf("component %s: tag %q: %w", j.Component, tag, err)
	}
	insecure, err := insecureRegistry(probe, s)
	if err != nil {
		return WriteTarget{}, err
	}
	ex, err := exports(&Job{Component: j.Component, Output: spec.OutputRegistry, Tags: []string{probe}, Insecure: insecure})
	if err != nil {
		return WriteTarget{}, err
	}
	e := ex[0]
	e.Attrs["push-by-digest"] = "true"
	e.Attrs["source-date-epoch"] = "0" // the same probe image every time: nothing piles up
	return WriteTarget{Host: host, Kind: "push", Component: j.Component, Ref: tag, Probe: probe, export: &e}, nil
}

// cacheTarget tests a registry cache export's host by pushing an image by digest there,
// with the entry's own registry.insecure (apply passes the entry as the spec wrote it):
// BuildKit reaches the host for a cache export with the same per-host settings (the
// node's buildkitd.toml, or plain HTTP and no verification with registry.insecure). A
// real cache export is not used: BuildKit sends only layers that already exist as blobs,
// and a probe with nothing else to export writes an empty cache without an error.
func cacheTarget(j *Job, ce client.CacheOptionsEntry) (WriteTarget, error) {
	ref := ce.Attrs["ref"]
	host, probe, err := probeName(ref)
	if err != nil {
		return WriteTarget{}, fmt.Errorf("component %s: cache ref %q: %w", j.Component, ref, err)
	}
	ex, err := exports(&Job{Component: j.Component, Output: spec.OutputRegistry, Tags: []string{probe}, Insecure: ce.Attrs["registry.insecure"] == "true"})
	if err != nil {
		return WriteTarget{}, err
	}
	e := ex[0]
	e.Attrs["push-by-digest"] = "true"
	e.Attrs["source-date-epoch"] = "0"
	return WriteTarget{Host: host, Kind: "cache", Component: j.Component, Ref: ref, Probe: probe, export: &e}, nil
}

// probeName is ref's registry host and its repository with ProbeRepo appended, no tag.
func probeName(ref string) (host, probe string, err error) {
	n, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return "", "", err
	}
	host = reference.Domain(n)
	return host, host + "/" + path.Join(reference.Path(n), ProbeRepo), nil
}

// ProbeWrite has b build a one-file image from scratch and push it by digest as t says,
// with attach in the session (apply's registry auth), and returns the pushed digest.
func ProbeWrite(ctx context.Context, b *Builder, t WriteTarget, attach []session.Attachable) (string, error) {
	// The content names the builder and the target: two probes of one run never upload the
	// same blob at once (a registry may refuse one of them), and each pushes the same
	// digest on every run.
	content := fmt.Sprintf("archc doctor write probe\n%s %s %s\n", b.Name, t.Kind, t.Host)
	st := llb.Scratch().File(llb.Mkfile("/archc-doctor-probe", 0o644, []byte(content), llb.WithCreatedTime(time.Unix(0, 0))))
	def, err := st.Marshal(ctx)
	if err != nil {
		return "", fmt.Errorf("probe definition: %w", err)
	}
	opt := client.SolveOpt{Session: attach, Exports: []client.ExportEntry{*t.export}}
	build := func(ctx context.Context, c gateway.Client) (*gateway.Result, error) {
		r, err := c.Solve(ctx, gateway.SolveRequest{Definition: def.ToPB(), Evaluate: true})
		if err != nil {
			return nil, err
		}
		return r, nil
	}
	resp, err := b.Client.Build(ctx, opt, "archc-doctor", build, nil)
	if err != nil {
		return "", &ProbeError{Step: StepWrite, Err: err}
	}
	return resp.ExporterResponse[exptypes.ExporterImageDigestKey], nil
}
