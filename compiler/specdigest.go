package compiler

import (
	"encoding/json"
	"fmt"

	"github.com/archc-dev/archc/spec"
	"github.com/hashicorp/hcl/v2"
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
func SpecDigest(s *spec.Spec) (digest.Digest, error) {
	c := *s
	c.Files = make([]string, len(s.Files))
	for i, f := range s.Files {
		c.Files[i] = relPath(s.Dir, f)
	}
	c.Dir = "."
	c.Proxy = nil
	c.Variables = nil
	c.Registries = append([]spec.Registry(nil), s.Registries...)
	for i := range c.Registries {
		r := &c.Registries[i]
		r.Range = hcl.Range{}
		if r.CA != "" {
			r.CA = relPath(s.Dir, r.CA)
		}
	}
	c.Builders = append([]spec.Builder(nil), s.Builders...)
	for i := range c.Builders {
		b := &c.Builders[i]
		b.Range = hcl.Range{}
		for _, p := range []*string{&b.CACert, &b.Cert, &b.Key} {
			if *p != "" {
				*p = relPath(s.Dir, *p)
			}
		}
	}
	c.Components = append([]spec.Component(nil), s.Components...)
	for i := range c.Components {
		comp := &c.Components[i]
		comp.Range = hcl.Range{}
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
		if comp.OutputPath != "" {
			comp.OutputPath = relPath(s.Dir, comp.OutputPath)
		}
		comp.Contexts = append([]spec.NamedContext(nil), comp.Contexts...)
		for k := range comp.Contexts {
			nc := &comp.Contexts[k]
			nc.Range = hcl.Range{}
			if nc.Path != "" {
				nc.Path = relPath(s.Dir, nc.Path)
			}
		}
	}
	// Secret and ssh blocks: no source ranges (where archc ran from) and paths relative, so a
	// plan file stays valid in another checkout.
	c.Secrets = append([]spec.Secret(nil), s.Secrets...)
	for i := range c.Secrets {
		sec := &c.Secrets[i]
		sec.Range = hcl.Range{}
		if sec.File != "" {
			sec.File = relPath(s.Dir, sec.File)
		}
	}
	c.SSH = append([]spec.SSH(nil), s.SSH...)
	for i := range c.SSH {
		sh := &c.SSH[i]
		sh.Range = hcl.Range{}
		sh.Paths = append([]string(nil), sh.Paths...)
		for k, p := range sh.Paths {
			sh.Paths[k] = relPath(s.Dir, p)
		}
	}
	dt, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("digest spec: %w", err)
	}
	return digest.FromBytes(dt), nil
}
