// Package bakefile writes the docker-bake.hcl that asks `docker buildx bake` for the same
// builds as an archc spec, so benchmarks can time both tools on one project. It covers what
// generated benchmark projects use (context, dockerfile, target, args, labels, tags,
// platforms, named contexts, outputs, cache import/export, no_cache) and refuses anything
// else rather than write a bake file that builds something different. Not for production use.
package bakefile

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"github.com/archc-dev/archc/spec"
)

// FileName is where bake looks for its file by default.
const FileName = "docker-bake.hcl"

// Write renders s as a bake file: a "default" group of every component and one target per
// component, with paths relative to s.Dir (run bake there). Components are written in spec
// order, so the same spec gives the same bytes.
func Write(s *spec.Spec) ([]byte, error) {
	f := hclwrite.NewEmptyFile()
	root := f.Body()
	names := make([]cty.Value, 0, len(s.Components))
	for _, c := range s.Components {
		names = append(names, cty.StringVal(c.Name))
	}
	group := root.AppendNewBlock("group", []string{"default"}).Body()
	group.SetAttributeValue("targets", listVal(names))
	for i := range s.Components {
		root.AppendNewline()
		if err := target(root, s.Dir, &s.Components[i]); err != nil {
			return nil, fmt.Errorf("bake target for component %q: %w", s.Components[i].Name, err)
		}
	}
	return f.Bytes(), nil
}

// target appends c's target block.
func target(root *hclwrite.Body, dir string, c *spec.Component) error {
	if err := unsupported(c); err != nil {
		return err
	}
	b := root.AppendNewBlock("target", []string{c.Name}).Body()
	ctx, err := rel(dir, c.Context)
	if err != nil {
		return err
	}
	b.SetAttributeValue("context", cty.StringVal(ctx))
	// bake reads dockerfile relative to the context, as archc's spec does.
	if df, err := filepath.Rel(c.Context, c.Dockerfile); err == nil && c.Dockerfile != "" && df != "Dockerfile" {
		b.SetAttributeValue("dockerfile", cty.StringVal(filepath.ToSlash(df)))
	}
	setString(b, "target", c.Target)
	setMap(b, "args", c.Args)
	setMap(b, "labels", c.Labels)
	setList(b, "tags", c.Tags)
	setList(b, "platforms", c.Platforms)
	contexts, err := namedContexts(dir, c.Contexts)
	if err != nil {
		return err
	}
	setMap(b, "contexts", contexts)
	out, err := output(dir, c)
	if err != nil {
		return err
	}
	setList(b, "output", []string{out})
	setList(b, "cache-from", c.CacheFrom)
	setList(b, "cache-to", c.CacheTo)
	if c.NoCache {
		b.SetAttributeValue("no-cache", cty.True)
	}
	setList(b, "no-cache-filter", c.NoCacheFilter)
	return nil
}

// unsupported names the first attribute of c that Write does not translate.
func unsupported(c *spec.Component) error {
	for _, a := range []struct {
		name string
		set  bool
	}{
		{"platform-dependent args", len(c.PlatformArgs) > 0},
		{"secrets", len(c.Secrets) > 0},
		{"ssh", len(c.SSH) > 0},
		{"allow", len(c.Allow) > 0},
		{"extra_hosts", len(c.ExtraHosts) > 0},
		{"network", c.Network != "" && c.Network != "default"},
		{"shm_size", c.ShmSize != ""},
		{"ulimits", len(c.Ulimits) > 0},
		{"builder", c.Builder != ""},
	} {
		if a.set {
			return fmt.Errorf("%s: not translated to bake", a.name)
		}
	}
	return nil
}

// namedContexts maps archc's named contexts to bake's values: target:NAME for a component,
// docker-image://REF for an image, a relative path for a directory.
func namedContexts(dir string, ncs []spec.NamedContext) (map[string]string, error) {
	m := map[string]string{}
	for _, nc := range ncs {
		switch {
		case nc.Component != "":
			m[nc.Name] = "target:" + nc.Component
		case nc.Image != "":
			m[nc.Name] = "docker-image://" + nc.Image
		default:
			p, err := rel(dir, nc.Path)
			if err != nil {
				return nil, err
			}
			m[nc.Name] = p
		}
	}
	return m, nil
}

// output is bake's output entry for c's output mode.
func output(dir string, c *spec.Component) (string, error) {
	kind := map[string]string{spec.OutputRegistry: "registry", spec.OutputCacheOnly: "cacheonly",
		spec.OutputOCI: "oci", spec.OutputLocal: "local", spec.OutputDocker: "docker"}[c.Output]
	if kind == "" {
		return "", fmt.Errorf("output %q: not translated to bake", c.Output)
	}
	if c.OutputPath == "" {
		return "type=" + kind, nil
	}
	p, err := rel(dir, c.OutputPath)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("type=%s,dest=%s", kind, p), nil
}

// rel is path relative to dir, written as ./PATH, as a bake file run in dir expects.
func rel(dir, path string) (string, error) {
	r, err := filepath.Rel(dir, path)
	if err != nil {
		return "", fmt.Errorf("path %s relative to %s: %w", path, dir, err)
	}
	r = filepath.ToSlash(r)
	if r != "." && !strings.HasPrefix(r, "../") {
		r = "./" + r
	}
	return r, nil
}

func setString(b *hclwrite.Body, name, v string) {
	if v != "" {
		b.SetAttributeValue(name, cty.StringVal(v))
	}
}

func setList(b *hclwrite.Body, name string, l []string) {
	if len(l) == 0 {
		return
	}
	vals := make([]cty.Value, len(l))
	for i, v := range l {
		vals[i] = cty.StringVal(v)
	}
	b.SetAttributeValue(name, listVal(vals))
}

// setMap writes m as an object; cty orders an object's attributes by name.
func setMap(b *hclwrite.Body, name string, m map[string]string) {
	if len(m) == 0 {
		return
	}
	vals := make(map[string]cty.Value, len(m))
	for k, v := range m {
		vals[k] = cty.StringVal(v)
	}
	b.SetAttributeValue(name, cty.ObjectVal(vals))
}

// listVal is a tuple, which hclwrite renders as [a, b] (a cty list of no elements would
// need a type).
func listVal(vals []cty.Value) cty.Value { return cty.TupleVal(vals) }
