package compiler

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	digest "github.com/opencontainers/go-digest"
	"github.com/tonistiigi/fsutil"
	fstypes "github.com/tonistiigi/fsutil/types"
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

// ctxHasher computes context digests, reusing file digests from the indexes in dir ("":
// none, every file is read).
type ctxHasher struct {
	dir string
	now func() time.Time
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
	idxPath := ""
	if hr.dir != "" {
		idxPath = filepath.Join(hr.dir, indexName(dir, excludes))
		old = readCtxIndex(idxPath)
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
	buf := make([]byte, 32*1024)
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
			sum, reused, err := fileSum(filtered, filepath.Join(dir, p), p, old, next, fh, buf, hr.dir != "")
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
	if idxPath != "" && (changed || len(next.Files) != len(old.Files)) {
		// Best effort: a cache that cannot be written only costs the next run reads.
		_ = writeCtxIndex(idxPath, next)
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
	_, err = io.CopyBuffer(fh, rc, buf)
	rc.Close()
	if err != nil {
		return "", false, err
	}
	sum := hex.EncodeToString(fh.Sum(nil))
	if ok {
		next.Files[p] = ctxIndexEntry{fileStat: st, Sum: sum}
	}
	return sum, false, nil
}

// trusted says whether a digest recorded for a file with st by a hashing that started at
// started can be reused: the file's times are clearly older than that hashing, so any
// later write would show in them.
func trusted(st fileStat, started int64) bool {
	limit := started - int64(racyMargin)
	return st.Mtime < limit && st.Ctime < limit
}

// indexName is the index file of a context: one per directory and exclude patterns.
func indexName(dir string, excludes []string) string {
	sum := sha256.Sum256([]byte(dir + "\x00" + strings.Join(excludes, "\x00")))
	return hex.EncodeToString(sum[:])
}

func readCtxIndex(path string) *ctxIndex {
	dt, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var idx ctxIndex
	if err := json.Unmarshal(dt, &idx); err != nil || idx.Files == nil {
		return nil
	}
	return &idx
}

func writeCtxIndex(path string, idx *ctxIndex) error {
	dt, err := json.Marshal(idx)
	if err != nil {
		return err
	}
	return writeFileAtomic(path, dt)
}

// writeFileAtomic writes data to path through a temporary file renamed into place, so a
// reader sees the old content or the new, never a part.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}
