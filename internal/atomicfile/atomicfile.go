// Package atomicfile writes a file whole or not at all: the content goes to a temporary
// file next to the target, which is renamed over it, so a reader (or a run that is killed)
// sees the old content or the new, never a part. It owns nothing else; the lock, plan
// files, the content and compile caches and archc's state all write through it.
package atomicfile

import (
	"io"
	"os"
	"path/filepath"
)

// TempPrefix starts the name of every temporary file Write creates, so a cache can prune
// the ones a killed process left behind.
const TempPrefix = ".tmp-"

// Write writes path with the content write produces, with permissions perm. On any error
// the temporary file is removed and path is left as it was.
func Write(path string, perm os.FileMode, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), TempPrefix+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	err = write(f)
	if err == nil {
		err = f.Chmod(perm)
	}
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

// WriteFile is Write of data.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	return Write(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}
