package compiler

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	digest "github.com/opencontainers/go-digest"
	"github.com/tonistiigi/fsutil"
	fstypes "github.com/tonistiigi/fsutil/types"

	"github.com/archc-dev/archc/internal/atomicfile"
)

// racyMargin is how much older than the hashing that recorded it a file's mtime and ctime
// must be for its recorded digest to be trusted (git's "racily clean" entries): a file
// written again within the filesystem's timestamp granularity (a second on some, two on
// FAT) of being read could keep the same size and times. Such a file is read again until
// an index written later vouches for it.
const racyMargin = 2 * time.Second

// ctxIndex is the on-disk memo of one context's file digests, like git's index or
// fsutil's: a regular file whose size, mtime, ctime, inode, device and mode are those
// recorded is not read again. ctime cannot be set from user space, so a file rewritten and
// given its old mtime back (touch -d, tar, rsync -t) is still read.
type ctxIndex struct {
	// Started is when the hashing that wrote the index began (Unix ns).
	Started int64 `json:"started"`
	// Files are keyed by the walk's path.
	Files map[string]ctxIndexEntry `json:"files"`
}

type ctxIndexEntry struct {
	fileStat
	// Sum is the hex SHA-256 of the content.
	Sum string `json:"sum"`
}

// fileStat is what says a file is unchanged without reading it.
type fileStat struct {
	Size  int64  `json:"size"`
	Mtime int64  `json:"mtime"`
	Ctime int64  `json:"ctime"`
	Ino   uint64 `json:"ino"`
	Dev   uint64 `json:"dev"`
	Mode  uint32 `json:"mode"`
}

// ctxHasher computes context digests, reusing file digests from the indexes in store (nil:
// none, every file is read).
type ctxHasher struct {
	store *ctxStore
	now   func() time.Time
}

// ctxStore holds the context indexes of one spec, read from and saved to one file.
type ctxStore struct {
	mu      sync.Mutex
	m       map[string]*ctxIndex // by indexName
	used    map[string]bool
	changed bool
}

// loadCtxStore reads the indexes at path; a missing or corrupt file gives none.
func loadCtxStore(path string) *ctxStore {
	st := &ctxStore{m: map[string]*ctxIndex{}, used: map[string]bool{}}
	if dt, err := os.ReadFile(path); err == nil {
		if json.Unmarshal(dt, &st.m) != nil || st.m == nil {
			st.m = map[string]*ctxIndex{}
		}
	}
	return st
}

func (st *ctxStore) get(name string) *ctxIndex {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.used[name] = true
	if idx := st.m[name]; idx != nil && idx.Files != nil {
		return idx
	}
	return nil
}

func (st *ctxStore) set(name string, idx *ctxIndex) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.m[name], st.used[name], st.changed = idx, true, true
}

// save writes the indexes this run used to path, when one changed or some went unused.
func (st *ctxStore) save(path string) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if !st.changed && len(st.used) == len(st.m) {
		return nil
	}
	keep := make(map[string]*ctxIndex, len(st.used))
	for name := range st.used {
		if idx := st.m[name]; idx != nil {
			keep[name] = idx
		}
	}
	dt, err := json.Marshal(keep)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, dt, 0o600, atomicfile.MakeDir(0o700)) // the cache is private
}

// contextDigest hashes what fsutil would send from dir with excludes applied: for each
// entry in walk order its path, type and permission bits, and the content of regular files
// or the target of symlinks. Times and owners are left out: they do not change a build.
// It reads every file; ctxHasher.digest gives the same digest reading only changed files.
func contextDigest(ctx context.Context, dir string, excludes []string) (digest.Digest, error) {
	return ctxHasher{}.digest(ctx, dir, excludes)
}

// digest is contextDigest with the index of (dir, excludes) consulted and rewritten.
// A missing, unreadable or corrupt index only means files are read.
func (hr ctxHasher) digest(ctx context.Context, dir string, excludes []string) (digest.Digest, error) {
	now := time.Now
	if hr.now != nil {
		now = hr.now
	}
	started := now().UnixNano()
	var old *ctxIndex
	name := ""
	if hr.store != nil {
		name = indexName(dir, excludes)
		old = hr.store.get(name)
	}
	next := &ctxIndex{Started: started, Files: map[string]ctxIndexEntry{}}
	changed := old == nil
	h := sha256.New()
	root, err := fsutil.NewFS(dir)
	if err != nil {
		return "", err
	}
	filtered, err := fsutil.NewFilterFS(root, &fsutil.FilterOpt{ExcludePatterns: excludes})
	if err != nil {
		return "", err
	}
	fh := sha256.New()
	bufp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bufp)
	buf := *bufp
	var line []byte
	err = filtered.Walk(ctx, "/", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		// p NUL mode-in-octal NUL (the bytes fmt's "%s\x00%o\x00" gave, without its allocations).
		line = append(append(line[:0], p...), 0)
		line = strconv.AppendUint(line, uint64(info.Mode()&(fs.ModeType|fs.ModePerm)), 8)
		h.Write(append(line, 0))
		switch {
		case info.Mode().IsRegular():
			sum, reused, err := fileSum(filtered, filepath.Join(dir, p), p, old, next, fh, buf, hr.store != nil)
			if err != nil {
				return err
			}
			changed = changed || !reused
			h.Write([]byte(sum))
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
	if hr.store != nil && (changed || len(next.Files) != len(old.Files)) {
		hr.store.set(name, next)
	}
	return digest.NewDigest(digest.SHA256, h), nil
}

// fileSum is the hex SHA-256 of the regular file p (full path full): the recorded one when
// old vouches for it, else read. The result is recorded in next when useIndex.
func fileSum(fsys fsutil.FS, full, p string, old, next *ctxIndex, fh hash.Hash, buf []byte, useIndex bool) (string, bool, error) {
	var st fileStat
	ok := false
	if useIndex {
		st, ok = statFile(full)
	}
	if ok && old != nil {
		if e, found := old.Files[p]; found && e.fileStat == st && trusted(st, old.Started) {
			next.Files[p] = e
			return e.Sum, true, nil
		}
	}
	rc, err := fsys.Open(p)
	if err != nil {
		return "", false, err
	}
	fh.Reset()
	// Only the Reader: an *os.File's WriteTo would ignore buf and allocate its own.
	_, err = io.CopyBuffer(fh, struct{ io.Reader }{rc}, buf)
	rc.Close()
	if err != nil {
		return "", false, err
	}
	var sb [sha256.Size]byte
	sum := hex.EncodeToString(fh.Sum(sb[:0]))
	if ok {
		next.Files[p] = ctxIndexEntry{fileStat: st, Sum: sum}
	}
	return sum, false, nil
}

// copyBufs are the read buffers of context hashing: one per context would be 32 KiB × the
// components of a large spec, most of it for files of a few bytes.
var copyBufs = sync.Pool{New: func() any {
	b := make([]byte, 32*1024)
	return &b
}}

// trusted says whether a digest recorded for a file with st by a hashing that started at
// started can be reused: the file's times are clearly older than that hashing, so any
// later write would show in them.
func trusted(st fileStat, started int64) bool {
	limit := started - int64(racyMargin)
	return st.Mtime < limit && st.Ctime < limit
}

// indexName names the index of a context (a directory and its exclude patterns), and the
// snapshot of a spec (its directory and files).
func indexName(dir string, more []string) string {
	sum := sha256.Sum256([]byte(dir + "\x00" + strings.Join(more, "\x00")))
	return hex.EncodeToString(sum[:])
}
