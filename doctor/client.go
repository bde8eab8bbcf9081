package doctor

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"syscall"

	"github.com/archc-dev/archc/registry"
)

// client returns archc's client for host (registry.NewHTTPClient: the spec's TLS settings
// for it, its proxy and the retry policy, as the resolver reaches it) with the options'
// dialer, so that a probe fails only where apply would.
func (e *env) client(host string) (*http.Client, error) {
	var opts []registry.Option
	if e.o.Dial != nil {
		opts = append(opts, registry.WithDialContext(e.o.Dial))
	}
	c, err := registry.NewHTTPClient(e.s, host, opts...)
	if err != nil {
		var fe *registry.TLSFileError
		if errors.As(err, &fe) {
			return nil, fmt.Errorf("registry %s: %s %s: %v", host, fe.What, e.relPath(fe.Path), fe.Err)
		}
		return nil, fmt.Errorf("registry %s: %w", host, err)
	}
	return c, nil
}

// get does one request and drains the answer; the caller's ctx bounds it.
func get(ctx context.Context, c *http.Client, method, target string, header http.Header) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, target, nil)
	if err != nil {
		return nil, err
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return resp, nil
}

// netCause names a transport error for people: which certificate problem, refused,
// timeout, no such host. It never includes credentials.
func netCause(err error, ctx context.Context) string {
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.As(err, &unknownCA):
		who := "an unknown authority"
		if unknownCA.Cert != nil && unknownCA.Cert.Issuer.CommonName != "" {
			who = fmt.Sprintf("%q, an authority this machine does not trust", unknownCA.Cert.Issuer.CommonName)
		}
		return "TLS: the certificate is signed by " + who
	case errors.As(err, &hostErr):
		return "TLS: the certificate is not valid for this name (" + hostErr.Error() + ")"
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return "TLS: the certificate has expired or is not yet valid (" + invalid.Detail + "; check this machine's clock)"
	case errors.As(err, &invalid):
		return "TLS: invalid certificate (" + invalid.Error() + ")"
	case registry.IsPlainHTTP(err):
		return "TLS handshake failed: the server speaks plain HTTP"
	case ctx.Err() != nil:
		return "no answer before the deadline (it accepts connections and never answers, or packets are dropped)"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused (nothing listens there)"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF):
		return "connection reset"
	}
	return registry.Redact(err.Error())
}
