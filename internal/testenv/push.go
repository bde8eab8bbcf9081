package testenv

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"golang.org/x/sync/errgroup"
)

// Image is what a push left in a registry, so tests can assert pins.
type Image struct {
	Ref       string                   // "HOST/repo:tag"
	Index     digest.Digest            // digest of the OCI index the tag points to
	Platforms map[string]PlatformImage // keyed "linux/amd64", "linux/arm64" (no variant)
}

// PlatformImage is one platform's manifest and config digests.
type PlatformImage struct {
	Manifest digest.Digest
	Config   digest.Digest
	Layers   []digest.Digest
}

// Image describes the content as pushed to ref.
func (c *Content) Image(ref string) Image {
	img := Image{Ref: ref, Index: c.Index.Digest(), Platforms: map[string]PlatformImage{}}
	for _, pc := range c.Platforms {
		pi := PlatformImage{Manifest: pc.Manifest.Digest(), Config: pc.Config.Digest()}
		for _, l := range pc.Layers {
			pi.Layers = append(pi.Layers, l.Digest())
		}
		img.Platforms[pc.Platform.OS+"/"+pc.Platform.Architecture] = pi
	}
	return img
}

// Push uploads the content to the plain-HTTP registry at baseURL ("http://127.0.0.1:5000")
// as repo:tag: every distinct blob once (concurrently), skipping those present, then each
// platform's manifest by digest, then the index by tag. The caller's context bounds the whole push.
func (c *Content) Push(ctx context.Context, baseURL, repo, tag string) (Image, error) {
	p := pusher{base: strings.TrimSuffix(baseURL, "/"), repo: repo, client: pushClient}
	// Each distinct blob uploads once, concurrently: platforms may share one (a layer with
	// the same files), and two concurrent uploads of one digest make the registry reject
	// the second. Then the manifests, which name them; then the index.
	var blobs []Blob
	seen := map[digest.Digest]bool{}
	for _, pc := range c.Platforms {
		for _, b := range append([]Blob{pc.Config}, pc.Layers...) {
			if !seen[b.Digest()] {
				seen[b.Digest()] = true
				blobs = append(blobs, b)
			}
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	for _, b := range blobs {
		g.Go(func() error { return p.blob(gctx, b) })
	}
	if err := g.Wait(); err != nil {
		return Image{}, err
	}
	g, gctx = errgroup.WithContext(ctx)
	for _, pc := range c.Platforms {
		g.Go(func() error { return p.manifest(gctx, pc.Manifest.Digest().String(), pc.Manifest) })
	}
	if err := g.Wait(); err != nil {
		return Image{}, err
	}
	if err := p.manifest(ctx, tag, c.Index); err != nil {
		return Image{}, err
	}
	host := strings.TrimPrefix(strings.TrimPrefix(p.base, "http://"), "https://")
	return c.Image(host + "/" + repo + ":" + tag), nil
}

// pushClient never uses a proxy from the environment: pushes go straight to loopback.
var pushClient = &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 8}}

type pusher struct {
	base, repo string
	client     *http.Client
}

func (p pusher) do(ctx context.Context, method, u string, body []byte, contentType string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return p.client.Do(req)
}

// blob uploads one blob with a POST (start) + PUT (monolithic body), unless it exists.
func (p pusher) blob(ctx context.Context, b Blob) error {
	d := b.Digest()
	resp, err := p.do(ctx, http.MethodHead, fmt.Sprintf("%s/v2/%s/blobs/%s", p.base, p.repo, d), nil, "")
	if err != nil {
		return fmt.Errorf("push %s to %s/%s: check blob: %w", d, p.base, p.repo, err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	resp, err = p.do(ctx, http.MethodPost, fmt.Sprintf("%s/v2/%s/blobs/uploads/", p.base, p.repo), nil, "")
	if err != nil {
		return fmt.Errorf("push %s to %s/%s: start upload: %w", d, p.base, p.repo, err)
	}
	if err := expect(resp, http.StatusAccepted); err != nil {
		return fmt.Errorf("push %s to %s/%s: start upload: %w", d, p.base, p.repo, err)
	}
	loc, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
	if err != nil {
		return fmt.Errorf("push %s: bad upload location %q: %w", d, resp.Header.Get("Location"), err)
	}
	q := loc.Query()
	q.Set("digest", d.String())
	loc.RawQuery = q.Encode()
	resp, err = p.do(ctx, http.MethodPut, loc.String(), b.Data, "application/octet-stream")
	if err != nil {
		return fmt.Errorf("push %s to %s/%s: upload: %w", d, p.base, p.repo, err)
	}
	if err := expect(resp, http.StatusCreated); err != nil {
		return fmt.Errorf("push %s to %s/%s: upload: %w", d, p.base, p.repo, err)
	}
	return nil
}

func (p pusher) manifest(ctx context.Context, ref string, b Blob) error {
	u := fmt.Sprintf("%s/v2/%s/manifests/%s", p.base, p.repo, url.PathEscape(ref))
	resp, err := p.do(ctx, http.MethodPut, u, b.Data, b.MediaType)
	if err != nil {
		return fmt.Errorf("push manifest %s:%s to %s: %w", p.repo, ref, p.base, err)
	}
	if err := expect(resp, http.StatusCreated); err != nil {
		return fmt.Errorf("push manifest %s:%s to %s: %w", p.repo, ref, p.base, err)
	}
	return nil
}

// expect consumes resp and returns an error unless it has the wanted status.
func expect(resp *http.Response, want int) error {
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != want {
		return fmt.Errorf("got %s, want %d: %s", resp.Status, want, strings.TrimSpace(string(body)))
	}
	return nil
}

// PushBusybox pushes the busybox image (linux/amd64 + linux/arm64, see BusyboxContent) to
// reg as repo:tag and returns its digests. Requires the cached busybox binaries.
func PushBusybox(t testing.TB, reg *Registry, repo, tag string) Image {
	t.Helper()
	Require(t, PartBusyboxAMD64)
	Require(t, PartBusyboxARM64)
	c, err := BusyboxContent()
	if err != nil {
		t.Fatalf("build busybox image: %v", err)
	}
	img, err := c.Push(ctxTimeout(t, time.Minute), reg.URL, repo, tag)
	if err != nil {
		t.Fatalf("push busybox: %v", err)
	}
	return img
}

// PushTiny pushes a tiny synthetic image (see TinyContent, named after repo:tag) to reg for
// the platforms (default linux/amd64 and linux/arm64) and returns its digests.
func PushTiny(t testing.TB, reg *Registry, repo, tag string, platforms ...string) Image {
	t.Helper()
	c, err := TinyContent(repo+":"+tag, platforms...)
	if err != nil {
		t.Fatalf("build tiny image: %v", err)
	}
	img, err := c.Push(ctxTimeout(t, 30*time.Second), reg.URL, repo, tag)
	if err != nil {
		t.Fatalf("push tiny image: %v", err)
	}
	return img
}
