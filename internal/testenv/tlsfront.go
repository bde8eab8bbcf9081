package testenv

import (
	"encoding/pem"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TLSFront is an https reverse proxy with a self-signed certificate (valid for 127.0.0.1)
// in front of a plain-HTTP upstream: a registry mirror that needs a CA or insecure.
type TLSFront struct {
	// URL is "https://127.0.0.1:PORT"; Host is "127.0.0.1:PORT".
	URL, Host string
	// CAFile is a PEM file with the front's certificate, to trust it.
	CAFile string
}

// StartTLSFront starts a TLSFront before upstream (an http:// URL); it stops on cleanup.
func StartTLSFront(t testing.TB, upstream string) *TLSFront {
	t.Helper()
	up, err := url.Parse(upstream)
	if err != nil {
		t.Fatalf("tls front: upstream %q: %v", upstream, err)
	}
	srv := httptest.NewTLSServer(httputil.NewSingleHostReverseProxy(up))
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "tlsfront-ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatalf("tls front: write CA: %v", err)
	}
	return &TLSFront{URL: srv.URL, Host: strings.TrimPrefix(srv.URL, "https://"), CAFile: ca}
}
