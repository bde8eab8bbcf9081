package doctor

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/archc-dev/archc/registry"
	"github.com/containerd/containerd/v2/core/remotes/docker"
	"github.com/distribution/reference"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"
)

// manifestAccept is what a HEAD of a manifest accepts, as BuildKit's resolver sends it.
var manifestAccept = strings.Join([]string{ocispec.MediaTypeImageIndex, ocispec.MediaTypeImageManifest,
	"application/vnd.docker.distribution.manifest.list.v2+json",
	"application/vnd.docker.distribution.manifest.v2+json"}, ", ")

// manifestProbe is one manifest to HEAD on a mirror.
type manifestProbe struct {
	ref  string // for messages: "docker.io/library/busybox:1.36"
	what string // "index sha256:…" or "linux/arm64 manifest sha256:…" or "tag 1.36"
	repo string // "library/busybox"
	ref2 string // the digest or tag to HEAD
}

// served is what one mirror answered for the pinned manifests of its registry's bases.
type served struct {
	probes  int
	refs    []string            // images with something missing, in probe order
	missing map[string][]string // ref → what is missing
	// failed is why the mirror could not be asked (a HEAD that failed or answered
	// neither 200 nor 404), or "".
	failed string
}

// lacks reports whether the mirror fails to serve any of refs.
func (sv served) lacks(refs []string) bool {
	return sv.failed != "" || slices.ContainsFunc(refs, func(r string) bool { return len(sv.missing[r]) > 0 })
}

// mirrorImagesCheck HEADs, through the mirror, every pinned manifest of the spec's base
// images from the mirrored registry, with the ?ns= parameter containerd and BuildKit send
// to mirrors. A mirror that is up but lacks an image makes BuildKit fall back to the next
// host (another mirror, then the registry itself unless mirrors_only): that is a failure
// only when none of them can serve it.
func (e *env) mirrorImagesCheck(m mirrorOf) Check {
	return Check{Name: "mirror-images " + m.URL, Timeout: mirrorTimeout, Run: func(ctx context.Context) Finding {
		if e.basesErr != nil {
			return Finding{Verdict: Warn, Checked: "the base images of the spec", Cause: "not checked: " + e.basesErr.Error(),
				Fix: "fix the Dockerfile (the lock check says the same)"}
		}
		checked := fmt.Sprintf("HEAD %s://%s/v2%s/…/manifests/… ?ns=%s", m.Scheme, m.Host, m.Path, m.Registry.Host)
		if len(e.manifestProbes(m.Registry.Host)) == 0 {
			return Finding{Verdict: OK, Checked: fmt.Sprintf("no base image comes from %s; nothing to serve", m.Registry.Host)}
		}
		if h, ok := e.mirrorHealth(ctx, m); !ok || h.err != nil {
			return Finding{Verdict: Warn, Checked: checked, Cause: "not checked: the mirror does not answer /v2/",
				Fix: "see the mirror check " + m.URL}
		}
		sv, ok := await(ctx, e.reach.images[m.URL])
		if !ok {
			return Finding{Verdict: Fail, Checked: checked, Cause: "no answer before the deadline", Fix: "see the mirror check " + m.URL}
		}
		if sv.failed == "" && len(sv.refs) == 0 {
			return Finding{Verdict: OK, Checked: fmt.Sprintf("%s → all %d pinned manifests served", checked, sv.probes)}
		}
		return e.mirrorMissing(ctx, m, checked, sv)
	}}
}

// probeConcurrency bounds the manifest HEADs doctor sends one mirror at once.
const probeConcurrency = 8

// serveImages HEADs every manifest probe of m's registry on m.
func (e *env) serveImages(ctx context.Context, m mirrorOf) served {
	probes := e.manifestProbes(m.Registry.Host)
	sv := served{probes: len(probes), missing: map[string][]string{}}
	c, err := e.client(m.Host)
	if err != nil {
		sv.failed = err.Error()
		return sv
	}
	auth := docker.NewDockerAuthorizer(docker.WithAuthClient(c), docker.WithAuthCreds(e.creds))
	// Concurrently, as apply resolves: one slow answer (a 429 with Retry-After) must not
	// hold up every probe after it. The verdict reads them in probe order.
	type answer struct {
		status int
		err    error
	}
	answers := make([]answer, len(probes))
	var eg errgroup.Group
	eg.SetLimit(probeConcurrency)
	for i, p := range probes {
		eg.Go(func() error {
			u := fmt.Sprintf("%s://%s/v2%s/%s/manifests/%s?ns=%s", m.Scheme, m.Host, m.Path, p.repo, p.ref2, m.Registry.Host)
			answers[i].status, answers[i].err = headManifest(ctx, c, auth, u)
			return nil
		})
	}
	_ = eg.Wait()
	for i, p := range probes {
		status, err := answers[i].status, answers[i].err
		switch {
		case err != nil:
			sv.failed = fmt.Sprintf("HEAD %s (%s): %s", p.ref, p.what, netCause(err, ctx))
			return sv
		case status == http.StatusOK:
		case status == http.StatusNotFound:
			if _, ok := sv.missing[p.ref]; !ok {
				sv.refs = append(sv.refs, p.ref)
			}
			sv.missing[p.ref] = append(sv.missing[p.ref], p.what)
		default:
			sv.failed = fmt.Sprintf("HEAD %s (%s): HTTP %d", p.ref, p.what, status)
			return sv
		}
	}
	return sv
}

// mirrorMissing judges a mirror that lacks images, or could not be asked for them, by
// whether another host serves them to apply.
func (e *env) mirrorMissing(ctx context.Context, m mirrorOf, checked string, sv served) Finding {
	domain := m.Registry.Host
	up := registry.UpstreamHost(domain)
	refs := sv.refs
	if sv.failed != "" {
		refs = nil
		for _, p := range e.manifestProbes(domain) {
			if !slices.Contains(refs, p.ref) {
				refs = append(refs, p.ref)
			}
		}
	}
	fb := e.fallbackFor(ctx, domain, func(_, _ string, o *mirrorOf) bool {
		if o == nil {
			return true
		}
		if o.URL == m.URL {
			return false
		}
		other, ok := await(ctx, e.reach.images[o.URL])
		return ok && !other.lacks(refs)
	})
	f := Finding{Verdict: Warn, Checked: checked}
	if sv.failed != "" {
		f.Cause = sv.failed
		f.Fix = fmt.Sprintf("check the mirror's logs and credentials (`docker login %s`), or remove %q from registry %q { mirrors }", m.Host, m.Raw, domain)
	} else {
		var lacks []string
		for _, r := range sv.refs {
			lacks = append(lacks, fmt.Sprintf("%s (%s)", r, strings.Join(sv.missing[r], ", ")))
		}
		f.Cause = "the mirror lacks " + strings.Join(lacks, ", ")
		f.Fix = fmt.Sprintf("put the images on the mirror (pull them through it once, or copy them: `skopeo copy --all docker://%s docker://%s/…`)", refs[0], m.Host)
	}
	if fb.via != "" {
		f.Cause += fmt.Sprintf(": archc falls back to %s for it", fb.via)
		f.Fix += fmt.Sprintf(", or keep %s reachable", fb.via)
		return f
	}
	f.Verdict = Fail
	f.Cause += fmt.Sprintf(", and no other host can serve it (%s): resolving and pulling it will fail", fb.none)
	if e.s.Registry(domain) == nil || !e.s.Registry(domain).MirrorsOnly {
		f.Fix += fmt.Sprintf(", or make %s reachable (proxy)", up)
	}
	return f
}

// manifestProbes lists what to HEAD for the base images of registry host: the pinned
// index and each needed platform's manifest, or the tag when the image is not locked.
func (e *env) manifestProbes(host string) []manifestProbe {
	lock, _ := e.lock()
	var out []manifestProbe
	for _, b := range e.bases {
		if domainOf(b.Ref) != host {
			continue
		}
		n, err := reference.ParseNormalizedNamed(b.Ref)
		if err != nil {
			continue
		}
		repo := reference.Path(n)
		pin := lock.Find(b.Ref)
		if pin == nil {
			if t, ok := n.(reference.Tagged); ok {
				out = append(out, manifestProbe{ref: b.Ref, what: "tag, not locked", repo: repo, ref2: t.Tag()})
			} else if d, ok := n.(reference.Digested); ok {
				out = append(out, manifestProbe{ref: b.Ref, what: "digest", repo: repo, ref2: d.Digest().String()})
			}
			continue
		}
		out = append(out, manifestProbe{ref: b.Ref, what: "index " + short(pin.Digest.String()), repo: repo, ref2: pin.Digest.String()})
		for _, p := range b.Platforms {
			if pi := pin.Platform(p); pi != nil && pi.Manifest != pin.Digest {
				out = append(out, manifestProbe{ref: b.Ref, what: p + " manifest " + short(pi.Manifest.String()), repo: repo, ref2: pi.Manifest.String()})
			}
		}
	}
	return out
}

// headManifest HEADs one manifest, answering a 401 challenge once (anonymous token, or the
// credentials Options.Credentials gives).
func headManifest(ctx context.Context, c *http.Client, auth docker.Authorizer, u string) (int, error) {
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodHead, u, nil)
		if err != nil {
			return 0, err
		}
		req.Header.Set("Accept", manifestAccept)
		if err := auth.Authorize(ctx, req); err != nil {
			return 0, fmt.Errorf("authorize: %w", err)
		}
		resp, err := c.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || attempt > 0 {
			return resp.StatusCode, nil
		}
		if err := auth.AddResponses(ctx, []*http.Response{resp}); err != nil {
			return resp.StatusCode, nil
		}
	}
}

func (e *env) creds(host string) (string, string, error) {
	if e.o.Credentials == nil {
		return "", "", nil
	}
	return e.o.Credentials(host)
}

// short abbreviates a digest for messages: sha256:0123456789ab.
func short(d string) string {
	if len(d) > 19 {
		return d[:19]
	}
	return d
}
