package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/platforms"
	"github.com/hashicorp/hcl/v2"

	"github.com/archc-dev/archc/spec"
)

// LockMismatchError is a lock whose pins content contradicts: a platform manifest its
// index does not list under that platform, a config its manifest does not name, or an
// index entry whose config says another platform (which archc lock refuses to pin). It
// prints like a spec problem, each located in the lock file, saying what the content
// really lists.
type LockMismatchError struct {
	// Diags are the mismatches, each with its range in the lock file (when it was read
	// from one).
	Diags hcl.Diagnostics
	// Refs are the references whose pins do not match, sorted.
	Refs []string
}

func (e *LockMismatchError) Error() string {
	var b strings.Builder
	_ = spec.WriteDiagnostics(&b, e.Diags, false) // a strings.Builder does not fail
	return strings.TrimRight(b.String(), "\n")
}

// Hint says what to do: archc never writes such a pin, so the lock was edited.
func (e *LockMismatchError) Hint() string {
	return LockFileName + " pins content its own index contradicts; archc lock never writes that, so the file was edited: " +
		"review who changed it before trusting it, then re-pin from the registry with archc lock --update --image " +
		strings.Join(e.Refs, " --image ")
}

// VerifyLock checks the pins of lock that reqs use (every platform they pin) against
// content, by the rules `archc lock` pins by: each platform's manifest must be the one the
// pinned index lists for that platform, its config the one that manifest names, and that
// config must be for that platform (checkConfig, which Resolve applies). Content comes
// from the cache; what is missing is fetched by digest from the pinned repository through
// the usual hosts and retries, and verified against its digest before it is used. A warm
// cache makes no request. A contradiction is a *LockMismatchError listing every one
// found; content that cannot be fetched is the resolution error.
func (r *Resolver) VerifyLock(ctx context.Context, lock *Lock, reqs []ImageRequest) error {
	var pins []*Image
	seen := map[string]bool{}
	for _, req := range reqs {
		if im := lock.Find(req.Ref); im != nil && !seen[im.Ref] {
			seen[im.Ref] = true
			pins = append(pins, im)
		}
	}
	diags := make([]hcl.Diagnostics, len(pins))
	errs := make([]error, len(pins))
	var wg sync.WaitGroup
	for i, im := range pins {
		wg.Add(1)
		go func() {
			defer wg.Done()
			diags[i], errs[i] = r.verifyImage(ctx, lock, im)
		}()
	}
	wg.Wait()
	e := &LockMismatchError{}
	for i, d := range diags {
		if len(d) > 0 {
			e.Diags = append(e.Diags, d...)
			e.Refs = append(e.Refs, pins[i].Ref)
		}
	}
	if len(e.Diags) > 0 {
		sort.Strings(e.Refs)
		return e
	}
	if err := joinErrors(errs); err != nil {
		return fmt.Errorf("check the pins of %s against their content: %w", LockFileName, err)
	}
	return nil
}

// verifyImage checks one image's pins: the index first (fetched alone, so a platform it
// does not list cannot fail the others), then each platform the index lists as pinned.
func (r *Resolver) verifyImage(ctx context.Context, lock *Lock, im *Image) (hcl.Diagnostics, error) {
	byDigest, err := pinnedRef(im.Ref, im.Digest)
	if err != nil {
		return nil, err
	}
	m := &pinMismatch{lock: lock, im: im}
	_, top, err := r.resolveKnown(ctx, byDigest, nil, nil)
	if err != nil {
		if notFound(err) {
			m.add("", "digest", "Pinned index not found",
				fmt.Sprintf("%s: index %s is not in the repository: %v.", im.Ref, im.Digest, err))
			return m.diags, nil
		}
		return nil, err
	}
	var idx manifestOrIndex
	if err := json.Unmarshal(top.data, &idx); err != nil {
		return nil, &malformedError{msg: fmt.Sprintf("%s: not a manifest or index: %v", im.Digest, err)}
	}
	var errs []error
	for _, p := range im.Platforms {
		if !m.listed(idx, p) {
			continue
		}
		// The index was read and verified above: each platform reads only its manifest
		// and config.
		got, _, err := r.resolveKnown(ctx, byDigest, []string{p.Platform}, top)
		var pe *platformError
		switch {
		case errors.As(err, &pe) && pe.mislabel != nil:
			m.add(p.Platform, "", "Image config is for another platform",
				fmt.Sprintf("%s: %s: the image itself is inconsistent.", im.Ref, pe.mislabel))
		case err != nil && notFound(err):
			m.add(p.Platform, "", "Image not for this platform", fmt.Sprintf("%s: %s: %v.", im.Ref, p.Platform, err))
		case err != nil:
			errs = append(errs, err)
		default:
			m.config(got.Platforms[0], p)
		}
	}
	return m.diags, errors.Join(errs...)
}

// notFound reports whether every host answered that the content does not exist, which
// for content pinned by digest means the pin is wrong, not the network.
func notFound(err error) bool {
	var re *ResolveError
	return errors.As(err, &re) && re.Class() == ClassNotFound
}

// pinMismatch collects one image's contradictions, located in the lock.
type pinMismatch struct {
	lock  *Lock
	im    *Image
	diags hcl.Diagnostics
}

func (m *pinMismatch) add(platform, attr, summary, detail string) {
	m.diags = append(m.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail,
		Subject: m.lock.rangeOf(lockPos{m.im.Ref, platform, attr})})
}

// listed checks that the index (or single manifest) at the pinned digest lists p's
// manifest for p's platform, as pickPlatform picks it when pinning; it reports the
// contradiction when not.
func (m *pinMismatch) listed(idx manifestOrIndex, p PlatformImage) bool {
	want, err := platforms.Parse(p.Platform)
	if err != nil {
		m.add(p.Platform, "", "Invalid platform", fmt.Sprintf("%s: %v.", m.im.Ref, err))
		return false
	}
	want = platforms.Normalize(want)
	if idx.Manifests == nil && !images.IsIndexType(idx.MediaType) {
		if p.Manifest == m.im.Digest {
			return true // a single-platform image: its config says which platform (fetcher.platform)
		}
		m.add(p.Platform, "manifest", "Manifest is not the pinned image",
			fmt.Sprintf("%s: %s manifest %s is not the single-platform image %s that digest pins.", m.im.Ref, p.Platform, p.Manifest, m.im.Digest))
		return false
	}
	pick, ok := pickPlatform(idx.Manifests, want)
	if ok && pick.Digest == p.Manifest {
		return true
	}
	lists := fmt.Sprintf("the index lists no %s manifest (it lists %s)", p.Platform, strings.Join(listPlatforms(idx.Manifests), ", "))
	if ok {
		lists = fmt.Sprintf("the index lists %s for %s", pick.Digest, p.Platform)
	}
	where := "is not listed in index " + m.im.Digest.String()
	for _, d := range idx.Manifests {
		if d.Digest != p.Manifest {
			continue
		}
		where = "is listed in index " + m.im.Digest.String() + " with no platform"
		if d.Platform != nil {
			where = "is listed in index " + m.im.Digest.String() + " under " + spec.FormatPlatform(*d.Platform)
		}
		break
	}
	m.add(p.Platform, "manifest", "Manifest not listed for "+p.Platform+" in the pinned index",
		fmt.Sprintf("%s: %s manifest %s %s; %s.", m.im.Ref, p.Platform, p.Manifest, where, lists))
	return false
}

// config checks p's config against got, what its manifest names. Resolve checked that
// config's own platform (checkConfig).
func (m *pinMismatch) config(got, p PlatformImage) {
	if got.Config != p.Config {
		m.add(p.Platform, "config", "Config is not the one the manifest names",
			fmt.Sprintf("%s: %s config %s is not what manifest %s names: it names %s.", m.im.Ref, p.Platform, p.Config, p.Manifest, got.Config))
	}
}
