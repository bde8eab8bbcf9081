package compiler

import (
	"os"
	"sync"
)

// fileOnce reads each file once for a compile, however many builds read it: the builds
// of one component (one per platform) share its Dockerfile. The bytes are shared and
// must not be changed.
type fileOnce struct {
	mu    sync.Mutex
	files map[string]*readOnce
}

type readOnce struct {
	once sync.Once
	dt   []byte
	err  error
}

// read is os.ReadFile(path), read at most once.
func (f *fileOnce) read(path string) ([]byte, error) {
	f.mu.Lock()
	if f.files == nil {
		f.files = map[string]*readOnce{}
	}
	r, ok := f.files[path]
	if !ok {
		r = &readOnce{}
		f.files[path] = r
	}
	f.mu.Unlock()
	r.once.Do(func() { r.dt, r.err = os.ReadFile(path) })
	return r.dt, r.err
}
