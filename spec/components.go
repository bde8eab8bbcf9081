package spec

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/distribution/reference"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// dockerImagePrefix marks an image used as a named context.
const dockerImagePrefix = "docker-image://"

type componentBody struct {
	Context    string            `hcl:"context,optional"`
	Dockerfile string            `hcl:"dockerfile,optional"`
	Target     string            `hcl:"target,optional"`
	Args       hcl.Expression    `hcl:"args,optional"` // see componentArgs
	Tags       []string          `hcl:"tags,optional"`
	Platforms  []string          `hcl:"platforms,optional"`
	Contexts   map[string]string `hcl:"contexts,optional"`
	Output     string            `hcl:"output,optional"`
	OutputPath string            `hcl:"output_path,optional"`
	Labels     map[string]string `hcl:"labels,optional"`
	DependsOn  []string          `hcl:"depends_on,optional"`
	Builder    string            `hcl:"builder,optional"`
	CacheFrom  []string          `hcl:"cache_from,optional"`
	CacheTo    []string          `hcl:"cache_to,optional"`

	Secrets       []string          `hcl:"secrets,optional"`
	SSH           []string          `hcl:"ssh,optional"`
	Allow         []string          `hcl:"allow,optional"`
	ExtraHosts    map[string]string `hcl:"extra_hosts,optional"`
	Network       string            `hcl:"network,optional"`
	ShmSize       string            `hcl:"shm_size,optional"`
	Ulimits       []string          `hcl:"ulimits,optional"`
	NoCache       bool              `hcl:"no_cache,optional"`
	NoCacheFilter []string          `hcl:"no_cache_filter,optional"`
	// SourceDateEpoch is a number or "git" (componentEpoch).
	SourceDateEpoch cty.Value `hcl:"source_date_epoch,optional"`

	// Attest blocks are decoded by componentAttest (per file, field by field).
	Attest []struct {
		Body hcl.Body `hcl:",remain"`
	} `hcl:"attest,block"`
	Annotations map[string]string `hcl:"annotations,optional"`
}

// component evaluates one component block, fills its defaults and checks it.
func (e *evaluator) component(b *mergedBlock, defaults componentDefaults) (Component, hcl.Diagnostics) {
	var raw componentBody
	diags := e.decode(b, &raw, "contexts", "depends_on")
	outputHint(b, diags)
	c := Component{
		Name:   b.Name(),
		Target: raw.Target,
		Labels: raw.Labels,
		Output: raw.Output,
		Range:  b.DefRange,
	}
	diags = append(diags, e.componentPaths(b, raw, &c)...)
	for i, t := range raw.Tags {
		if err := checkTag(t); err != nil {
			diags = append(diags, errorAt(elemRange(attr(b, "tags").Expr, i), "Invalid tag", "%q: %v.", t, err))
			continue
		}
		c.Tags = append(c.Tags, t)
	}
	c.Platforms = defaults.Platforms
	if a := attr(b, "platforms"); a != nil && raw.Platforms != nil {
		p, d := normalizePlatforms(raw.Platforms, a.Expr)
		c.Platforms, diags = p, append(diags, d...)
	}
	diags = append(diags, e.componentArgs(raw.Args, &c)...)
	diags = append(diags, e.componentBuildOpts(b, raw, defaults, &c)...)
	diags = append(diags, e.componentRouting(b, raw, defaults, &c)...)
	diags = append(diags, e.componentOutput(b, raw, &c)...)
	diags = append(diags, componentEpoch(b, raw.SourceDateEpoch, defaults, &c)...)
	diags = append(diags, e.componentAttest(b, defaults, &c)...)
	diags = append(diags, componentAnnotations(b, raw.Annotations, &c)...)
	deps := map[string]bool{}
	for i, d := range raw.DependsOn {
		name := strings.TrimPrefix(d, componentRefPrefix)
		if name == c.Name {
			diags = append(diags, errorAt(elemRange(attr(b, "depends_on").Expr, i), "Dependency cycle", "%s -> %s", name, name))
			continue
		}
		if !e.components[name] {
			diags = append(diags, undefinedRef(e, "component", "component", name, e.components, elemRange(attr(b, "depends_on").Expr, i).Ptr()))
			continue
		}
		deps[name] = true
	}
	ctxs, d := e.namedContexts(b, raw.Contexts)
	diags = append(diags, d...)
	for _, nc := range ctxs {
		if nc.Component != "" {
			deps[nc.Component] = true
		}
	}
	c.Contexts = ctxs
	c.DependsOn = sortedNames(deps)
	return c, diags
}

// componentDefaults are the top-level attributes a component inherits unless it sets its own.
type componentDefaults struct {
	Platforms          []string
	CacheFrom, CacheTo []string
	// Builders are the builder blocks, decoded before the components, for the builder pin.
	Builders []Builder
	// Secrets and SSH are the ids of the secret and ssh blocks, for the components' lists.
	Secrets, SSH map[string]bool
	// SourceDateEpoch is the top-level source_date_epoch, nil when unset.
	SourceDateEpoch *int64
	// CommitTime reads the commit time a component's source_date_epoch = "git" stands for,
	// once per load (the top-level default's reading included).
	CommitTime commitTime
	// Attest is the top-level attest block; SBOMGenerator the scanner image of every
	// component that turns sbom on (sbom_generator, or DefaultSBOMGenerator).
	Attest        Attest
	SBOMGenerator string
}

// componentRouting fills builder, cache_from and cache_to. A component's own cache list
// replaces the default, as in bake (an empty list turns the default off). A pinned builder
// must exist and, when it declares platforms, run every platform of the component: a pin
// never falls back to another builder, so a mismatch could only fail at apply.
func (e *evaluator) componentRouting(b *mergedBlock, raw componentBody, defaults componentDefaults, c *Component) hcl.Diagnostics {
	var diags hcl.Diagnostics
	c.CacheFrom, c.CacheTo = defaults.CacheFrom, defaults.CacheTo
	for _, f := range []struct {
		name   string
		list   []string
		export bool
		dst    *[]string
	}{{"cache_from", raw.CacheFrom, false, &c.CacheFrom}, {"cache_to", raw.CacheTo, true, &c.CacheTo}} {
		if a := attr(b, f.name); a != nil && f.list != nil {
			l, d := e.cacheList(a.AsHCLAttribute(), f.list, f.export)
			*f.dst, diags = l, append(diags, d...)
		}
	}
	a := attr(b, "builder")
	if a == nil || raw.Builder == "" {
		return diags
	}
	c.Builder = raw.Builder
	i := slices.IndexFunc(defaults.Builders, func(bl Builder) bool { return bl.Name == raw.Builder })
	if i < 0 {
		names := map[string]bool{}
		for _, bl := range defaults.Builders {
			names[bl.Name] = true
		}
		detail := fmt.Sprintf("There is no builder block named %q; builder names one of the spec's builder blocks.", raw.Builder)
		if s := Suggest(raw.Builder, names); s != "" {
			detail += fmt.Sprintf(" Did you mean %q?", s)
		}
		return append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Undefined builder", Detail: detail, Subject: a.Expr.Range().Ptr()})
	}
	bl := defaults.Builders[i]
	if len(bl.Platforms) == 0 {
		return diags
	}
	for _, p := range c.Platforms {
		if !slices.Contains(bl.Platforms, p) {
			diags = append(diags, errorAt(a.Expr.Range(), "Builder cannot run the platform",
				"component %q is pinned to builder %q, which declares platforms %s; %s is not among them. Pin another builder, or add the platform to the builder's platforms.",
				c.Name, bl.Name, strings.Join(bl.Platforms, ", "), p))
		}
	}
	return diags
}

// componentPaths resolves context and dockerfile and checks that they exist. The context
// is relative to the spec file; the dockerfile to the context, like docker build.
func (e *evaluator) componentPaths(b *mergedBlock, raw componentBody, c *Component) hcl.Diagnostics {
	var diags hcl.Diagnostics
	ctxRange := b.DefRange
	if raw.Context == "" {
		raw.Context = "."
	}
	if a := attr(b, "context"); a != nil {
		c.Context = e.path(a.Expr.Range(), raw.Context)
		ctxRange = a.Expr.Range()
	} else {
		c.Context = e.path(b.DefRange, raw.Context)
	}
	ctxDiag := checkExists(c.Context, true, ctxRange, "Build context")
	if ctxDiag != nil {
		diags = append(diags, ctxDiag)
	}
	dfRange := ctxRange
	c.Dockerfile = filepath.Join(c.Context, "Dockerfile")
	if a := attr(b, "dockerfile"); a != nil && raw.Dockerfile != "" {
		c.Dockerfile = filepath.Join(c.Context, raw.Dockerfile)
		if filepath.IsAbs(raw.Dockerfile) {
			c.Dockerfile = filepath.Clean(raw.Dockerfile)
		}
		dfRange = a.Expr.Range()
	}
	// With no context there is no Dockerfile to look for: a second error would be derived
	// from the first and could be listed before it (dockerfile written above context).
	if ctxDiag == nil || filepath.IsAbs(raw.Dockerfile) {
		if d := checkExistsRel(c.Dockerfile, false, dfRange, "Dockerfile", dockerfileRule(raw)); d != nil {
			diags = append(diags, d)
		}
	}
	return diags
}

// dockerfileRule is how the component's Dockerfile path was made, for its not-found error.
func dockerfileRule(raw componentBody) string {
	switch {
	case raw.Dockerfile == "":
		return fmt.Sprintf("Without a dockerfile attribute, the Dockerfile is the one at the root of the context (%q); set dockerfile to use another.", raw.Context)
	case filepath.IsAbs(raw.Dockerfile):
		return "The dockerfile attribute is an absolute path."
	}
	return fmt.Sprintf("The dockerfile attribute is relative to the component's context (%q), like docker build -f; the context is relative to the spec file's directory.", raw.Context)
}

// componentOutput fills the output default and checks output/output_path/tags agree.
func (e *evaluator) componentOutput(b *mergedBlock, raw componentBody, c *Component) hcl.Diagnostics {
	var diags hcl.Diagnostics
	outRange := b.DefRange
	if a := attr(b, "output"); a != nil {
		outRange = a.Expr.Range()
	}
	if c.Output == "" {
		c.Output = OutputCacheOnly
		if len(raw.Tags) > 0 {
			c.Output = OutputRegistry
		}
	}
	switch c.Output {
	case OutputRegistry:
		if len(raw.Tags) == 0 {
			diags = append(diags, errorAt(outRange, "Registry output without tags",
				"component %q: output = \"registry\" pushes its tags, but tags is empty.", c.Name))
		}
	case OutputDocker:
		// The image is named by its tags, in the engine and in the `docker load` archive.
		// output_path is optional: apply loads into a Docker engine when one answers and
		// writes the archive to output_path when set, and fails before solving with neither.
		// tags that failed to evaluate (nil) were reported already.
		if a := attr(b, "tags"); a == nil || raw.Tags != nil && len(raw.Tags) == 0 {
			diags = append(diags, errorAt(outRange, "Docker output without tags",
				"component %q: output = \"docker\" names the loaded image by its tags, but tags is empty.", c.Name))
		}
	case OutputOCI, OutputLocal:
		if raw.OutputPath == "" {
			diags = append(diags, errorAt(outRange, "Missing output_path",
				"component %q: output = %q writes to output_path; set it.", c.Name, c.Output))
		}
	case OutputCacheOnly:
	default:
		detail := fmt.Sprintf("component %q: output %q is not one of registry, oci, local, docker, cache-only.", c.Name, c.Output)
		if t, ok := strings.CutPrefix(c.Output, "type="); ok {
			t, _, _ = strings.Cut(t, ",")
			detail += fmt.Sprintf(" bake's CSV form is not used here: write output = %q (and output_path for a destination).", t)
		}
		diags = append(diags, errorAt(outRange, "Invalid output", "%s", detail))
	}
	if raw.OutputPath != "" {
		a := attr(b, "output_path")
		c.OutputPath = e.path(a.Expr.Range(), raw.OutputPath)
		if c.Output != OutputOCI && c.Output != OutputLocal && c.Output != OutputDocker {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagWarning,
				Summary:  "Unused output_path",
				Detail:   "output_path is only used with output = \"oci\", \"docker\" or \"local\".",
				Subject:  a.Expr.Range().Ptr(),
			})
			c.OutputPath = ""
		}
	}
	return diags
}

// namedContexts classifies each contexts entry: component.X, docker-image://REF or a path.
func (e *evaluator) namedContexts(b *mergedBlock, raw map[string]string) ([]NamedContext, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	var out []NamedContext
	for _, name := range slices.Sorted(maps.Keys(raw)) {
		val := raw[name]
		a := attr(b, "contexts")
		rng := keyRange(a.Expr, name)
		nc := NamedContext{Name: name, Range: rng}
		switch {
		case strings.HasPrefix(val, componentRefPrefix):
			nc.Component = strings.TrimPrefix(val, componentRefPrefix)
			if !e.components[nc.Component] {
				diags = append(diags, undefinedRef(e, "component", "component", nc.Component, e.components, rng.Ptr()))
				continue
			}
			if nc.Component == b.Name() {
				diags = append(diags, errorAt(rng, "Dependency cycle", "%s -> %s", nc.Component, nc.Component))
				continue
			}
		case strings.HasPrefix(val, dockerImagePrefix):
			nc.Image = strings.TrimPrefix(val, dockerImagePrefix)
			if _, err := reference.ParseNormalizedNamed(nc.Image); err != nil {
				diags = append(diags, errorAt(rng, "Invalid image reference", "contexts.%s: %q: %v.", name, nc.Image, err))
				continue
			}
		case val == "":
			diags = append(diags, errorAt(rng, "Empty context", "contexts.%s is empty; use a path, component.NAME or docker-image://REF.", name))
			continue
		default:
			nc.Path = e.path(a.Expr.Range(), val)
			if d := checkExists(nc.Path, true, rng, "Named context"); d != nil {
				diags = append(diags, d)
				continue
			}
		}
		out = append(out, nc)
	}
	return out, diags
}

// orderComponents sorts components so each comes after its dependencies (ties by name)
// and reports every dependency cycle as "a -> b -> a", at the declaration of its first
// member. Self-references are reported where they are written.
func orderComponents(comps []Component) ([]Component, hcl.Diagnostics) {
	byName := map[string]*Component{}
	names := make([]string, 0, len(comps))
	deps := map[string][]string{}
	for i := range comps {
		c := &comps[i]
		byName[c.Name] = c
		names = append(names, c.Name)
		for _, d := range c.DependsOn {
			if d != c.Name {
				deps[c.Name] = append(deps[c.Name], d)
			}
		}
	}
	sort.Strings(names)
	var diags hcl.Diagnostics
	for _, cycle := range findCycles(names, deps) {
		diags = append(diags, errorAt(byName[cycle[0]].Range, "Dependency cycle", "%s", cycleText(cycle, "")))
	}
	if diags.HasErrors() {
		return comps, diags
	}
	order, _ := topoOrder(names, deps)
	out := make([]Component, 0, len(order))
	for _, name := range order {
		out = append(out, *byName[name])
	}
	return out, diags
}
