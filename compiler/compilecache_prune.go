package compiler

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	digest "github.com/opencontainers/go-digest"

	"github.com/archc-dev/archc/internal/atomicfile"
)

// snapshotMagic starts a snapshot file.
const snapshotMagic = "archc-compile-snapshot/1\n"

// finish ends a compile through cc: it completes the spec's snapshot when a build was
// compiled or one was left out (the plan changed), saves the context indexes, and bounds
// the cache. Errors are ignored: a cache that cannot be written costs the next run a compile.
func (cc *compileCache) finish() {
	if cc == nil || cc.name == "" {
		return
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	path := cc.name + ".builds"
	out := cc.out
	cc.out = nil
	if cc.changed || len(cc.used) != len(cc.snap) {
		if out == nil {
			out, _ = newSnapshotWriter(path)
		}
		if out != nil {
			// The entries read, and any compiled that out could not take, in key order.
			for _, k := range slices.Sorted(maps.Keys(cc.used)) {
				if raw := cc.used[k]; raw != nil {
					out.add(k, raw)
				}
			}
			_ = out.commit()
		}
	} else {
		if out != nil {
			out.abort()
		}
		cc.touch(path)
	}
	if cc.ctxs != nil {
		_ = cc.ctxs.save(cc.name + ".contexts")
	}
	cc.prune(time.Now())
}

// readSnapshot returns the entries of the snapshot at path by key: those before the first
// malformed record of a torn file; none for a missing or foreign one.
func readSnapshot(path string) map[digest.Digest][]byte {
	out := map[digest.Digest][]byte{}
	dt, err := os.ReadFile(path)
	if err != nil || !bytes.HasPrefix(dt, []byte(snapshotMagic)) {
		return out
	}
	dt = dt[len(snapshotMagic):]
	for len(dt) > 32 {
		key := digest.NewDigestFromBytes(digest.SHA256, dt[:32])
		n, w := binary.Uvarint(dt[32:])
		if w <= 0 || n > uint64(len(dt)-32-w) {
			break
		}
		start := 32 + w
		out[key] = dt[start : start+int(n)]
		dt = dt[start+int(n):]
	}
	return out
}

func hexDecode32(s string) ([32]byte, error) {
	var out [32]byte
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		return out, fs.ErrInvalid
	}
	copy(out[:], b)
	return out, nil
}

// touch marks a snapshot used (prune removes the least recently used), at most once a day.
func (cc *compileCache) touch(p string) {
	if fi, err := os.Stat(p); err == nil && time.Since(fi.ModTime()) > 24*time.Hour {
		now := time.Now()
		_ = os.Chtimes(p, now, now)
	}
}

type cacheFile struct {
	path string
	size int64
	used time.Time
}

// prune removes the snapshots and context indexes unused for maxAge, then the least
// recently used until the rest fits in maxBytes.
func (cc *compileCache) prune(now time.Time) {
	var files []cacheFile
	var total int64
	_ = filepath.WalkDir(filepath.Join(cc.dir, "plans"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		if age := now.Sub(fi.ModTime()); age > cc.maxAge || (strings.HasPrefix(d.Name(), atomicfile.TempPrefix) && age > staleTemp) {
			os.Remove(p)
			return nil
		}
		files = append(files, cacheFile{p, fi.Size(), fi.ModTime()})
		total += fi.Size()
		return nil
	})
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
