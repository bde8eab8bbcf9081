// Package atomicfile writes a file whole or not at all: the content goes to a temporary
// file next to the target, which is renamed over it, so a reader (or a run that is killed)
// sees the old content or the new, never a part. It owns nothing else; the lock, plan
// files, the content and compile caches, archc's state and the specs fmt and init write
// all go through it.
package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
)

// TempPrefix starts the name of every temporary file Create makes, so a cache can prune
// the ones a killed process left behind.
const TempPrefix = ".tmp-"

// Option changes how Create (and Write, WriteFile) makes the file.
type Option func(*options)

type options struct {
	dirPerm os.FileMode // 0: the directory must exist
}

// MakeDir makes the file's directory, and its parents, with permissions perm when they are
// missing (os.MkdirAll). Without it a missing directory is an error.
func MakeDir(perm os.FileMode) Option {
	return func(o *options) { o.dirPerm = perm }
}

// Pending is a file being written: what is written goes to a temporary file beside the
// target until Commit renames it over the target. A Pending neither committed nor aborted
// leaves its temporary file behind (named with TempPrefix).
type Pending struct {
	f    *os.File
	path string
	perm os.FileMode
	done bool
}

// Create starts writing path, with permissions perm once committed.
func Create(path string, perm os.FileMode, opts ...Option) (*Pending, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	dir := filepath.Dir(path)
	if o.dirPerm != 0 {
		if err := os.MkdirAll(dir, o.dirPerm); err != nil {
			return nil, err
		}
	}
	f, err := os.CreateTemp(dir, TempPrefix+filepath.Base(path)+"-*")
	if err != nil {
		return nil, err
	}
	return &Pending{f: f, path: path, perm: perm}, nil
}

// Write writes b to the temporary file.
func (p *Pending) Write(b []byte) (int, error) {
	return p.f.Write(b)
}

// Name is the temporary file's path: what has been written can be read there until Commit
// or Abort.
func (p *Pending) Name() string {
	return p.f.Name()
}

// Commit replaces the target with what was written. On error the temporary file is removed
// and the target is left as it was.
func (p *Pending) Commit() error {
	if p.done {
		return errors.New("atomicfile: " + p.path + " already committed or aborted")
	}
	p.done = true
	err := p.f.Chmod(p.perm)
	if cerr := p.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(p.f.Name(), p.path)
	}
	if err != nil {
		os.Remove(p.f.Name())
	}
	return err
}

// Abort drops what was written and leaves the target as it was. It does nothing after
// Commit or Abort, so it can be deferred.
func (p *Pending) Abort() {
	if p.done {
		return
	}
	p.done = true
	p.f.Close()
	os.Remove(p.f.Name())
}

// Write writes path with the content write produces, with permissions perm. On any error
// the temporary file is removed and path is left as it was.
func Write(path string, perm os.FileMode, write func(io.Writer) error, opts ...Option) error {
	p, err := Create(path, perm, opts...)
	if err != nil {
		return err
	}
	if err := write(p); err != nil {
		p.Abort()
		return err
	}
	return p.Commit()
}

// WriteFile is Write of data.
func WriteFile(path string, data []byte, perm os.FileMode, opts ...Option) error {
	return Write(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	}, opts...)
}
