package doctor

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/archc-dev/archc/registry"
	"github.com/containerd/containerd/v2/core/remotes/docker"
	"github.com/distribution/reference"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
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

// mirrorImagesCheck HEADs, through the mirror, every pinned manifest of the spec's base
// images from the mirrored registry, with the ?ns= parameter containerd and BuildKit send
// to mirrors. A mirror that is up but lacks an image makes BuildKit fall back to the
// upstream registry, which is often the one that cannot be reached.
func (e *env) mirrorImagesCheck(m mirrorOf) Check {
	return Check{Name: "mirror-images " + m.URL, Run: func(ctx context.Context) Finding {
		if e.basesErr != nil {
			return Finding{Verdict: Warn, Checked: "the base images of the spec", Cause: "not checked: " + e.basesErr.Error(),
				Fix: "fix the Dockerfile (the lock check says the same)"}
		}
		probes := e.manifestProbes(m.Registry.Host)
		checked := fmt.Sprintf("HEAD %s://%s/v2%s/…/manifests/… ?ns=%s", m.Scheme, m.Host, m.Path, m.Registry.Host)
		if len(probes) == 0 {
			return Finding{Verdict: OK, Checked: fmt.Sprintf("no base image comes from %s; nothing to serve", m.Registry.Host)}
		}
		c, err := e.client(m.Host)
		if err != nil {
			return Finding{Verdict: Fail, Checked: checked, Cause: err.Error(), Fix: "fix the registry block's ca"}
		}
		auth := docker.NewDockerAuthorizer(docker.WithAuthClient(c), docker.WithAuthCreds(e.creds))
		missing := map[string][]string{} // ref → what is missing
		var refs []string
		for _, p := range probes {
			u := fmt.Sprintf("%s://%s/v2%s/%s/manifests/%s?ns=%s", m.Scheme, m.Host, m.Path, p.repo, p.ref2, m.Registry.Host)
			status, err := headManifest(ctx, c, auth, u)
			switch {
			case err != nil:
				return Finding{Verdict: Fail, Checked: checked, Cause: fmt.Sprintf("HEAD %s (%s): %s", p.ref, p.what, netCause(err, ctx)),
					Fix: fmt.Sprintf("make the mirror answer (see the mirror check), or remove %q from registry %q { mirrors }", m.Raw, m.Registry.Host)}
			case status == http.StatusOK:
			case status == http.StatusNotFound:
				if _, ok := missing[p.ref]; !ok {
					refs = append(refs, p.ref)
				}
				missing[p.ref] = append(missing[p.ref], p.what)
			default:
				return Finding{Verdict: Fail, Checked: checked, Cause: fmt.Sprintf("HEAD %s (%s): HTTP %d", p.ref, p.what, status),
					Fix: "check the mirror's logs and credentials (`docker login " + m.Host + "`)"}
			}
		}
		if len(missing) == 0 {
			return Finding{Verdict: OK, Checked: fmt.Sprintf("%s → all %d pinned manifests served", checked, len(probes))}
		}
		var lacks []string
		for _, r := range refs {
			lacks = append(lacks, fmt.Sprintf("%s (%s)", r, strings.Join(missing[r], ", ")))
		}
		return e.mirrorMissing(m, checked, lacks, refs[0])
	}}
}

func (e *env) mirrorMissing(m mirrorOf, checked string, missing []string, first string) Finding {
	f := Finding{Verdict: Warn, Checked: checked,
		Cause: fmt.Sprintf("the mirror lacks %s: BuildKit falls back to %s for it", strings.Join(missing, ", "), registry.UpstreamHost(m.Registry.Host)),
		Fix: fmt.Sprintf("put the images on the mirror (pull them through it once, or copy them: `skopeo copy --all docker://%s docker://%s/…`), or make sure %s is reachable (proxy)",
			first, m.Host, registry.UpstreamHost(m.Registry.Host))}
	if m.Registry.MirrorsOnly {
		f.Verdict = Fail
		f.Cause = fmt.Sprintf("the mirror lacks %s, and registry %q is mirrors_only: resolving and pulling it will fail", strings.Join(missing, ", "), m.Registry.Host)
	}
	return f
}

// manifestProbes lists what to HEAD for the base images of registry host: the pinned
// index and each needed platform's manifest, or the tag when the image is not locked.
func (e *env) manifestProbes(host string) []manifestProbe {
	lock, _ := registry.ReadLock(e.o.LockPath)
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
