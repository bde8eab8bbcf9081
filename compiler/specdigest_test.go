package compiler

import (
	"testing"

	"github.com/archc-dev/archc/spec"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zclconf/go-cty/cty"
)

// TestSpecDigestHasNoSecrets: spec_digest is published, so nothing that may be a secret
// (variable values, the proxy and its credentials) may feed it; what decides the build does.
func TestSpecDigestHasNoSecrets(t *testing.T) {
	t.Parallel()
	withVar := func(value, source string) *spec.Spec {
		s := projectSpec(t, projectDir)
		s.Variables = []spec.Variable{{Name: "PROXY_PASSWORD", Type: "string", Value: value, Cty: cty.StringVal(value), Source: source}}
		return s
	}
	base, err := SpecDigest(withVar("s3cr3t-pw", "flag"))
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		s    *spec.Spec
		same bool
	}{
		{"variable value", withVar("guess-1", "flag"), true},
		{"variable source", withVar("s3cr3t-pw", "env"), true},
		{"no variables", projectSpec(t, projectDir), true},
		{"proxy credentials", func() *spec.Spec {
			s := withVar("s3cr3t-pw", "flag")
			s.Proxy.HTTPProxy = "http://alice:guess-2@127.0.0.1:7890"
			return s
		}(), true},
		{"proxy removed", func() *spec.Spec { s := withVar("s3cr3t-pw", "flag"); s.Proxy = nil; return s }(), true},
		{"a tag", func() *spec.Spec {
			s := withVar("s3cr3t-pw", "flag")
			s.Components[2].Tags = []string{"registry.invalid/app:1.0"}
			return s
		}(), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := SpecDigest(tc.s)
			require.NoError(t, err)
			if tc.same {
				assert.Equal(t, base, got)
			} else {
				assert.NotEqual(t, base, got)
			}
		})
	}
}
