package registry

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/moby/buildkit/util/resolver/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writeKeyPair writes a self-signed certificate and its key as PEM files in dir.
func writeKeyPair(t *testing.T, dir string) (certPath, keyPath string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "archc test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	kder, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	certPath, keyPath = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644))
	require.NoError(t, os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600))
	return certPath, keyPath
}

func TestTLSConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cert, key := writeKeyPair(t, dir)
	notPEM := filepath.Join(dir, "not.pem")
	require.NoError(t, os.WriteFile(notPEM, []byte("not a certificate"), 0o644))
	missing := filepath.Join(dir, "missing.pem")
	yes := true
	tests := []struct {
		name     string
		conf     config.RegistryConfig
		check    func(t *testing.T, tc *tlsConfigView)
		wantWhat string
		wantPath string
		wantErr  string
	}{
		{name: "defaults: system roots, verified", conf: config.RegistryConfig{},
			check: func(t *testing.T, v *tlsConfigView) {
				assert.Nil(t, v.roots)
				assert.False(t, v.insecure)
				assert.Zero(t, v.certs)
			}},
		{name: "insecure skips verification", conf: config.RegistryConfig{Insecure: &yes},
			check: func(t *testing.T, v *tlsConfigView) { assert.True(t, v.insecure) }},
		{name: "a CA joins the pool", conf: config.RegistryConfig{RootCAs: []string{cert}},
			check: func(t *testing.T, v *tlsConfigView) { assert.NotNil(t, v.roots) }},
		{name: "a client key pair", conf: config.RegistryConfig{KeyPairs: []config.TLSKeyPair{{Certificate: cert, Key: key}}},
			check: func(t *testing.T, v *tlsConfigView) { assert.Equal(t, 1, v.certs) }},
		{name: "missing CA", conf: config.RegistryConfig{RootCAs: []string{missing}}, wantWhat: "CA", wantPath: missing, wantErr: "no such file or directory"},
		{name: "CA without PEM", conf: config.RegistryConfig{RootCAs: []string{notPEM}}, wantWhat: "CA", wantPath: notPEM, wantErr: "no PEM certificate found"},
		{name: "key pair with the wrong key", conf: config.RegistryConfig{KeyPairs: []config.TLSKeyPair{{Certificate: cert, Key: notPEM}}}, wantWhat: "client key pair", wantPath: cert, wantErr: "failed to find any PEM data in key input"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := TLSConfig(tc.conf)
			if tc.wantErr == "" {
				require.NoError(t, err)
				tc.check(t, &tlsConfigView{roots: got.RootCAs, insecure: got.InsecureSkipVerify, certs: len(got.Certificates)})
				return
			}
			var fe *TLSFileError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tc.wantWhat, fe.What)
			assert.Equal(t, tc.wantPath, fe.Path)
			assert.Contains(t, fe.Err.Error(), tc.wantErr)
			assert.NotContains(t, fe.Err.Error(), dir, "the cause does not repeat the path")
			assert.Equal(t, tc.wantWhat+" "+tc.wantPath+": "+fe.Err.Error(), err.Error())
			if tc.name == "missing CA" {
				assert.True(t, errors.Is(err, fs.ErrNotExist))
			}
		})
	}
}

type tlsConfigView struct {
	roots    *x509.CertPool
	insecure bool
	certs    int
}
