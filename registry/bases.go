package registry

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/archc-dev/archc/spec"
	"github.com/containerd/platforms"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// ImageRequest is one base image reference and the platforms it is needed for.
type ImageRequest struct {
	// Ref is normalized ("docker.io/library/alpine:3.20").
	Ref string
	// Platforms are normalized and sorted.
	Platforms []string
	// Components are the names of the components that use Ref, sorted (for messages).
	Components []string
}

// DefaultBuildPlatform is the platform of the machine archc runs on ("linux/amd64"): what
// `FROM --platform=$BUILDPLATFORM` stages run on.
func DefaultBuildPlatform() string {
	return platforms.Format(platforms.Normalize(platforms.DefaultSpec()))
}

// BaseImages finds every base image of every component of s, deduplicated across
// components, sorted by Ref. buildPlatform is the platform `$BUILDPLATFORM` stands for
// ("" means DefaultBuildPlatform).
func BaseImages(s *spec.Spec, buildPlatform string) ([]ImageRequest, error) {
	byRef := map[string]*ImageRequest{}
	for i := range s.Components {
		reqs, err := ComponentBases(&s.Components[i], buildPlatform)
		if err != nil {
			return nil, err
		}
		for _, r := range reqs {
			mergeRequest(byRef, r)
		}
	}
	return sortedRequests(byRef), nil
}

// ComponentBases finds the base images of one component by parsing its Dockerfile with
// BuildKit's own parser: FROM of every stage reachable from the target, COPY --from and
// RUN --mount from= naming an image, and docker-image:// named contexts. ARGs in FROM are
// expanded with the component's args over the Dockerfile's defaults and the automatic
// platform args; stage names, `scratch` and named contexts are skipped. A stage with
// `--platform=$BUILDPLATFORM` needs only the build platform, others each target platform.
func ComponentBases(c *spec.Component, buildPlatform string) ([]ImageRequest, error) {
	if buildPlatform == "" {
		buildPlatform = DefaultBuildPlatform()
	}
	src, err := os.ReadFile(c.Dockerfile)
	if err != nil {
		return nil, fmt.Errorf("component %q: read Dockerfile: %w", c.Name, err)
	}
	return dockerfileBases(c, src, buildPlatform)
}

// dockerfileBases is ComponentBases for the Dockerfile's bytes src.
func dockerfileBases(c *spec.Component, src []byte, buildPlatform string) ([]ImageRequest, error) {
	ast, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		return nil, fmt.Errorf("component %q: %s: %w", c.Name, filepath.Base(c.Dockerfile), err)
	}
	stages, metaArgs, err := instructions.Parse(ast.AST, nil)
	if err != nil {
		return nil, fmt.Errorf("component %q: %s: %w", c.Name, filepath.Base(c.Dockerfile), err)
	}
	named := map[string]spec.NamedContext{}
	for _, nc := range c.Contexts {
		named[nc.Name] = nc
	}
	targets := c.Platforms
	if len(targets) == 0 {
		targets = []string{spec.DefaultPlatform}
	}
	byRef := map[string]*ImageRequest{}
	lex := shell.NewLex(ast.EscapeToken)
	for _, target := range targets {
		w := baseWalker{c: c, file: filepath.Base(c.Dockerfile), lex: lex, stages: stages, named: named, out: byRef}
		if err := w.walk(metaArgs, buildPlatform, target); err != nil {
			return nil, err
		}
	}
	for _, nc := range c.Contexts {
		if nc.Image == "" {
			continue
		}
		ref, err := NormalizeRef(nc.Image)
		if err != nil {
			return nil, fmt.Errorf("component %q: context %q: %w", c.Name, nc.Name, err)
		}
		mergeRequest(byRef, ImageRequest{Ref: ref, Platforms: targets, Components: []string{c.Name}})
	}
	return sortedRequests(byRef), nil
}

// baseWalker finds the images one target platform needs.
type baseWalker struct {
	c      *spec.Component
	file   string
	lex    *shell.Lex
	stages []instructions.Stage
	named  map[string]spec.NamedContext
	out    map[string]*ImageRequest
	env    shell.EnvGetter
	seen   map[int]bool
}

func (w *baseWalker) walk(metaArgs []instructions.ArgCommand, buildPlatform, target string) error {
	env, err := w.globalArgs(metaArgs, buildPlatform, target)
	if err != nil {
		return err
	}
	w.env, w.seen = env, map[int]bool{}
	if len(w.stages) == 0 {
		return fmt.Errorf("component %q: %s has no FROM", w.c.Name, w.file)
	}
	last := len(w.stages) - 1
	if w.c.Target != "" {
		last = w.stageIndex(w.c.Target, len(w.stages))
		if last < 0 {
			return fmt.Errorf("component %q: target stage %q not found in %s", w.c.Name, w.c.Target, w.file)
		}
	}
	return w.visit(last, target)
}

// globalArgs is what FROM lines may use: automatic platform args, then the Dockerfile's
// meta ARGs with the component's args overriding their defaults.
func (w *baseWalker) globalArgs(metaArgs []instructions.ArgCommand, buildPlatform, target string) (shell.EnvGetter, error) {
	vals := map[string]string{}
	var keys []string
	set := func(k, v string) {
		if _, ok := vals[k]; !ok {
			keys = append(keys, k)
		}
		vals[k] = v
	}
	for k, v := range platformArgs("BUILD", buildPlatform) {
		set(k, v)
	}
	for k, v := range platformArgs("TARGET", target) {
		set(k, v)
	}
	for _, cmd := range metaArgs {
		for _, kp := range cmd.Args {
			if v, ok := w.c.Args[kp.Key]; ok {
				set(kp.Key, v)
				continue
			}
			if kp.Value == nil {
				continue
			}
			res, err := w.lex.ProcessWordWithMatches(*kp.Value, envOf(keys, vals))
			if err != nil {
				return nil, fmt.Errorf("component %q: %s:%d: ARG %s: %w", w.c.Name, w.file, line(cmd.Location()), kp.Key, err)
			}
			set(kp.Key, res.Result)
		}
	}
	return envOf(keys, vals), nil
}

func line(r []parser.Range) int {
	if len(r) == 0 {
		return 0
	}
	return r[0].Start.Line
}

func platformArgs(prefix, p string) map[string]string {
	sp, err := platforms.Parse(p)
	if err != nil {
		return nil
	}
	sp = platforms.Normalize(sp)
	return map[string]string{
		prefix + "PLATFORM": platforms.Format(sp),
		prefix + "OS":       sp.OS,
		prefix + "ARCH":     sp.Architecture,
		prefix + "VARIANT":  sp.Variant,
	}
}

// stageIndex finds a stage by name or index among the first n stages, or -1.
func (w *baseWalker) stageIndex(name string, n int) int {
	for i := 0; i < n; i++ {
		if w.stages[i].Name != "" && strings.EqualFold(w.stages[i].Name, name) {
			return i
		}
	}
	if i, err := strconv.Atoi(name); err == nil && i >= 0 && i < n {
		return i
	}
	return -1
}

// visit records the images stage i needs on platform target, then visits the stages it uses.
func (w *baseWalker) visit(i int, target string) error {
	if w.seen[i] {
		return nil
	}
	w.seen[i] = true
	st := w.stages[i]
	if _, ok := w.named[st.Name]; ok && st.Name != "" {
		return nil // a named context replaces the whole stage
	}
	at := fmt.Sprintf("component %q: %s:%d", w.c.Name, w.file, line(st.Location))
	base, err := w.lex.ProcessWordWithMatches(st.BaseName, w.env)
	if err != nil {
		return fmt.Errorf("%s: FROM %s: %w", at, st.BaseName, err)
	}
	if base.Result == "" {
		return fmt.Errorf("%s: FROM %s expands to nothing (hint: set the ARG in the component's args)", at, st.BaseName)
	}
	plat := target
	if st.Platform != "" {
		pm, err := w.lex.ProcessWordWithMatches(st.Platform, w.env)
		if err != nil {
			return fmt.Errorf("%s: --platform=%s: %w", at, st.Platform, err)
		}
		p, err := platforms.Parse(pm.Result)
		if err != nil {
			return fmt.Errorf("%s: --platform=%s: %w", at, st.Platform, err)
		}
		plat = platforms.Format(platforms.Normalize(p))
	}
	if err := w.use(base.Result, plat, target, i, i, at); err != nil {
		return err
	}
	for _, cmd := range st.Commands {
		for _, from := range commandSources(cmd) {
			res, err := w.lex.ProcessWordWithMatches(from, w.env)
			if err != nil {
				return fmt.Errorf("%s: --from=%s: %w", at, from, err)
			}
			if err := w.use(res.Result, target, target, len(w.stages), i, at); err != nil {
				return err
			}
		}
	}
	return nil
}

// use records name as an image needed on plat, unless it is a named context (which
// replaces even a stage of that name), scratch, or a stage among the first limit other
// than self (visited instead, on the build's target platform).
func (w *baseWalker) use(name, plat, target string, limit, self int, at string) error {
	if _, ok := w.named[name]; ok {
		return nil // docker-image:// contexts are added by the caller; others are not images
	}
	if j := w.stageIndex(name, limit); j >= 0 && j != self {
		return w.visit(j, target)
	}
	if strings.EqualFold(name, "scratch") {
		return nil
	}
	ref, err := NormalizeRef(name)
	if err != nil {
		return fmt.Errorf("%s: %w", at, err)
	}
	mergeRequest(w.out, ImageRequest{Ref: ref, Platforms: []string{plat}, Components: []string{w.c.Name}})
	return nil
}

// commandSources returns the --from values of COPY and RUN --mount.
func commandSources(cmd instructions.Command) []string {
	switch c := cmd.(type) {
	case *instructions.CopyCommand:
		if c.From != "" {
			return []string{c.From}
		}
	case *instructions.RunCommand:
		var out []string
		for _, m := range instructions.GetMounts(c) {
			if m.From != "" {
				out = append(out, m.From)
			}
		}
		return out
	}
	return nil
}

func mergeRequest(m map[string]*ImageRequest, r ImageRequest) {
	cur, ok := m[r.Ref]
	if !ok {
		cur = &ImageRequest{Ref: r.Ref}
		m[r.Ref] = cur
	}
	cur.Platforms = mergeSorted(cur.Platforms, r.Platforms)
	cur.Components = mergeSorted(cur.Components, r.Components)
}

func mergeSorted(a, b []string) []string {
	set := map[string]bool{}
	for _, s := range append(append([]string{}, a...), b...) {
		set[s] = true
	}
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func sortedRequests(m map[string]*ImageRequest) []ImageRequest {
	out := make([]ImageRequest, 0, len(m))
	for _, r := range m {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Ref < out[j].Ref })
	return out
}

// envOf is a shell.EnvGetter over a map with a fixed key order.
func envOf(keys []string, vals map[string]string) shell.EnvGetter {
	env := make([]string, 0, len(keys))
	for _, k := range keys {
		env = append(env, k+"="+vals[k])
	}
	return shell.EnvsFromSlice(env)
}
