package registry

import "github.com/hashicorp/hcl/v2"

// lockPos names one place in a lock file: an image's digest ({ref, "", "digest"}), a
// platform block's label ({ref, platform, ""}) or a platform's manifest or config.
type lockPos struct{ ref, platform, attr string }

// lockRanges locates the pins of a lock read from a file, so a pin that content
// contradicts is reported where it is written. A lock built in memory has none.
type lockRanges map[lockPos]hcl.Range

// locate records where image block blk (already parsed without errors) writes its pins.
func (l *Lock) locate(blk *hcl.Block) {
	c, diags := blk.Body.Content(imageSchema)
	if diags.HasErrors() {
		return
	}
	if l.at == nil {
		l.at = lockRanges{}
	}
	ref := blk.Labels[0]
	l.at[lockPos{ref, "", ""}] = blk.DefRange
	if a := c.Attributes["digest"]; a != nil {
		l.at[lockPos{ref, "", "digest"}] = a.Expr.Range()
	}
	for _, pb := range c.Blocks {
		p := pb.Labels[0]
		l.at[lockPos{ref, p, ""}] = pb.LabelRanges[0]
		pc, diags := pb.Body.Content(platformSchema)
		if diags.HasErrors() {
			continue
		}
		for name, a := range pc.Attributes {
			l.at[lockPos{ref, p, name}] = a.Expr.Range()
		}
	}
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
