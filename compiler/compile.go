package compiler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/archc-dev/archc/spec"
	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerui"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"
)

// Compile lowers every component × platform of s to LLB, with base images pinned through
// images. Builds compile concurrently; a build waits for the builds it uses as named
// contexts. The returned Plan is sorted and deterministic for identical inputs.
func Compile(ctx context.Context, s *spec.Spec, images Images, opts ...Option) (*Plan, error) {
	return compileWith(ctx, s, images, nil, opts...)
}

// compileWith is Compile with compiled builds read from and written to cc (nil: none).
func compileWith(ctx context.Context, s *spec.Spec, images Images, cc *compileCache, opts ...Option) (*Plan, error) {
	o, err := makeOptions(opts)
	if err != nil {
		return nil, err
	}
	sd, err := SpecDigest(s)
	if err != nil {
		return nil, err
	}
	c := &compilation{
		spec:    s,
		images:  images,
		opt:     o,
		locals:  newLocalContexts(s.Dir, cc.contextIndex(s)),
		cache:   newCacheRun(cc, s),
		results: map[string]*result{},
		warn:    &warnings{},

		dockerfiles: &fileOnce{},
	}
	type job struct {
		comp     *spec.Component
		platform ocispecs.Platform
		id       string
	}
	var jobs []job
	for i := range s.Components {
		comp := &s.Components[i]
		for _, ps := range comp.Platforms {
			p, err := platforms.Parse(ps)
			if err != nil {
				return nil, fmt.Errorf("component %s: platform %q: %w", comp.Name, ps, err)
			}
			p = platforms.Normalize(p)
			id := buildID(comp.Name, p)
			if _, dup := c.results[id]; dup {
				continue
			}
			c.results[id] = &result{done: make(chan struct{})}
			jobs = append(jobs, job{comp: comp, platform: p, id: id})
		}
	}
	defer paceCompile(len(jobs) - cc.entries())()
	// Every build is compiled even when one fails, so that all components' problems are
	// reported at once (compileErrors).
	var eg errgroup.Group
	sem := make(chan struct{}, o.parallel)
	errs := make([]error, len(jobs))
	for i, j := range jobs {
		eg.Go(func() error {
			r := c.results[j.id]
			defer close(r.done)
			b, err := c.compileBuild(ctx, j.comp, j.platform, sem)
			if err != nil {
				errs[i] = fmt.Errorf("compile %s: %w", j.id, err)
				return nil
			}
			r.build, r.dep = b, &depState{def: b.Definition}
			return nil
		})
	}
	_ = eg.Wait()
	if err := compileErrors(errs); err != nil {
		return nil, err
	}
	cc.finish()
	plan := &Plan{
		BuildPlatform: platforms.Format(o.buildPlatform),
		SpecDigest:    sd,
		Proxy:         redactProxy(s.Proxy),
	}
	for _, j := range jobs {
		plan.Builds = append(plan.Builds, *c.results[j.id].build)
	}
	sort.Slice(plan.Builds, func(i, k int) bool { return plan.Builds[i].ID < plan.Builds[k].ID })
	plan.Warnings = MergeWarnings(c.warn.sorted())
	return plan, nil
}

// buildID is "COMPONENT/OS/ARCH[/VARIANT]".
func buildID(component string, p ocispecs.Platform) string {
	return component + "/" + platforms.Format(p)
}

// compilation is the shared state of one Compile call.
type compilation struct {
	spec    *spec.Spec
	images  Images
	opt     options
	locals  *localContexts
	results map[string]*result // by build ID; the map itself is read-only once built
	// dockerfiles are the Dockerfiles read so far: each is read once, whichever of its
	// component's platforms compiles first.
	dockerfiles *fileOnce

	// cache is the compile cache for this compile (nil: none); see lowerCached.
	cache *cacheRun
	warn  *warnings
}

// result is one build's outcome, published when done is closed.
type result struct {
	done  chan struct{}
	build *Build
	// dep is the build's result as a named context of the builds that use it.
	dep *depState
	// digest is the build's resultDigest when the compile cache is on: the key of every
	// build that uses this one as a named context holds it.
	digest digest.Digest
}

func (c *compilation) warnf(format string, a ...any) {
	c.warn.add(fmt.Sprintf(format, a...))
}

// await returns the finished build id, or an error when it failed or ctx ended.
func (c *compilation) await(ctx context.Context, id string) (*result, error) {
	r, ok := c.results[id]
	if !ok {
		return nil, fmt.Errorf("%s is not part of this plan", id)
	}
	select {
	case <-r.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if r.build == nil {
		return nil, fmt.Errorf("%s: %w", id, errDependencyFailed)
	}
	return r, nil
}

// compileBuild compiles one component for one platform. sem bounds the CPU-heavy part; it
// is taken only after every dependency is done, so waiting never holds a slot.
func (c *compilation) compileBuild(ctx context.Context, comp *spec.Component, p ocispecs.Platform, sem chan struct{}) (*Build, error) {
	b := &Build{
		ID:         buildID(comp.Name, p),
		Component:  comp.Name,
		Platform:   platforms.Format(p),
		Dockerfile: relPath(c.spec.Dir, comp.Dockerfile),
		Target:     comp.Target,
		Args:       c.buildArgs(comp, platforms.Format(p)),
		Labels:     cloneMap(comp.Labels),
		Outputs:    outputs(c.spec.Dir, comp),
		CacheFrom:  cacheEntries(c.spec, comp.CacheFrom, false),
		CacheTo:    cacheEntries(c.spec, comp.CacheTo, true),
		Builders:   c.spec.CandidatesFor(comp, platforms.Format(p)),
		Secrets:    secretSources(c.spec, comp),
		SSH:        sortedIDs(comp.SSH),
	}
	b.SourceDateEpoch = c.sourceDateEpoch(comp, b.Args)
	named, imageCtx, err := c.namedContexts(ctx, comp, p, b)
	if err != nil {
		return nil, err
	}
	select {
	case sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-sem }()

	dt, err := c.dockerfiles.read(comp.Dockerfile)
	if err != nil {
		return nil, fmt.Errorf("read Dockerfile: %w (check the component's dockerfile attribute)", err)
	}
	if w := SyntaxWarning(b.Dockerfile, dt, b.Args); w != "" {
		c.warnf("%s: %s", comp.Name, w)
	}
	main, err := c.locals.get(ctx, comp.Context, mainIgnoreFile(comp.Dockerfile))
	if err != nil {
		return nil, err
	}
	b.Contexts = append(b.Contexts, Context{Name: dockerui.DefaultLocalNameContext, Path: main.rel, LocalName: main.name, Digest: main.digest, Excludes: main.excludes, IgnoreFile: main.ignore})
	sort.Slice(b.Contexts, func(i, k int) bool { return b.Contexts[i].Name < b.Contexts[k].Name })

	return c.lowerCached(ctx, comp, p, dt, b, main, named, imageCtx)
}

// lower compiles b from the Dockerfile dt, its main context and named contexts, asking
// resolver for base images: the work the compile cache saves.
func (c *compilation) lower(ctx context.Context, comp *spec.Component, p ocispecs.Platform, dt []byte, b *Build, main localContext, named map[string]input, imageCtx map[string]string, resolver *metaResolver) (*Build, error) {
	res, err := c.convert(ctx, comp, p, dt, b, main.state(), named, imageCtx, resolver)
	if err != nil {
		return nil, err
	}
	def, err := res.State.Marshal(ctx)
	if err != nil {
		return nil, fmt.Errorf("marshal LLB: %w", err)
	}
	if len(def.Def) == 0 {
		// A final stage FROM scratch with only metadata: an image with no layers.
		if def, err = configOnlyDefinition(); err != nil {
			return nil, fmt.Errorf("encode config-only definition: %w", err)
		}
	}
	ops, err := decodeOps(def)
	if err != nil {
		return nil, err
	}
	if err := checkMounts(c.spec, b, ops); err != nil {
		return nil, err
	}
	if b.Entitlements, err = checkEntitlements(comp, b.Dockerfile, ops); err != nil {
		return nil, err
	}
	if b.SourceDateEpoch != "" {
		b.Unreproducible = reproIssues(ops)
		for _, issue := range b.Unreproducible {
			c.warnf("%s: not reproducible: %s", comp.Name, issue)
		}
	}
	stampCreated(res)
	b.Definition = def
	b.NamedContexts = usedNamedContexts(c.spec.Dir, comp, named, b.Contexts, ops)
	b.LLBDigest = digest.FromBytes(def.Def[len(def.Def)-1])
	b.Ops = len(def.Def) - 1
	if err := c.attest(ctx, comp, b, resolver); err != nil {
		return nil, err
	}
	b.Bases = resolver.list()
	if b.ImageConfig, err = json.Marshal(res.Image); err != nil {
		return nil, fmt.Errorf("encode image config: %w", err)
	}
	b.ConfigDigest = digest.FromBytes(b.ImageConfig)
	return b, nil
}

// convert runs buildkit's Dockerfile frontend for one target platform, with archc's main
// context and named contexts served through the offline gateway.
func (c *compilation) convert(ctx context.Context, comp *spec.Component, p ocispecs.Platform, dt []byte, b *Build, main llb.State, named map[string]input, imageCtx map[string]string, resolver *metaResolver) (*dockerfile2llb.Result, error) {
	gw, err := newOfflineGateway(main, named, imageCtx, resolver)
	if err != nil {
		return nil, err
	}
	run, err := runSettings(comp, b, gw.opts)
	if err != nil {
		return nil, err
	}
	client, err := dockerui.NewClient(gw)
	if err != nil {
		return nil, fmt.Errorf("set up the Dockerfile frontend: %w", err)
	}
	caps := LLBCaps
	res, err := dockerfile2llb.Dockerfile2LLB(ctx, dt, dockerfile2llb.ConvertOpt{
		Config: dockerui.Config{
			BuildArgs:      withEpoch(b.Args, b.SourceDateEpoch),
			Labels:         cloneMap(comp.Labels),
			Target:         comp.Target,
			BuildPlatforms: []ocispecs.Platform{c.opt.buildPlatform},
			ExtraHosts:     run.ExtraHosts,
			NetworkMode:    run.NetworkMode,
			ShmSize:        run.ShmSize,
			Ulimits:        run.Ulimits,
		},
		Client:         client,
		TargetPlatform: &p,
		// Source locations ride in Definition.Source, outside the ops: llb_digest is
		// unchanged, and a failed step's error names the Dockerfile line (buildkit maps the
		// vertex back through them). The name is relative: no absolute path in the plan.
		SourceMap:    llb.NewSourceMap(nil, b.Dockerfile, "Dockerfile", dt),
		MetaResolver: resolver,
		LLBCaps:      &caps,
		Warn: func(rule, _, _, msg string, loc []parser.Range) {
			line := 0
			if len(loc) > 0 {
				line = loc[0].Start.Line
			}
			c.warnf("%s: %s:%d: %s (%s)", comp.Name, b.Dockerfile, line, msg, rule)
		},
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dockerfileLocation(b.Dockerfile, err), unknownTarget(comp.Target, dt, err))
	}
	return res, nil
}

// namedContexts turns the component's contexts into dockerui inputs (other components'
// results for the same platform, local directories) and docker-image references, and
// records depends_on and local contexts on b.
func (c *compilation) namedContexts(ctx context.Context, comp *spec.Component, p ocispecs.Platform, b *Build) (map[string]input, map[string]string, error) {
	named := map[string]input{}
	images := map[string]string{}
	deps := map[string]struct{}{}
	for _, nc := range comp.Contexts {
		switch {
		case nc.Component != "":
			id := buildID(nc.Component, p)
			if _, ok := c.results[id]; !ok {
				return nil, nil, fmt.Errorf("context %q: component %s is not built for %s (add the platform to it)", nc.Name, nc.Component, platforms.Format(p))
			}
			r, err := c.await(ctx, id)
			if err != nil {
				return nil, nil, fmt.Errorf("context %q: %w", nc.Name, err)
			}
			named[nc.Name] = input{dep: r.dep, config: r.build.ImageConfig}
			deps[id] = struct{}{}
		case nc.Path != "":
			lc, err := c.locals.get(ctx, nc.Path, "")
			if err != nil {
				return nil, nil, fmt.Errorf("context %q: %w", nc.Name, err)
			}
			named[nc.Name] = input{state: lc.state()}
			b.Contexts = append(b.Contexts, Context{Name: nc.Name, Path: lc.rel, LocalName: lc.name, Digest: lc.digest, Excludes: lc.excludes, IgnoreFile: lc.ignore})
		case nc.Image != "":
			images[nc.Name] = nc.Image
		}
	}
	for _, name := range comp.DependsOn {
		if id := buildID(name, p); c.results[id] != nil {
			if _, err := c.await(ctx, id); err != nil {
				return nil, nil, fmt.Errorf("depends on %s: %w", name, err)
			}
			deps[id] = struct{}{}
		}
	}
	for id := range deps {
		b.DependsOn = append(b.DependsOn, id)
	}
	sort.Strings(b.DependsOn)
	return named, images, nil
}

// buildArgs are the component's args for one target platform (ArgsFor: per-platform args),
// without the predefined proxy args: dockerfile2llb would turn those into ProxyEnv inside
// the compiled definition — credentials in the plan file and a proxy in the build's
// identity. The spec's proxy block is the way to set them.
func (c *compilation) buildArgs(comp *spec.Component, platform string) map[string]string {
	args := cloneMap(comp.ArgsFor(platform))
	for k := range args {
		switch strings.ToLower(k) {
		case "http_proxy", "https_proxy", "ftp_proxy", "no_proxy", "all_proxy":
			delete(args, k)
			c.warnf("%s: build arg %s ignored: set proxies in the spec's proxy block (they reach RUN steps without entering the build's identity)", comp.Name, k)
		}
	}
	return args
}

// outputs lists what apply does with comp's result, paths relative to the spec directory.
func outputs(dir string, comp *spec.Component) []Output {
	switch comp.Output {
	case spec.OutputRegistry:
		tags := append([]string(nil), comp.Tags...)
		sort.Strings(tags)
		out := make([]Output, 0, len(tags))
		for _, t := range tags {
			out = append(out, Output{Type: comp.Output, Name: t})
		}
		return out
	case spec.OutputOCI, spec.OutputLocal:
		return []Output{{Type: comp.Output, Path: relPath(dir, comp.OutputPath)}}
	case spec.OutputDocker:
		// One per tag, as registry outputs (each names the loaded image), each with the
		// tarball's path ("" when only a Docker engine gets the image).
		path := ""
		if comp.OutputPath != "" {
			path = relPath(dir, comp.OutputPath)
		}
		tags := slices.Sorted(slices.Values(comp.Tags))
		out := make([]Output, 0, len(tags))
		for _, t := range tags {
			out = append(out, Output{Type: comp.Output, Name: t, Path: path})
		}
		return out
	case "":
		return []Output{{Type: spec.OutputCacheOnly}}
	default:
		return []Output{{Type: comp.Output}}
	}
}

// cacheEntries are a component's cache entries as the plan records them (local directories
// relative to the spec's), nil for none.
func cacheEntries(s *spec.Spec, entries []string, export bool) []string {
	if len(entries) == 0 {
		return nil
	}
	return s.RelCacheEntries(entries, export)
}

func cloneMap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// dockerfileLocation is "path:line" when err carries a Dockerfile location, else path.
func dockerfileLocation(path string, err error) string {
	var le *parser.LocationError
	if errors.As(err, &le) && len(le.Locations) > 0 && len(le.Locations[0]) > 0 {
		return fmt.Sprintf("%s:%d", path, le.Locations[0][0].Start.Line)
	}
	return path
}
