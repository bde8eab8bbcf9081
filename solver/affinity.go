package solver

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/archc-dev/archc/internal/atomicfile"
	"github.com/archc-dev/archc/spec"
)

// AffinityFormatVersion is the format_version of affinity.json.
const AffinityFormatVersion = 1

// maxAffinityFile bounds what is read of affinity.json: it is a hint, not worth a big read.
const maxAffinityFile = 4 << 20

// Affinity remembers which builder built each component × platform last, per spec, so
// the next run sends the build back to the node whose cache has its layers. It lives in
// $XDG_STATE_HOME/archc/affinity.json, is read at the start of a run and written at its
// end. A missing, unreadable or corrupt file is an empty memory, never an error: it only
// steers the choice among builders that are all able to run the build.
type Affinity struct {
	path string
	spec string

	mu   sync.Mutex
	last map[string]string // "component platform" → builder, for this spec
}

type affinityFile struct {
	FormatVersion int                          `json:"format_version"`
	Specs         map[string]map[string]string `json:"specs"`
}

// AffinityPath is $XDG_STATE_HOME/archc/affinity.json (~/.local/state when unset).
func AffinityPath() (string, error) {
	root, err := stateRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "affinity.json"), nil
}

// LoadAffinity reads the builds' last builders for the spec s (keyed by its files'
// absolute paths) from path.
func LoadAffinity(path string, s *spec.Spec) *Affinity {
	a := &Affinity{path: path, spec: specKey(s), last: map[string]string{}}
	if f := readAffinity(path); f.Specs != nil {
		for k, v := range f.Specs[a.spec] {
			a.last[k] = v
		}
	}
	return a
}

func specKey(s *spec.Spec) string {
	var files []string
	for _, f := range s.Files {
		if abs, err := filepath.Abs(f); err == nil {
			f = abs
		}
		files = append(files, f)
	}
	return strings.Join(files, ",")
}

func readAffinity(path string) affinityFile {
	var f affinityFile
	fh, err := os.Open(path)
	if err != nil {
		return f
	}
	defer fh.Close()
	dt, err := io.ReadAll(io.LimitReader(fh, maxAffinityFile+1))
	if err != nil || len(dt) > maxAffinityFile || json.Unmarshal(dt, &f) != nil || f.FormatVersion != AffinityFormatVersion {
		return affinityFile{}
	}
	return f
}

// Last is the builder that built component's platform last, or "".
func (a *Affinity) Last(component, platform string) string {
	if a == nil {
		return ""
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.last[component+" "+platform]
}

// Record notes that builder built component's platform.
func (a *Affinity) Record(component, platform, builder string) {
	if a == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.last[component+" "+platform] = builder
}

// Save writes the memory back, merged into what other specs left in the file, by a
// rename: a concurrent reader sees the old file or the new one, never half of one.
func (a *Affinity) Save() error {
	if a == nil || a.path == "" {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	f := readAffinity(a.path)
	if f.Specs == nil {
		f = affinityFile{FormatVersion: AffinityFormatVersion, Specs: map[string]map[string]string{}}
	}
	f.Specs[a.spec] = a.last
	dt, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(a.path, append(dt, '\n')); err != nil {
		return fmt.Errorf("save builder affinity: %w", err)
	}
	return nil
}

// writeFileAtomic writes dt to path whole or not at all (atomicfile), making its directory.
func writeFileAtomic(path string, dt []byte) error {
	return atomicfile.WriteFile(path, dt, 0o644, atomicfile.MakeDir(0o755))
}
