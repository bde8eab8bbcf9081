package solver

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/distribution/reference"

	"github.com/archc-dev/archc/compiler"
	"github.com/archc-dev/archc/spec"
)

// JobsFromPlan groups a plan's builds into one Job per component, in the spec's
// dependency order, with the spec's proxy added to every exec op (compiler.WithProxy),
// the pinned bases read from archc's store (compiler.WithBaseStore, served by Bases), the
// plan's local contexts mapped to directories under the spec's directory and its cache
// imports and exports (cacheOptions).
func JobsFromPlan(p *compiler.Plan, s *spec.Spec) ([]*Job, error) {
	dirs := p.LocalDirs(s.Dir)
	byComp := map[string]*Job{}
	var order []string
	for i := range p.Builds {
		b := &p.Builds[i]
		j, ok := byComp[b.Component]
		if !ok {
			j = &Job{Component: b.Component, LocalDirs: dirs, Output: spec.OutputCacheOnly}
			if b.Dockerfile != "" {
				j.Dockerfile = filepath.Join(s.Dir, filepath.FromSlash(b.Dockerfile))
			}
			byComp[b.Component] = j
			order = append(order, b.Component)
			if err := setOutputs(j, b, s); err != nil {
				return nil, err
			}
			// cache_from and cache_to are the component's: every platform has the same.
			var err error
			if j.CacheImports, err = cacheOptions(b.CacheFrom, false, s.Dir); err != nil {
				return nil, fmt.Errorf("component %s: cache_from: %w", b.Component, err)
			}
			if j.CacheExports, err = cacheOptions(b.CacheTo, true, s.Dir); err != nil {
				return nil, fmt.Errorf("component %s: cache_to: %w", b.Component, err)
			}
		}
		def, err := compiler.WithProxy(b.Definition, s.Proxy)
		if err != nil {
			return nil, fmt.Errorf("build %s: add proxy: %w", b.ID, err)
		}
		if def, err = compiler.WithBaseStore(def, BaseStoreID); err != nil {
			return nil, fmt.Errorf("build %s: bases from archc's store: %w", b.ID, err)
		}
		pbDef := def.ToPB()
		j.Builds = append(j.Builds, PlatformBuild{Platform: b.Platform, Def: pbDef, ImageConfig: b.ImageConfig,
			Entitlements: b.Entitlements, RunPlatforms: execPlatforms(pbDef)})
		for _, dep := range b.DependsOn {
			name := componentOf(dep)
			if name != b.Component && !contains(j.DependsOn, name) {
				j.DependsOn = append(j.DependsOn, name)
			}
		}
	}
	// The spec's order is a dependency order; keep plan-only components at the end.
	var jobs []*Job
	for _, c := range s.Components {
		if j, ok := byComp[c.Name]; ok {
			sortBuilds(j, c.Platforms)
			jobs = append(jobs, j)
			delete(byComp, c.Name)
		}
	}
	for _, name := range order {
		if j, ok := byComp[name]; ok {
			jobs = append(jobs, j)
		}
	}
	return jobs, nil
}

func setOutputs(j *Job, b *compiler.Build, s *spec.Spec) error {
	for _, o := range b.Outputs {
		j.Output = o.Type
		switch o.Type {
		case spec.OutputRegistry:
			j.Tags = append(j.Tags, o.Name)
			insecure, err := insecureRegistry(o.Name, s)
			if err != nil {
				return fmt.Errorf("component %s: %w", b.Component, err)
			}
			j.Insecure = j.Insecure || insecure
		case spec.OutputOCI, spec.OutputLocal:
			j.OutputPath = filepath.Join(s.Dir, filepath.FromSlash(o.Path))
			if o.Name != "" {
				j.Tags = append(j.Tags, o.Name)
			}
		case spec.OutputDocker:
			// One output per tag, each with the tarball's path ("" when only an engine
			// gets the image).
			j.Tags = append(j.Tags, o.Name)
			if o.Path != "" {
				j.OutputPath = filepath.Join(s.Dir, filepath.FromSlash(o.Path))
			}
		}
	}
	return nil
}

// insecureRegistry says whether the spec lets tag's registry be reached over plain HTTP
// or without TLS verification.
func insecureRegistry(tag string, s *spec.Spec) (bool, error) {
	named, err := reference.ParseNormalizedNamed(tag)
	if err != nil {
		return false, fmt.Errorf("tag %q: %w", tag, err)
	}
	r := s.Registry(reference.Domain(named))
	return r != nil && (r.HTTP || r.Insecure), nil
}

// componentOf returns COMPONENT of a build id "COMPONENT/OS/ARCH[/VARIANT]".
func componentOf(id string) string {
	name, _, _ := strings.Cut(id, "/")
	return name
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// sortBuilds orders a job's builds as the component lists its platforms.
func sortBuilds(j *Job, plats []string) {
	rank := map[string]int{}
	for i, p := range plats {
		rank[spec.NormalizePlatform(p)] = i + 1
	}
	b := j.Builds
	for i := 1; i < len(b); i++ {
		for k := i; k > 0 && rank[b[k].Platform] < rank[b[k-1].Platform]; k-- {
			b[k], b[k-1] = b[k-1], b[k]
		}
	}
}
