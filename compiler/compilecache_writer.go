package compiler

import (
	"bufio"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"time"

	digest "github.com/opencontainers/go-digest"

	"github.com/archc-dev/archc/internal/atomicfile"
)

// snapshotWriter writes a snapshot as its entries are compiled, to a temporary file beside
// it that commit renames into place: a cold plan of a large spec then neither holds every
// encoded entry until the end nor writes them all after compiling. A plan that fails
// leaves the temporary file to abort, or to prune (staleTemp) when the process ends first.
type snapshotWriter struct {
	f   *os.File
	bw  *bufio.Writer
	err error
}

// staleTemp is the age after which prune removes a temporary file: no archc writes one for
// that long, so its writer is gone.
const staleTemp = time.Hour

// newSnapshotWriter starts a snapshot to be committed to path.
func newSnapshotWriter(path string) (*snapshotWriter, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, atomicfile.TempPrefix+"*")
	if err != nil {
		return nil, err
	}
	w := &snapshotWriter{f: f, bw: bufio.NewWriterSize(f, 256<<10)}
	_, w.err = w.bw.WriteString(snapshotMagic)
	return w, nil
}

// add writes the entry raw of key; the first error is kept for commit.
func (w *snapshotWriter) add(key digest.Digest, raw []byte) {
	if w.err == nil {
		w.err = writeRecord(w.bw, key, raw)
	}
}

// writeRecord writes one snapshot record: the key's 32 bytes, the entry's length as a
// uvarint and the entry (which carries its own checksum).
func writeRecord(w io.Writer, key digest.Digest, raw []byte) error {
	sum, err := hexDecode32(key.Encoded())
	if err != nil {
		return nil // not a key of ours: left out
	}
	var n [binary.MaxVarintLen64]byte
	if _, err := w.Write(sum[:]); err != nil {
		return err
	}
	if _, err := w.Write(n[:binary.PutUvarint(n[:], uint64(len(raw)))]); err != nil {
		return err
	}
	_, err = w.Write(raw)
	return err
}

// commit renames the snapshot into path once every entry is written.
func (w *snapshotWriter) commit(path string) error {
	err := w.err
	if err == nil {
		err = w.bw.Flush()
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(w.f.Name(), path)
	}
	if err != nil {
		os.Remove(w.f.Name())
	}
	return err
}

// abort drops the snapshot.
func (w *snapshotWriter) abort() {
	w.f.Close()
	os.Remove(w.f.Name())
}
