package solver

import (
	"encoding/json"
	"fmt"
	"time"
)

// MetadataFormatVersion is the format_version of the --metadata-file JSON; it changes only
// when a field is renamed or removed.
const MetadataFormatVersion = 1

// maxMetadataError bounds each error text in the file (head and tail kept).
const maxMetadataError = 8 << 10

// Metadata is what `apply --metadata-file` writes: the results table as JSON, for CI to
// promote and sign by digest. Maps are keyed by component, platform and tag (JSON sorts
// them, so the same run writes the same bytes but for the timings).
type Metadata struct {
	FormatVersion int `json:"format_version"`
	// Status is "succeeded" or "failed".
	Status string `json:"status"`
	// Error is why the run failed (masked), or absent.
	Error      string                       `json:"error,omitempty"`
	Components map[string]MetadataComponent `json:"components"`
}

// MetadataComponent is one component's outcome.
type MetadataComponent struct {
	// Status is built, cached, failed, skipped or "up to date" (not solved: the inputs
	// are those of a push archc recorded, and every tag still names its digest).
	Status string `json:"status"`
	Output string `json:"output,omitempty"`
	// Digest is the index (or, for one platform, the manifest) archc or BuildKit pushed.
	Digest string `json:"digest,omitempty"`
	// Tags maps every tag pushed to the digest it now names (registry output, on success).
	Tags map[string]string `json:"tags,omitempty"`
	// SourceDateEpoch is the epoch of a reproducible build (source_date_epoch).
	SourceDateEpoch string                      `json:"source_date_epoch,omitempty"`
	DurationMS      int64                       `json:"duration_ms"`
	Error           string                      `json:"error,omitempty"`
	Platforms       map[string]MetadataPlatform `json:"platforms"`
}

// MetadataPlatform is one platform build.
type MetadataPlatform struct {
	// Builder ran the build (its last attempt).
	Builder string `json:"builder,omitempty"`
	// Status is built, cached, failed, cancelled, skipped or "up to date".
	Status string `json:"status"`
	// Digest is the platform's image manifest, when known.
	Digest string `json:"digest,omitempty"`
	// Attestation is the platform's attestation manifest (provenance, SBOM), when there
	// is one.
	Attestation string `json:"attestation,omitempty"`
	Steps       int    `json:"steps"`
	CachedSteps int    `json:"cached_steps"`
	DurationMS  int64  `json:"duration_ms"`
	// LostBuilders went away while running this build, which was re-run elsewhere.
	LostBuilders []string `json:"lost_builders,omitempty"`
	Error        string   `json:"error,omitempty"`
}

// NewMetadata turns a run's results and error into the file's value; mask hides the
// spec's sensitive values in error texts (nil: none).
func NewMetadata(results []Result, runErr error, mask func(string) string) Metadata {
	text := func(err error) string {
		if err == nil {
			return ""
		}
		s := err.Error()
		if mask != nil {
			s = mask(s)
		}
		return boundText(s, maxMetadataError)
	}
	md := Metadata{FormatVersion: MetadataFormatVersion, Status: "succeeded", Error: text(runErr), Components: map[string]MetadataComponent{}}
	if runErr != nil {
		md.Status = "failed"
	}
	for _, r := range results {
		c := MetadataComponent{Status: r.State(), Output: r.Output, Digest: r.Digest, DurationMS: ms(r.Duration), SourceDateEpoch: r.SourceDateEpoch,
			Error: text(r.Err), Platforms: map[string]MetadataPlatform{}}
		if r.Err == nil && r.Digest != "" && len(r.Tags) > 0 {
			c.Tags = map[string]string{}
			for _, t := range r.Tags {
				c.Tags[t] = r.Digest
			}
		}
		for _, b := range r.Builds {
			c.Platforms[b.Platform] = MetadataPlatform{Builder: b.Builder, Status: b.Status, Digest: b.Digest, Attestation: b.Attestation,
				Steps: b.Steps, CachedSteps: b.CachedSteps, DurationMS: ms(b.Duration), LostBuilders: b.Lost, Error: text(b.Err)}
		}
		md.Components[r.Component] = c
	}
	return md
}

// WriteMetadataFile writes NewMetadata's value to path atomically (a rename: a reader
// never sees half a file), also after a failed run.
func WriteMetadataFile(path string, results []Result, runErr error, mask func(string) string) error {
	dt, err := json.MarshalIndent(NewMetadata(results, runErr, mask), "", "  ")
	if err != nil {
		return fmt.Errorf("encode the metadata file: %w", err)
	}
	if err := writeFileAtomic(path, append(dt, '\n')); err != nil {
		return fmt.Errorf("write the metadata file %s: %w", relName(path), err)
	}
	return nil
}

func ms(d time.Duration) int64 { return d.Milliseconds() }

// boundText keeps the head and the tail of a text longer than n bytes.
func boundText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n/2] + "\n[... " + fmt.Sprint(len(s)-n) + " bytes left out ...]\n" + s[len(s)-n/2:]
}
