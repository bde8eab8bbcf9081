package registry

import (
	"fmt"
	"io"
	"net/http"
	"path"
	"strconv"
	"strings"

	digest "github.com/opencontainers/go-digest"
)

// manifestGetTransport answers containerd's HEAD of a manifest with a GET and keeps the
// body in the cache. containerd resolves a tag with a HEAD and then fetches the index by
// digest: two round trips for the same bytes. One GET gives the digest (hashed from the
// body, checked against Docker-Content-Digest) and the content, so the fetch that follows
// is a cache hit. containerd still does everything else (auth challenges, the ns query of
// mirrors, status handling); only the method on the wire changes.
type manifestGetTransport struct {
	next  http.RoundTripper
	cache *Cache
}

func (t *manifestGetTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodHead || !strings.Contains(req.URL.Path, "/manifests/") {
		return t.next.RoundTrip(req)
	}
	get := req.Clone(req.Context())
	get.Method = http.MethodGet
	resp, err := t.next.RoundTrip(get)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return resp, nil // containerd reads the status, headers and (for errors) the body
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxContent+1))
	if err != nil {
		return nil, &transportError{err: err}
	}
	if len(data) > maxContent {
		return nil, &malformedError{msg: fmt.Sprintf("manifest %s is larger than %d bytes", path.Base(req.URL.Path), maxContent)}
	}
	dg, err := bodyDigest(req.URL.Path, resp.Header.Get("Docker-Content-Digest"), data)
	if err != nil {
		return nil, err
	}
	if err := t.cache.Put(dg, data); err != nil {
		return nil, err
	}
	head := *resp
	head.Request = req
	head.Header = resp.Header.Clone()
	head.Header.Set("Docker-Content-Digest", dg.String())
	head.Header.Set("Content-Length", strconv.Itoa(len(data)))
	head.ContentLength = int64(len(data))
	head.Body = http.NoBody
	return &head, nil
}

// bodyDigest is the digest a manifest body is known by: the one in the request's path (a
// digest reference), else the registry's Docker-Content-Digest, else its sha256. Every digest
// named must match the body, or it is malformed.
func bodyDigest(urlPath, header string, data []byte) (digest.Digest, error) {
	var named []digest.Digest
	for _, s := range []string{path.Base(urlPath), header} {
		if d, err := digest.Parse(s); err == nil {
			named = append(named, d)
		}
	}
	for _, d := range named {
		if !d.Algorithm().Available() {
			return "", &malformedError{msg: fmt.Sprintf("manifest digest algorithm %q is not supported", d.Algorithm())}
		}
		if got := d.Algorithm().FromBytes(data); got != d {
			return "", &malformedError{msg: fmt.Sprintf("manifest %s: content has digest %s", d, got)}
		}
	}
	if len(named) > 0 {
		return named[0], nil
	}
	return digest.FromBytes(data), nil
}
