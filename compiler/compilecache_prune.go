package compiler

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// prunePeriod is how often a compile that wrote to the cache looks for entries to remove.
const prunePeriod = time.Hour

// prune bounds the cache after a compile that wrote to it, at most once per prunePeriod:
// entries (and context indexes) unused for maxAge go, then the least recently used until
// the rest fits in maxBytes. Errors are ignored: pruning again later is as good.
func (cc *compileCache) prune() {
	if cc == nil {
		return
	}
	cc.mu.Lock()
	wrote := cc.wrote
	cc.mu.Unlock()
	if !wrote {
		return
	}
	stamp := filepath.Join(cc.dir, "pruned")
	if fi, err := os.Stat(stamp); err == nil && time.Since(fi.ModTime()) < prunePeriod {
		return
	}
	if writeFileAtomic(stamp, nil) != nil {
		return
	}
	cc.pruneNow(time.Now())
}

type cacheFile struct {
	path string
	size int64
	used time.Time
}

// pruneNow removes what prune would, as of now.
func (cc *compileCache) pruneNow(now time.Time) {
	var files []cacheFile
	var total int64
	for _, sub := range []string{"builds", "contexts"} {
		_ = filepath.WalkDir(filepath.Join(cc.dir, sub), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			fi, err := d.Info()
			if err != nil {
				return nil
			}
			if now.Sub(fi.ModTime()) > cc.maxAge {
				os.Remove(p)
				return nil
			}
			files = append(files, cacheFile{p, fi.Size(), fi.ModTime()})
			total += fi.Size()
			return nil
		})
	}
	if total <= cc.maxBytes {
		return
	}
	slices.SortFunc(files, func(a, b cacheFile) int { return a.used.Compare(b.used) })
	for _, f := range files {
		if total <= cc.maxBytes {
			break
		}
		if os.Remove(f.path) == nil {
			total -= f.size
		}
	}
}
