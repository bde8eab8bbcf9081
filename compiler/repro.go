package compiler

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/archc-dev/archc/spec"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
)

// Reproducible output: with an epoch, the same plan gives the same image digests on any
// builder. The compile passes it as the SOURCE_DATE_EPOCH build arg (the Dockerfile
// frontend stamps history entries and WORKDIR directories with it) and writes it as the
// image config's created time; the solver asks the exporters to clamp every layer's file
// times to it (rewrite-timestamp). What the epoch cannot fix is a step whose input changes
// between builds: reproIssues finds the ones visible in the LLB.

// argSourceDateEpoch is the build arg BuildKit's Dockerfile frontend and exporters read.
const argSourceDateEpoch = "SOURCE_DATE_EPOCH"

// sourceDateEpoch is the epoch of comp's builds for one platform's args, in decimal
// seconds: the spec's source_date_epoch, else a numeric SOURCE_DATE_EPOCH arg (as bake users
// set it); "" for none. When both are set and differ, the attribute wins, with a warning.
func (c *compilation) sourceDateEpoch(comp *spec.Component, args map[string]string) string {
	arg, hasArg := args[argSourceDateEpoch]
	if comp.SourceDateEpoch == nil {
		if n, err := strconv.ParseInt(arg, 10, 64); hasArg && err == nil && n >= 0 {
			return arg
		}
		return ""
	}
	epoch := strconv.FormatInt(*comp.SourceDateEpoch, 10)
	if hasArg && arg != epoch {
		c.warnf("%s: build arg %s ignored: source_date_epoch = %s sets it", comp.Name, argSourceDateEpoch, epoch)
	}
	return epoch
}

// withEpoch is the build args the Dockerfile frontend gets: args with SOURCE_DATE_EPOCH
// set to epoch (a copy; "" leaves args as they are).
func withEpoch(args map[string]string, epoch string) map[string]string {
	out := cloneMap(args)
	if epoch == "" {
		return out
	}
	if out == nil {
		out = map[string]string{}
	}
	out[argSourceDateEpoch] = epoch
	return out
}

// stampCreated sets the image config's created time to the epoch the frontend resolved, the
// time the exporter would write: the plan's config (and its digest) is then the exported
// one, and a changed epoch changes the build's identity even for a Dockerfile with no
// instruction to stamp.
func stampCreated(res *dockerfile2llb.Result) {
	if res.Epoch == nil || res.Image == nil {
		return
	}
	t := res.Epoch.UTC()
	res.Image.Created = &t
}

// reproIssues lists the steps of def whose output can change between two builds of the
// same plan, whatever the epoch: each "LOCATION: why", sorted, without duplicates.
// dockerfile names steps the source map does not locate (a named context's).
//   - ADD of an http(s) URL without --checksum: the server may send other bytes;
//   - a RUN step on the host's network (RUN --network=host, network = "host"): it reaches
//     whatever the host reaches, outside BuildKit's sandbox.
//
// A RUN step that downloads over the default network (apt-get, npm install with no lock
// file) cannot be told from one that does not; the README says so.
func reproIssues(d *defOps) []string {
	def := d.def
	users := map[digest.Digest][]digest.Digest{} // op → the ops that take it as an input
	for _, o := range d.ops {
		for _, in := range o.op.Inputs {
			users[digest.Digest(in.Digest)] = append(users[digest.Digest(in.Digest)], o.dgst)
		}
	}
	var out []string
	for _, o := range d.ops {
		dgst, op := o.dgst, o.op
		switch {
		case op.GetSource() != nil:
			src := op.GetSource()
			url := src.Identifier
			if !strings.HasPrefix(url, "https://") && !strings.HasPrefix(url, "http://") || src.Attrs[pb.AttrHTTPChecksum] != "" {
				continue
			}
			// The source map locates the ADD's copy, not the download it copies from.
			where := "ADD " + spec.RedactURL(url)
			for _, u := range append([]digest.Digest{dgst}, users[dgst]...) {
				if step, ok := stepSource(def, u); ok {
					where = step.String()
					break
				}
			}
			out = append(out, where+": downloads a URL without --checksum; the server may send other bytes next time (ADD --checksum=sha256:...)")
		case op.GetExec() != nil && op.GetExec().Network == pb.NetMode_HOST:
			where := stepLocation(def, dgst, "a RUN step of a named context")
			out = append(out, where+": runs on the host's network, outside BuildKit's sandbox; what it fetches may differ next time")
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// reproText is the text view's epoch line: the epoch, and whether the plan found a step
// that defeats it.
func reproText(b *Build) string {
	switch n := len(b.Unreproducible); n {
	case 0:
		return b.SourceDateEpoch + " (reproducible)"
	case 1:
		return b.SourceDateEpoch + " (not reproducible: 1 step, see warnings)"
	default:
		return fmt.Sprintf("%s (not reproducible: %d steps, see warnings)", b.SourceDateEpoch, n)
	}
}
