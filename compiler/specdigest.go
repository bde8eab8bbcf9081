package compiler

import (
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/archc-dev/archc/spec"
	digest "github.com/opencontainers/go-digest"
)

// SpecDigest identifies the evaluated spec: everything that decides what gets built and
// where it goes. It is published (plan JSON, plan files), so it must not be an oracle for
// a secret: a digest over a password lets anyone holding the plan test guesses offline.
// It leaves out
//   - the proxy block (credentials, and a proxy change must not invalidate a plan),
//   - the variables: their values may be secrets (a proxy password set with --var), and
//     whatever a variable decides already shows in the evaluated fields that use it,
//   - source ranges and the spec's location on disk (paths are taken relative to Spec.Dir).
//
// s is not modified.
func SpecDigest(s *spec.Spec) (digest.Digest, error) {
	c := *s
	c.Proxy = nil
	c.Variables = nil
	// Every source range, whatever type holds it (where archc ran from); as for the compile
	// cache key, so a ranged type added to the spec cannot be forgotten here.
	c = withoutRanges(reflect.ValueOf(c)).Interface().(spec.Spec)
	// withoutRanges copied the slices of structs (blocks and named contexts) but shares the
	// string slices with s: those rewritten below are copied first (relPaths,
	// RelCacheEntries). Empty block lists are nil, as they always were in this digest.
	rel := func(p string) string {
		if p == "" {
			return ""
		}
		return relPath(s.Dir, p)
	}
	c.Files = relPaths(s.Dir, s.Files)
	c.Dir = "."
	c.Registries = emptyAsNil(c.Registries)
	for i := range c.Registries {
		c.Registries[i].CA = rel(c.Registries[i].CA)
	}
	c.Builders = emptyAsNil(c.Builders)
	for i := range c.Builders {
		b := &c.Builders[i]
		b.CACert, b.Cert, b.Key = rel(b.CACert), rel(b.Cert), rel(b.Key)
	}
	c.Components = emptyAsNil(c.Components)
	for i := range c.Components {
		comp := &c.Components[i]
		comp.Context = relPath(s.Dir, comp.Context)
		comp.Dockerfile = relPath(s.Dir, comp.Dockerfile)
		// Local cache directories are absolute in the spec: relative here, so a plan made in
		// one checkout is not stale in another.
		if len(comp.CacheFrom) > 0 {
			comp.CacheFrom = s.RelCacheEntries(comp.CacheFrom, false)
		}
		if len(comp.CacheTo) > 0 {
			comp.CacheTo = s.RelCacheEntries(comp.CacheTo, true)
		}
		comp.OutputPath = rel(comp.OutputPath)
		comp.Contexts = emptyAsNil(comp.Contexts)
		for k := range comp.Contexts {
			comp.Contexts[k].Path = rel(comp.Contexts[k].Path)
		}
	}
	// Secret files and ssh paths relative, so a plan file stays valid in another checkout.
	c.Secrets = emptyAsNil(c.Secrets)
	for i := range c.Secrets {
		c.Secrets[i].File = rel(c.Secrets[i].File)
	}
	c.SSH = emptyAsNil(c.SSH)
	for i := range c.SSH {
		c.SSH[i].Paths = emptyAsNil(relPaths(s.Dir, c.SSH[i].Paths))
	}
	dt, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("digest spec: %w", err)
	}
	return digest.FromBytes(dt), nil
}

// relPaths is a new slice of paths relative to dir.
func relPaths(dir string, paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = relPath(dir, p)
	}
	return out
}

// emptyAsNil is l, or nil when it is empty: the list's JSON is null whether the spec holds
// nil or [].
func emptyAsNil[T any](l []T) []T {
	if len(l) == 0 {
		return nil
	}
	return l
}
