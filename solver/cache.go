package solver

import (
	"fmt"
	"path/filepath"

	"github.com/moby/buildkit/client"

	"github.com/archc-dev/archc/spec"
)

// cacheOptions turns a build's cache entries, as the plan records them (buildx CSV, local
// directories relative to the spec's), into BuildKit's cache options for a solve, local
// directories absolute against specDir. The directories are on archc's machine: the client
// reads and writes them and streams the content through the session, so type=local works
// with a remote builder too. Registry refs are pushed and pulled by the daemon with its
// own registry settings (buildkitd.toml: archc renders the spec's registry blocks into the
// local builder's).
func cacheOptions(entries []string, export bool, specDir string) ([]client.CacheOptionsEntry, error) {
	var out []client.CacheOptionsEntry
	for _, s := range entries {
		e, err := spec.ParseCacheEntry(s, export)
		if err != nil {
			return nil, fmt.Errorf("cache entry %q: %w", spec.SafeLine(s), err)
		}
		if e.Type == spec.CacheLocal {
			for _, k := range []string{"src", "dest"} {
				if p, ok := e.Attrs[k]; ok && !filepath.IsAbs(p) {
					e.Attrs[k] = filepath.Join(specDir, filepath.FromSlash(p))
				}
			}
		}
		out = append(out, client.CacheOptionsEntry{Type: e.Type, Attrs: e.Attrs})
	}
	return out, nil
}
