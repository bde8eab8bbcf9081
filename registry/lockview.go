package registry

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/archc-dev/archc/spec"
)

// LockReport is what `archc lock` did: the file it wrote, how many images it pins and
// what happened to each reference's pin.
type LockReport struct {
	// File is the lock file written, as the user names it (archbuild.lock.hcl).
	File string
	// Images is the number of image entries in the lock written.
	Images int
	// Changes has one entry per reference, in the lock's order.
	Changes []LockChange
}

// LockView renders a LockReport in one format.
type LockView interface {
	// Lock renders what `archc lock` did.
	Lock(w io.Writer, r LockReport) error
	// Changes renders only the pins that changed, as plan reports the pins it added.
	Changes(w io.Writer, changes []LockChange) error
}

// LockFormats are the names NewLockView accepts.
var LockFormats = []string{"text", "json"}

// NewLockView returns the view for format: "text" (for people) or "json" (for machines;
// see jsonLockReport).
func NewLockView(format string) (LockView, error) {
	switch format {
	case "text", "":
		return lockTextView{}, nil
	case "json":
		return lockJSONView{}, nil
	default:
		return nil, fmt.Errorf("unknown format %q (want one of text, json)", format)
	}
}

type lockTextView struct{}

// Lock writes the changes, then what was written.
func (v lockTextView) Lock(w io.Writer, r LockReport) error {
	if err := v.Changes(w, r.Changes); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "Wrote %s: %d images.\n", spec.SafeLine(r.File), r.Images)
	return err
}

// Changes writes one line per reference: what lock did with its pin. References and
// registry errors are escaped to one line (spec.SafeLine): a tag holding an ESC sequence or
// a registry's error body could otherwise drive the reader's terminal.
func (lockTextView) Changes(w io.Writer, changes []LockChange) error {
	for _, ch := range changes {
		ref := spec.SafeLine(ch.Ref)
		var err error
		switch ch.Kind {
		case ChangeAdded:
			_, err = fmt.Fprintf(w, "+ %s %s\n", ref, ch.New)
		case ChangeUpdated:
			_, err = fmt.Fprintf(w, "~ %s %s -> %s\n", ref, ch.Old, ch.New)
		case ChangeMoved:
			_, err = fmt.Fprintf(w, "! %s: tag now points to %s; kept the pin %s (move it: archc lock --update --image %s)\n", ref, ch.New, ch.Old, ref)
		case ChangePlatforms:
			_, err = fmt.Fprintf(w, "+ %s %s: added platforms %v\n", ref, ch.Old, ch.Platforms)
		case ChangeUnchecked:
			_, err = fmt.Fprintf(w, "? %s: kept %s; could not check the tag: %s\n", ref, ch.Old, spec.SafeLine(fmt.Sprint(ch.Err)))
		case ChangeRemoved:
			_, err = fmt.Fprintf(w, "- %s (no longer used)\n", ref)
		default:
			_, err = fmt.Fprintf(w, "  %s %s\n", ref, ch.Old)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// LockJSONFormatVersion is the format_version of the lock report's JSON view; it changes
// only when a field is renamed or removed.
const LockJSONFormatVersion = 1

// jsonLockReport is the JSON view's schema.
type jsonLockReport struct {
	FormatVersion int              `json:"format_version"`
	File          string           `json:"file,omitempty"`
	Images        int              `json:"images"`
	Changes       []jsonLockChange `json:"changes"`
}

// jsonLockChange is one reference: kind is one of the ChangeKind values; old and new are
// index digests (new is where a moved tag points now); error says why a tag went unchecked.
type jsonLockChange struct {
	Ref       string     `json:"ref"`
	Kind      ChangeKind `json:"kind"`
	Old       string     `json:"old,omitempty"`
	New       string     `json:"new,omitempty"`
	Platforms []string   `json:"platforms,omitempty"`
	Error     string     `json:"error,omitempty"`
}

type lockJSONView struct{}

// Lock writes the report as one indented JSON object.
func (lockJSONView) Lock(w io.Writer, r LockReport) error {
	return writeLockJSON(w, jsonLockReport{FormatVersion: LockJSONFormatVersion, File: r.File, Images: r.Images,
		Changes: jsonChanges(r.Changes)})
}

// Changes writes the changes as an object with format_version and changes.
func (lockJSONView) Changes(w io.Writer, changes []LockChange) error {
	return writeLockJSON(w, jsonLockReport{FormatVersion: LockJSONFormatVersion, Changes: jsonChanges(changes)})
}

func jsonChanges(changes []LockChange) []jsonLockChange {
	out := make([]jsonLockChange, len(changes))
	for i, ch := range changes {
		jc := jsonLockChange{Ref: ch.Ref, Kind: ch.Kind, Old: ch.Old.String(), New: ch.New.String(), Platforms: ch.Platforms}
		if ch.Err != nil {
			jc.Error = Redact(ch.Err.Error())
		}
		out[i] = jc
	}
	return out
}

func writeLockJSON(w io.Writer, out jsonLockReport) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("encode the lock report: %w", err)
	}
	return nil
}
