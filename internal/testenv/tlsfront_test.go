package testenv

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTLSFront(t *testing.T) {
	t.Parallel()
	reg := StartRegistry(t)
	front := StartTLSFront(t, reg.URL)

	_, err := http.Get(front.URL + "/v2/")
	require.Error(t, err, "the certificate is self-signed: untrusted by default")

	pemBytes, err := os.ReadFile(front.CAFile)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(pemBytes))
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := c.Get(front.URL + "/v2/")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the registry answers through the front")
}
