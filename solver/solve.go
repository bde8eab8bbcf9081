package solver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/errdefs"
	"github.com/tonistiigi/fsutil"
	"golang.org/x/sync/errgroup"

	"github.com/archc-dev/archc/compiler"
	"github.com/archc-dev/archc/spec"
)

// buildFunc is the gateway callback: one Solve per platform, refs keyed by platform, the
// compiler's image config per platform and the refs.platforms metadata, as buildkit's
// dockerui does, so the exporter writes one index whose manifests carry ENTRYPOINT, ENV...
func buildFunc(builds []PlatformBuild) gateway.BuildFunc { return buildFuncAs(builds, false) }

// buildFuncAs is buildFunc; asIndex exports even one platform as an index (refs keyed by
// platform), which attestations and index annotations need (BuildKit's processors then
// also know the platform).
func buildFuncAs(builds []PlatformBuild, asIndex bool) gateway.BuildFunc {
	return func(ctx context.Context, c gateway.Client) (*gateway.Result, error) {
		res := gateway.NewResult()
		multi := len(builds) > 1 || asIndex
		exp := exptypes.Platforms{Platforms: make([]exptypes.Platform, len(builds))}
		var mu sync.Mutex
		eg, ctx := errgroup.WithContext(ctx)
		for i, b := range builds {
			eg.Go(func() error {
				ref, err := solveRef(ctx, c, b)
				if err != nil {
					return &PlatformError{Platform: b.Platform, Err: err}
				}
				p, err := platforms.Parse(b.Platform)
				if err != nil {
					return fmt.Errorf("parse platform %q: %w", b.Platform, err)
				}
				p = platforms.Normalize(p)
				id := platforms.FormatAll(p)
				mu.Lock()
				defer mu.Unlock()
				exp.Platforms[i] = exptypes.Platform{ID: id, Platform: p}
				if multi {
					res.AddRef(id, ref)
					if b.ImageConfig != nil {
						res.AddMeta(exptypes.ExporterImageConfigKey+"/"+id, b.ImageConfig)
					}
					return nil
				}
				res.SetRef(ref)
				if b.ImageConfig != nil {
					res.AddMeta(exptypes.ExporterImageConfigKey, b.ImageConfig)
				}
				return nil
			})
		}
		if err := eg.Wait(); err != nil {
			return nil, err
		}
		if multi {
			dt, err := json.Marshal(exp)
			if err != nil {
				return nil, err
			}
			res.AddMeta(exptypes.ExporterPlatformsKey, dt)
		}
		return res, nil
	}
}

// solveRef solves one platform's definition. A config-only build (a final stage FROM
// scratch with only metadata) is not sent: its ref is nil, as in BuildKit's own frontend,
// and the exporters write its image config with no layers.
func solveRef(ctx context.Context, c gateway.Client, b PlatformBuild) (gateway.Reference, error) {
	if compiler.ConfigOnly(b.Def) {
		return nil, nil
	}
	// client.Build hands SolveOpt.CacheImports to this callback as a frontend option; each
	// solve must pass them on, or nothing is imported.
	imports, err := gatewayCacheImports(c)
	if err != nil {
		return nil, err
	}
	r, err := c.Solve(ctx, gateway.SolveRequest{Definition: b.Def, Evaluate: true, CacheImports: imports})
	if err != nil {
		return nil, err
	}
	return r.SingleRef()
}

// PlatformError says which platform's solve failed.
type PlatformError struct {
	Platform string
	Err      error
}

func (e *PlatformError) Error() string { return e.Platform + ": " + e.Err.Error() }
func (e *PlatformError) Unwrap() error { return e.Err }

// exports turns a job's output into exporter entries, with its epoch (withEpoch).
func exports(job *Job) ([]client.ExportEntry, error) {
	ex, err := outputExports(job)
	if err != nil {
		return nil, err
	}
	epoch, err := jobEpoch(job)
	if err != nil {
		return nil, err
	}
	return withEpoch(epoch, ex), nil
}

// outputExports are the exporter entries of a job's output.
func outputExports(job *Job) ([]client.ExportEntry, error) {
	switch job.Output {
	case spec.OutputRegistry:
		if len(job.Tags) == 0 {
			return nil, fmt.Errorf("component %s: output registry needs tags", job.Component)
		}
		attrs := map[string]string{"name": strings.Join(job.Tags, ","), "push": "true"}
		if job.Insecure {
			attrs["registry.insecure"] = "true"
		}
		return []client.ExportEntry{{Type: client.ExporterImage, Attrs: attrs}}, nil
	case spec.OutputOCI:
		if job.OutputPath == "" {
			return nil, fmt.Errorf("component %s: output oci needs output_path", job.Component)
		}
		attrs := map[string]string{}
		if len(job.Tags) > 0 {
			attrs["name"] = strings.Join(job.Tags, ",")
		}
		path := job.OutputPath
		return []client.ExportEntry{{Type: client.ExporterOCI, Attrs: attrs, Output: func(map[string]string) (io.WriteCloser, error) {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return nil, err
			}
			return os.Create(path)
		}}}, nil
	case spec.OutputLocal:
		if job.OutputPath == "" {
			return nil, fmt.Errorf("component %s: output local needs output_path", job.Component)
		}
		return []client.ExportEntry{{Type: client.ExporterLocal, OutputDir: job.OutputPath}}, nil
	case spec.OutputDocker:
		engine, why := lookupDockerEngine()
		return dockerExports(job, engine, why)
	case spec.OutputCacheOnly, "":
		return nil, nil
	default:
		return nil, fmt.Errorf("component %s: unknown output %q", job.Component, job.Output)
	}
}

// localMounts opens the job's local directories for the filesync session.
func localMounts(job *Job) (map[string]fsutil.FS, error) {
	m := make(map[string]fsutil.FS, len(job.LocalDirs))
	for name, dir := range job.LocalDirs {
		fs, err := fsutil.NewFS(dir)
		if err != nil {
			return nil, fmt.Errorf("component %s: open context %s: %w", job.Component, dir, err)
		}
		m[name] = fs
	}
	return m, nil
}

// solveOn runs builds of the job on b in one client.Build with the job's exports and
// returns the exported digest.
func (r *jobRun) solveOn(ctx context.Context, b *Builder, builds []PlatformBuild) (string, error) {
	opt, err := r.solveOpt(b, builds, r.ex)
	if err != nil {
		return "", err
	}
	resp, err := b.Client.Build(ctx, opt, "archc", buildFuncAs(builds, r.opts.Bases.asIndex(r.job.Component)), r.t.follow(r.opts.Progress))
	if err != nil {
		return "", err
	}
	noteDocker(r.job, r.opts.Logf)
	return resp.ExporterResponse[exptypes.ExporterImageDigestKey], nil
}

// solveOpt is the options of one solve of builds of the job on b, grouped or split alike:
// exports ex, the local mounts, session, platforms, cache, entitlements, pinned bases and
// supply chain. ex is copied first: the supply chain writes annotations into the entries,
// and the job's are shared by its retries and re-runs.
func (r *jobRun) solveOpt(b *Builder, builds []PlatformBuild, ex []client.ExportEntry) (client.SolveOpt, error) {
	j, o := r.job, r.opts
	opt := o.Bases.solveOpt(client.SolveOpt{
		Exports:             cloneExports(ex),
		LocalMounts:         r.mounts,
		Session:             o.sessionFor(j),
		FrontendAttrs:       platformAttrs(builds),
		CacheImports:        cloneCacheEntries(j.CacheImports),
		CacheExports:        cloneCacheEntries(j.CacheExports),
		AllowedEntitlements: solveEntitlements(builds),
	})
	return o.Bases.withSupplyChain(j, builds, b, opt)
}

// cloneExports copies exporter entries and their attributes.
func cloneExports(ex []client.ExportEntry) []client.ExportEntry {
	if ex == nil {
		return nil
	}
	out := make([]client.ExportEntry, len(ex))
	for i, e := range ex {
		e.Attrs = maps.Clone(e.Attrs)
		out[i] = e
	}
	return out
}

// BuildError is a failed component: where it failed and the last lines of its log.
type BuildError struct {
	Component string
	Platform  string
	Builder   string
	// Step is the failing vertex's name ("[web linux/arm64] RUN make").
	Step string
	// Source is the Dockerfile excerpt with the failing line, when the definition has a
	// source map.
	Source string
	// Logs are the failing step's last output lines.
	Logs []string
	Err  error
}

func (e *BuildError) Unwrap() error { return e.Err }

func (e *BuildError) Error() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "component %s", e.Component)
	if e.Platform != "" {
		fmt.Fprintf(&sb, " (%s)", e.Platform)
	}
	fmt.Fprintf(&sb, " on builder %s failed", e.Builder)
	if e.Step != "" {
		fmt.Fprintf(&sb, " at %s", e.Step)
	}
	fmt.Fprintf(&sb, ": %v", e.Err)
	if e.Source != "" {
		fmt.Fprintf(&sb, "\n%s", strings.TrimRight(e.Source, "\n"))
	}
	if len(e.Logs) > 0 {
		fmt.Fprintf(&sb, "\nlast log lines:\n  %s", strings.Join(e.Logs, "\n  "))
	}
	return sb.String()
}

// buildError collects what is known about a failed solve.
func buildError(job *Job, b *Builder, t *tracker, err error) *BuildError {
	be := &BuildError{Component: job.Component, Builder: b.Name, Err: err}
	be.Step, be.Logs, be.Platform = t.failure()
	var pe *PlatformError
	if errors.As(err, &pe) {
		be.Platform = pe.Platform
	}
	be.Source = sourceExcerpt(err)
	if be.Source == "" && be.Step != "" {
		be.Source = locateStep(job.Dockerfile, be.Step)
	}
	return be
}

// sourceExcerpt is the Dockerfile excerpt ("base/Dockerfile:3" and the lines around it)
// that buildkit attached to err from the definition's source map, or "" when it has none
// (a definition compiled without one). The outermost location wins.
func sourceExcerpt(err error) string {
	srcs := errdefs.Sources(err)
	for i := len(srcs) - 1; i >= 0; i-- {
		var buf bytes.Buffer
		if srcs[i].Print(&buf) == nil && buf.Len() > 0 {
			return buf.String()
		}
	}
	return ""
}

// relName keeps error text free of absolute paths.
func relName(name string) string {
	if wd, err := os.Getwd(); err == nil {
		if r, err := filepath.Rel(wd, name); err == nil && !strings.HasPrefix(r, "..") {
			return r
		}
	}
	return name
}

// platformAttrs tells the exporter's platform check which platforms were asked for (it
// warns about a mismatch otherwise, and defaults to the daemon's own platform).
func platformAttrs(builds []PlatformBuild) map[string]string {
	ps := make([]string, len(builds))
	for i, b := range builds {
		ps[i] = b.Platform
	}
	return map[string]string{"platform": strings.Join(ps, ",")}
}
