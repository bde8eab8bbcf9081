package compiler

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/patternmatcher/ignorefile"
	digest "github.com/opencontainers/go-digest"
)

// localContext is one local directory as the builder will receive it.
type localContext struct {
	// rel is the directory relative to the spec's directory, slash-separated.
	rel string
	// name is the llb.Local name: stable, unique per directory, no absolute path.
	name string
	// excludes are the parsed ignore-file patterns.
	excludes []string
	// ignore is the ignore file applied, relative to the spec's directory; "" when none.
	ignore string
	// digest is the content digest of what is sent.
	digest digest.Digest
}

// state is the llb.Local source for the directory. Its unique id is the content digest:
// stable across runs (no random local.unique), and it makes the op digest — hence every
// dependent build's LLB digest — change exactly when the sent content changes. BuildKit
// keys the local's cache on the session and patterns, not on this id, so caching is
// unaffected.
func (lc localContext) state() llb.State {
	return llb.Local(lc.name,
		llb.ExcludePatterns(lc.excludes),
		llb.SharedKeyHint(lc.name),
		llb.LocalUniqueID(lc.digest.String()),
		llb.WithCustomName("[context "+lc.rel+"] load build context"),
	)
}

// localContexts memoizes directory digests: many builds share a directory.
type localContexts struct {
	specDir string
	hasher  ctxHasher
	mu      sync.Mutex
	m       map[string]*localEntry
}

type localEntry struct {
	once sync.Once
	lc   localContext
	err  error
}

// newLocalContexts hashes contexts with the file indexes in store (nil for none).
func newLocalContexts(specDir string, store *ctxStore) *localContexts {
	return &localContexts{specDir: specDir, hasher: ctxHasher{store: store}, m: map[string]*localEntry{}}
}

// get returns the local context for the absolute directory dir with the absolute ignore
// file ignore applied ("" means dir/.dockerignore).
func (c *localContexts) get(ctx context.Context, dir, ignore string) (localContext, error) {
	key := dir + "\x00" + ignore
	c.mu.Lock()
	e, ok := c.m[key]
	if !ok {
		e = &localEntry{}
		c.m[key] = e
	}
	c.mu.Unlock()
	e.once.Do(func() { e.lc, e.err = c.hasher.load(ctx, c.specDir, dir, ignore) })
	return e.lc, e.err
}

// loadLocalContext is the local context of dir, every file read.
func loadLocalContext(ctx context.Context, specDir, dir, ignore string) (localContext, error) {
	return ctxHasher{}.load(ctx, specDir, dir, ignore)
}

func (hr ctxHasher) load(ctx context.Context, specDir, dir, ignore string) (localContext, error) {
	rel := relPath(specDir, dir)
	if ignore == "" {
		ignore = filepath.Join(dir, ".dockerignore")
	}
	excludes, found, err := readIgnoreFile(ignore)
	if err != nil {
		return localContext{}, err
	}
	dgst, err := hr.digest(ctx, dir, excludes)
	if err != nil {
		return localContext{}, fmt.Errorf("hash context %s: %w", rel, err)
	}
	lc := localContext{rel: rel, name: "archc:" + rel, excludes: excludes, digest: dgst}
	if found {
		lc.ignore = relPath(specDir, ignore)
	}
	return lc, nil
}

// mainIgnoreFile is the ignore file of a build's main context, by BuildKit's rule
// (frontend/dockerui): <Dockerfile>.dockerignore beside the Dockerfile when it exists, else
// the context's .dockerignore ("" here).
func mainIgnoreFile(dockerfile string) string {
	p := dockerfile + ".dockerignore"
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return ""
}

// readIgnoreFile returns the patterns of an ignore file, and whether it exists.
func readIgnoreFile(path string) ([]string, bool, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read %s: %w", filepath.Base(path), err)
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		return nil, false, fmt.Errorf("parse %s: %w", filepath.Base(path), err)
	}
	return patterns, true, nil
}

// relPath returns target relative to base, slash-separated; target itself when it cannot
// be made relative.
func relPath(base, target string) string {
	r, err := filepath.Rel(base, target)
	if err != nil {
		return filepath.ToSlash(target)
	}
	return filepath.ToSlash(r)
}
