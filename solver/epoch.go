package solver

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	commonexptypes "github.com/moby/buildkit/exporter/exptypes"
)

// Reproducible output. A build with source_date_epoch carries the epoch in its image config
// as the created time (the compiler writes it there: compiler.Build.SourceDateEpoch), so
// the config the plan file checks is the one place it is said. With it, every exporter
// gets source-date-epoch (history and created times clamped to it; a local output's file
// times set to it) and the image exporters rewrite-timestamp too: each layer's file times
// are clamped to the epoch and the layer is compressed again, so the same plan pushes the
// same layer, manifest and index digests from any builder, at any time.

// Exporter attributes of BuildKit's image, oci and docker exporters
// (exporter/containerimage/exptypes, exporter/exptypes).
var (
	attrSourceDateEpoch  = string(commonexptypes.OptKeySourceDateEpoch)
	attrRewriteTimestamp = string(exptypes.OptKeyRewriteTimestamp)
)

// jobEpoch is the epoch of j's builds in decimal seconds, "" when they have none. Every
// platform of a component has the same (source_date_epoch is per component); builds that
// disagree are refused rather than exported with one of them.
func jobEpoch(j *Job) (string, error) {
	epoch := ""
	for i, b := range j.Builds {
		e, err := configEpoch(b.ImageConfig)
		if err != nil {
			return "", fmt.Errorf("component %s (%s): %w", j.Component, b.Platform, err)
		}
		if i > 0 && e != epoch {
			return "", fmt.Errorf("component %s: its platforms have different epochs (%q, %q): compile the plan again", j.Component, epoch, e)
		}
		epoch = e
	}
	return epoch, nil
}

// configEpoch is the created time of an image config in decimal seconds, "" without one.
func configEpoch(config []byte) (string, error) {
	if len(config) == 0 {
		return "", nil
	}
	var c struct {
		Created *time.Time `json:"created"`
	}
	if err := json.Unmarshal(config, &c); err != nil {
		return "", fmt.Errorf("read the image config's created time: %w", err)
	}
	if c.Created == nil {
		return "", nil
	}
	return strconv.FormatInt(c.Created.Unix(), 10), nil
}

// withEpoch adds epoch (jobEpoch) to exporter entries: source-date-epoch to each, and
// rewrite-timestamp to those that write image layers. Entries are changed in place.
func withEpoch(epoch string, ex []client.ExportEntry) []client.ExportEntry {
	if epoch == "" {
		return ex
	}
	for i := range ex {
		if ex[i].Attrs == nil {
			ex[i].Attrs = map[string]string{}
		}
		ex[i].Attrs[attrSourceDateEpoch] = epoch
		switch ex[i].Type {
		case client.ExporterImage, client.ExporterOCI, client.ExporterDocker:
			ex[i].Attrs[attrRewriteTimestamp] = "true"
		}
	}
	return ex
}
