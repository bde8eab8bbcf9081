package compiler

import (
	"bufio"
	"encoding/binary"
	"io"
	"time"

	digest "github.com/opencontainers/go-digest"

	"github.com/archc-dev/archc/internal/atomicfile"
)

// snapshotWriter writes a snapshot as its entries are compiled, to a temporary file beside
// it that commit renames into place (atomicfile): a cold plan of a large spec then neither
// holds every encoded entry until the end nor writes them all after compiling. A plan that
// fails leaves the temporary file to abort, or to prune (staleTemp) when the process ends
// first.
type snapshotWriter struct {
	out *atomicfile.Pending
	bw  *bufio.Writer
	err error
}

// staleTemp is the age after which prune removes a temporary file: no archc writes one for
// that long, so its writer is gone.
const staleTemp = time.Hour

// newSnapshotWriter starts a snapshot to be committed to path.
func newSnapshotWriter(path string) (*snapshotWriter, error) {
	out, err := atomicfile.Create(path, 0o600, atomicfile.MakeDir(0o700))
	if err != nil {
		return nil, err
	}
	w := &snapshotWriter{out: out, bw: bufio.NewWriterSize(out, 256<<10)}
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

// commit renames the snapshot into place, the path it was started for, once every entry
// is written.
func (w *snapshotWriter) commit() error {
	err := w.err
	if err == nil {
		err = w.bw.Flush()
	}
	if err != nil {
		w.out.Abort()
		return err
	}
	return w.out.Commit()
}

// abort drops the snapshot.
func (w *snapshotWriter) abort() {
	w.out.Abort()
}
