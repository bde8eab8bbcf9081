package compiler

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/patternmatcher/ignorefile"
	digest "github.com/opencontainers/go-digest"
	"github.com/tonistiigi/fsutil"
	fstypes "github.com/tonistiigi/fsutil/types"
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
	mu      sync.Mutex
	m       map[string]*localEntry
}

type localEntry struct {
	once sync.Once
	lc   localContext
	err  error
}

func newLocalContexts(specDir string) *localContexts {
	return &localContexts{specDir: specDir, m: map[string]*localEntry{}}
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
	e.once.Do(func() { e.lc, e.err = loadLocalContext(ctx, c.specDir, dir, ignore) })
	return e.lc, e.err
}

func loadLocalContext(ctx context.Context, specDir, dir, ignore string) (localContext, error) {
	rel := relPath(specDir, dir)
	if ignore == "" {
		ignore = filepath.Join(dir, ".dockerignore")
	}
	excludes, found, err := readIgnoreFile(ignore)
	if err != nil {
		return localContext{}, err
	}
	dgst, err := contextDigest(ctx, dir, excludes)
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

// contextDigest hashes what fsutil would send from dir with excludes applied: for each
// entry in walk order its path, type and permission bits, and the content of regular files
// or the target of symlinks. Times and owners are left out: they do not change a build.
func contextDigest(ctx context.Context, dir string, excludes []string) (digest.Digest, error) {
	h := sha256.New()
	root, err := fsutil.NewFS(dir)
	if err != nil {
		return "", err
	}
	filtered, err := fsutil.NewFilterFS(root, &fsutil.FilterOpt{ExcludePatterns: excludes})
	if err != nil {
		return "", err
	}
	err = filtered.Walk(ctx, "/", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%o\x00", p, info.Mode()&(fs.ModeType|fs.ModePerm))
		switch {
		case info.Mode().IsRegular():
			rc, err := filtered.Open(p)
			if err != nil {
				return err
			}
			fh := sha256.New()
			_, err = io.Copy(fh, rc)
			rc.Close()
			if err != nil {
				return err
			}
			h.Write([]byte(hex.EncodeToString(fh.Sum(nil))))
		case info.Mode()&fs.ModeSymlink != 0:
			if st, ok := info.Sys().(*fstypes.Stat); ok {
				h.Write([]byte(st.Linkname))
			}
		}
		h.Write([]byte{'\n'})
		return nil
	})
	if err != nil {
		return "", err
	}
	return digest.NewDigest(digest.SHA256, h), nil
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
