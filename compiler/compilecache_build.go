package compiler

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"

	"github.com/archc-dev/archc/spec"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// cacheRun is the compile cache as one compile uses it: the spec's part of every key,
// computed once, and each component's.
type cacheRun struct {
	cc      *compileCache
	specKey json.RawMessage

	mu    sync.Mutex
	comps map[string]json.RawMessage
}

// newCacheRun is nil (no caching) when cc is, or when the spec cannot be keyed.
func newCacheRun(cc *compileCache, s *spec.Spec) *cacheRun {
	if cc == nil {
		return nil
	}
	sk, err := specKeyJSON(s)
	if err != nil {
		return nil
	}
	return &cacheRun{cc: cc, specKey: sk, comps: map[string]json.RawMessage{}}
}

func (r *cacheRun) componentKey(comp *spec.Component) (json.RawMessage, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if k, ok := r.comps[comp.Name]; ok {
		return k, nil
	}
	k, err := keyJSON(comp)
	if err != nil {
		return nil, err
	}
	r.comps[comp.Name] = k
	return k, nil
}

// lowerCached is lower through the compile cache: the entry of b's inputs when there is
// one the images of this run vouch for, else lower, stored. Either way the build's
// resultDigest is published for the builds that use it.
func (c *compilation) lowerCached(ctx context.Context, comp *spec.Component, p ocispecs.Platform, dt []byte, b *Build, main localContext, named map[string]input, imageCtx map[string]string) (*Build, error) {
	key := digest.Digest("")
	if c.cache != nil {
		// A build that cannot be keyed is compiled and not stored.
		key, _ = c.cacheKey(comp, p, dt, b)
		if e, ok := c.cache.cc.get(ctx, key, c.images); key != "" && ok && sameFields(b, &e.Build) {
			for _, w := range e.Warnings {
				c.warn.add(w)
			}
			c.results[b.ID].digest = resultDigest(e.Definition, e.Build.ConfigDigest)
			return &e.Build, nil
		}
	}
	if c.cache != nil {
		c.cache.cc.noteCompiled(b.ID)
	}
	// The build's own warnings are collected apart, to be stored with it.
	bc := *c
	bc.warn = &warnings{}
	resolver := newMetaResolver(c.images)
	out, err := bc.lower(ctx, comp, p, dt, b, main, named, imageCtx, resolver)
	warns := bc.warn.sorted()
	for _, w := range warns {
		c.warn.add(w)
	}
	if err != nil || c.cache == nil {
		return out, err
	}
	e, err := newEntry(out, resolver.answers(), warns)
	if err != nil {
		return nil, err
	}
	c.results[b.ID].digest = resultDigest(e.Definition, out.ConfigDigest)
	if key != "" {
		c.cache.cc.put(key, e)
	}
	return out, nil
}

// cacheKey is the compile cache key of b (its fields set before lowering, its contexts
// hashed): see compileInputs.
func (c *compilation) cacheKey(comp *spec.Component, p ocispecs.Platform, dt []byte, b *Build) (digest.Digest, error) {
	ck, err := c.cache.componentKey(comp)
	if err != nil {
		return "", fmt.Errorf("compile cache key of %s: %w", comp.Name, err)
	}
	plat, err := json.Marshal(p)
	if err != nil {
		return "", err
	}
	bplat, err := json.Marshal(c.opt.buildPlatform)
	if err != nil {
		return "", err
	}
	in := compileInputs{
		Format:        compileCacheFormat,
		Compiler:      c.cache.cc.version,
		Spec:          c.cache.specKey,
		Component:     ck,
		Platform:      plat,
		BuildPlatform: bplat,
		Dockerfile:    digest.FromBytes(dt),
		Contexts:      b.Contexts,
		Inputs:        map[string]digest.Digest{},
	}
	for _, nc := range comp.Contexts {
		if nc.Component == "" {
			continue
		}
		r := c.results[buildID(nc.Component, p)]
		if r == nil || r.digest == "" {
			return "", fmt.Errorf("compile cache key of %s: context %q has no result digest", b.ID, nc.Name)
		}
		in.Inputs[nc.Name] = r.digest
	}
	return in.key()
}

// warnings is a set of plan warnings, safe for concurrent use.
type warnings struct {
	mu  sync.Mutex
	set map[string]struct{}
}

func (w *warnings) add(s string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.set == nil {
		w.set = map[string]struct{}{}
	}
	w.set[s] = struct{}{}
}

// sorted are the warnings in order; nil for none.
func (w *warnings) sorted() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.set) == 0 {
		return nil
	}
	out := make([]string, 0, len(w.set))
	for s := range w.set {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}
