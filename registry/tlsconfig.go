package registry

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/moby/buildkit/util/resolver/config"
)

// TLSConfig is the client TLS configuration of one registry block, as BuildKit applies it:
// its CAs added to the system pool, its client key pairs, and no verification when it is
// insecure. archc's resolver and doctor's probes both use it, so they trust what the
// builder trusts.
func TLSConfig(c config.RegistryConfig) (*tls.Config, error) {
	tc := &tls.Config{}
	if c.Insecure != nil && *c.Insecure {
		tc.InsecureSkipVerify = true
	}
	if len(c.RootCAs) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		for _, p := range c.RootCAs {
			pem, err := os.ReadFile(p)
			if err != nil {
				return nil, &TLSFileError{What: "CA", Path: p, Err: withoutPath(err)}
			}
			if !pool.AppendCertsFromPEM(pem) {
				return nil, &TLSFileError{What: "CA", Path: p, Err: errors.New("no PEM certificate found")}
			}
		}
		tc.RootCAs = pool
	}
	for _, kp := range c.KeyPairs {
		cert, err := tls.LoadX509KeyPair(kp.Certificate, kp.Key)
		if err != nil {
			return nil, &TLSFileError{What: "client key pair", Path: kp.Certificate, Err: withoutPath(err)}
		}
		tc.Certificates = append(tc.Certificates, cert)
	}
	return tc, nil
}

// TLSFileError is a CA or client certificate file of a registry block that cannot be used.
// Path is as the configuration has it (absolute); Err does not repeat it, so a caller can
// show the path relative to the spec.
type TLSFileError struct {
	// What is "CA" or "client key pair".
	What string
	Path string
	Err  error
}

func (e *TLSFileError) Error() string { return fmt.Sprintf("%s %s: %v", e.What, e.Path, e.Err) }
func (e *TLSFileError) Unwrap() error { return e.Err }

// withoutPath drops the *fs.PathError around err: the file is named by TLSFileError.
func withoutPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
