package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/containerd/v2/core/remotes"
	"github.com/containerd/platforms"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/archc-dev/archc/spec"
)

// maxContent bounds an index, manifest or config read into memory.
const maxContent = 8 << 20

// fetcher reads immutable content of one reference from one host, through the cache.
type fetcher struct {
	res   remotes.Resolver
	ref   string
	cache *Cache

	mu sync.Mutex // platforms are fetched concurrently; the first to miss the cache sets f
	f  remotes.Fetcher
}

// fetcherFor returns the host's fetcher for the reference, made once.
func (f *fetcher) fetcherFor(ctx context.Context) (remotes.Fetcher, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.f == nil {
		var err error
		if f.f, err = f.res.Fetcher(ctx, f.ref); err != nil {
			return nil, err
		}
	}
	return f.f, nil
}

// fetch returns desc's content from the cache, or fetches, verifies and caches it.
func (f *fetcher) fetch(ctx context.Context, desc ocispec.Descriptor) ([]byte, error) {
	if data, err := f.cache.Get(desc.Digest); err == nil {
		return data, nil
	}
	rf, err := f.fetcherFor(ctx)
	if err != nil {
		return nil, err
	}
	if desc.Size <= 0 || desc.Size > maxContent {
		desc.Size = maxContent // size unknown (digest reference): read up to the cap
	}
	rc, err := rf.Fetch(ctx, desc)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxContent+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxContent {
		return nil, &malformedError{msg: fmt.Sprintf("%s is larger than %d bytes", desc.Digest, maxContent)}
	}
	if got := desc.Digest.Algorithm().FromBytes(data); got != desc.Digest {
		return nil, &malformedError{msg: fmt.Sprintf("content of %s has digest %s", desc.Digest, got)}
	}
	if err := f.cache.Put(desc.Digest, data); err != nil {
		return nil, err
	}
	return data, nil
}

// manifestOrIndex is the union of the fields archc reads from either.
type manifestOrIndex struct {
	MediaType string               `json:"mediaType"`
	Manifests []ocispec.Descriptor `json:"manifests"`
	Config    *ocispec.Descriptor  `json:"config"`
}

func sniffMediaType(data []byte) string {
	var m manifestOrIndex
	if json.Unmarshal(data, &m) != nil {
		return ""
	}
	switch {
	case m.MediaType != "":
		return m.MediaType
	case m.Manifests != nil:
		return ocispec.MediaTypeImageIndex
	default:
		return ocispec.MediaTypeImageManifest
	}
}

// platform picks platform p from the top-level content and fetches its manifest and config,
// which must be for p (checkConfig).
func (f *fetcher) platform(ctx context.Context, top ocispec.Descriptor, topData []byte, p string) (*PlatformImage, error) {
	want, err := platforms.Parse(p)
	if err != nil {
		return nil, &malformedError{msg: fmt.Sprintf("platform %q: %v", p, err)}
	}
	want = platforms.Normalize(want)
	var m manifestOrIndex
	if err := json.Unmarshal(topData, &m); err != nil {
		return nil, &malformedError{msg: fmt.Sprintf("%s: not a manifest or index: %v", top.Digest, err)}
	}
	mdesc := top
	mdata := topData
	var listed *ocispec.Platform // what the index lists the manifest under; nil for a single-platform image
	if m.Manifests != nil || images.IsIndexType(m.MediaType) {
		d, ok := pickPlatform(m.Manifests, want)
		if !ok {
			return nil, &platformError{ref: f.ref, platform: platforms.Format(want), have: listPlatforms(m.Manifests)}
		}
		mdesc, listed = d, d.Platform
		if mdata, err = f.fetch(ctx, mdesc); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(mdata, &m); err != nil {
			return nil, &malformedError{msg: fmt.Sprintf("%s: not a manifest: %v", mdesc.Digest, err)}
		}
	}
	if m.Config == nil {
		return nil, &malformedError{msg: fmt.Sprintf("%s: manifest has no config", mdesc.Digest)}
	}
	cfg, err := f.fetch(ctx, *m.Config)
	if err != nil {
		return nil, err
	}
	if err := checkConfig(f.ref, want, listed, mdesc.Digest, m.Config.Digest, cfg); err != nil {
		return nil, err
	}
	return &PlatformImage{Platform: platforms.Format(want), Manifest: mdesc.Digest, Config: m.Config.Digest}, nil
}

// checkConfig is the one rule for what a config may say, for pinning and for VerifyLock
// (which re-resolves each pin): its own os/architecture must be one want accepts, by the
// matcher pickPlatform picks index entries with (platforms.Only). A config that leaves out
// its variant is taken at want's (many arm configs do). One that leaves out its
// os/architecture is taken at its index entry's word (old images do); a single-platform
// image (listed nil) has no other word, so its config must say. An index entry whose
// config says another platform is mislabelled upstream: pinning it would build for the
// wrong platform, and no re-pin of that index can fix it.
func checkConfig(ref string, want ocispec.Platform, listed *ocispec.Platform, manifest, config digest.Digest, data []byte) error {
	var ic ocispec.Image
	if err := json.Unmarshal(data, &ic); err != nil {
		return &malformedError{msg: fmt.Sprintf("%s: bad image config: %v", config, err)}
	}
	if listed != nil && (ic.OS == "" || ic.Architecture == "") {
		return nil
	}
	have := platforms.Normalize(ocispec.Platform{OS: ic.OS, Architecture: ic.Architecture, Variant: ic.Variant})
	if ic.Variant == "" && have.Architecture == want.Architecture {
		have.Variant = want.Variant
	}
	if platforms.Only(want).Match(have) {
		return nil
	}
	e := &platformError{ref: ref, platform: platforms.Format(want), have: []string{platforms.Format(have)}}
	if listed != nil {
		e.mislabel = &mislabel{manifest: manifest, listed: spec.FormatPlatform(*listed), config: config, says: platforms.Format(have)}
	}
	return e
}

// pickPlatform returns the best manifest for want among an index's entries.
func pickPlatform(ds []ocispec.Descriptor, want ocispec.Platform) (ocispec.Descriptor, bool) {
	mc := platforms.Only(want)
	var best *ocispec.Descriptor
	for i := range ds {
		d := &ds[i]
		if d.Platform == nil || !mc.Match(*d.Platform) {
			continue
		}
		if best == nil || mc.Less(*d.Platform, *best.Platform) {
			best = d
		}
	}
	if best == nil {
		return ocispec.Descriptor{}, false
	}
	return *best, true
}

func listPlatforms(ds []ocispec.Descriptor) []string {
	var out []string
	for _, d := range ds {
		if d.Platform != nil && d.Platform.OS != "unknown" {
			out = append(out, platforms.Format(*d.Platform))
		}
	}
	return out
}

// platformError says an image does not exist for a platform (a not-found, not retried):
// the index lists none for it, or what it lists says it is for another (mislabel).
type platformError struct {
	ref      string
	platform string
	have     []string
	// mislabel is set when the index lists a manifest for platform whose config says
	// another: the image is inconsistent upstream.
	mislabel *mislabel
}

func (e *platformError) Error() string {
	if e.mislabel != nil {
		return fmt.Sprintf("no %s image: %s: the image is mislabelled upstream; pin another tag or digest of it", e.platform, e.mislabel)
	}
	return fmt.Sprintf("no %s image (has %v)", e.platform, e.have)
}

// mislabel is an index entry whose config says another platform than the index lists it
// under.
type mislabel struct {
	manifest digest.Digest
	listed   string // the platform the index lists manifest under
	config   digest.Digest
	says     string // the platform config says
}

func (m *mislabel) String() string {
	return fmt.Sprintf("the index lists manifest %s under %s, but its config %s says %s", m.manifest, m.listed, m.config, m.says)
}
