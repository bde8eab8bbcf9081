package registry

import (
	"maps"

	"github.com/hashicorp/hcl/v2"
)

// lockPos names one place in a lock file: an image's digest ({ref, "", "digest"}) or host, a
// platform block's label ({ref, platform, ""}) or a platform's manifest or config.
type lockPos struct{ ref, platform, attr string }

// lockRanges locates the pins of a lock read from a file, so a pin that content
// contradicts is reported where it is written. A lock built in memory has none.
type lockRanges map[lockPos]hcl.Range

// set records where a block writes its pins: label (an image block's definition, a
// platform block's label) for {ref, platform, ""}, each attribute's value for its name.
// parseImage and parsePlatform call it with the content they decoded.
func (at lockRanges) set(ref, platform string, label hcl.Range, attrs hcl.Attributes) {
	at[lockPos{ref, platform, ""}] = label
	for name, a := range attrs {
		at[lockPos{ref, platform, name}] = a.Expr.Range()
	}
}

// locate adds the ranges of an image block that parsed without errors.
func (l *Lock) locate(at lockRanges) {
	if l.at == nil {
		l.at = lockRanges{}
	}
	maps.Copy(l.at, at)
}

// rangeOf is where pos is written, falling back to the enclosing platform label, then the
// image block; nil when the lock was not read from a file.
func (l *Lock) rangeOf(pos lockPos) *hcl.Range {
	for _, p := range []lockPos{pos, {pos.ref, pos.platform, ""}, {pos.ref, "", ""}} {
		if r, ok := l.at[p]; ok {
			return &r
		}
	}
	return nil
}
