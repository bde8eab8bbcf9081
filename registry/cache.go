package registry

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	digest "github.com/opencontainers/go-digest"
)

// Cache is an on-disk store of immutable registry content (indexes, manifests, image
// configs) keyed by digest. Content is verified on the way in and on the way out, so a
// corrupted file reads as a miss. It is safe for concurrent use by several processes.
type Cache struct {
	dir string
}

// DefaultCacheDir is $XDG_CACHE_HOME/archc (or ~/.cache/archc).
func DefaultCacheDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", &hintError{fmt.Errorf("%w: %w", ErrNoCacheDir, err), "set XDG_CACHE_HOME"}
	}
	return filepath.Join(base, "archc"), nil
}

// OpenCache opens (creating if needed) a cache rooted at dir; "" means DefaultCacheDir.
// Tests point it at t.TempDir().
func OpenCache(dir string) (*Cache, error) {
	if dir == "" {
		d, err := DefaultCacheDir()
		if err != nil {
			return nil, err
		}
		dir = d
	}
	if err := os.MkdirAll(filepath.Join(dir, "blobs"), 0o755); err != nil {
		return nil, fmt.Errorf("open content cache: %w", err)
	}
	return &Cache{dir: dir}, nil
}

// Dir is the cache's root directory.
func (c *Cache) Dir() string { return c.dir }

func (c *Cache) path(d digest.Digest) string {
	return filepath.Join(c.dir, "blobs", d.Algorithm().String(), d.Encoded())
}

// Get returns the content with digest d (an image config, manifest or index). A miss is
// an error wrapping ErrNotCached.
func (c *Cache) Get(d digest.Digest) ([]byte, error) {
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("cache get %q: %w", d, err)
	}
	data, err := os.ReadFile(c.path(d))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", d, ErrNotCached)
	}
	if err != nil {
		return nil, fmt.Errorf("cache get %s: %w", d, err)
	}
	if d.Algorithm().FromBytes(data) != d {
		return nil, fmt.Errorf("%s: corrupt cache entry: %w", d, ErrNotCached)
	}
	return data, nil
}

// Has reports whether d is cached (without verifying it).
func (c *Cache) Has(d digest.Digest) bool {
	if d.Validate() != nil {
		return false
	}
	_, err := os.Stat(c.path(d))
	return err == nil
}

// Put stores data under its digest d after checking that they match.
func (c *Cache) Put(d digest.Digest, data []byte) error {
	if err := d.Validate(); err != nil {
		return fmt.Errorf("cache put %q: %w", d, err)
	}
	if got := d.Algorithm().FromBytes(data); got != d {
		return fmt.Errorf("cache put %s: content has digest %s", d, got)
	}
	p := c.path(d)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("cache put %s: %w", d, err)
	}
	return writeFileAtomic(p, data, 0o644)
}
