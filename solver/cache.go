package solver

import (
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"

	"github.com/moby/buildkit/client"
	gateway "github.com/moby/buildkit/frontend/gateway/client"

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

// gatewayCacheImports are the cache imports of the solve a gateway callback runs in.
// client.Build passes SolveOpt.CacheImports to the callback as the frontend option
// "cache-imports" (after reading local caches' index.json and attaching their stores to
// the session), but a definition solved through the gateway imports only what its own
// SolveRequest.CacheImports names: each c.Solve must pass these, or nothing is imported.
func gatewayCacheImports(c gateway.Client) ([]gateway.CacheOptionsEntry, error) {
	v, ok := c.BuildOpts().Opts["cache-imports"]
	if !ok || v == "" {
		return nil, nil
	}
	var out []gateway.CacheOptionsEntry
	if err := json.Unmarshal([]byte(v), &out); err != nil {
		return nil, fmt.Errorf("read the solve's cache imports: %w", err)
	}
	return out, nil
}

// cloneCacheEntries copies entries for one solve: BuildKit's client writes into an entry's
// Attrs (a local import's "digest"), and a job's platforms may be solved at once.
func cloneCacheEntries(entries []client.CacheOptionsEntry) []client.CacheOptionsEntry {
	if entries == nil {
		return nil
	}
	out := make([]client.CacheOptionsEntry, len(entries))
	for i, e := range entries {
		out[i] = client.CacheOptionsEntry{Type: e.Type, Attrs: maps.Clone(e.Attrs)}
	}
	return out
}
