package registry

import (
	"testing"

	digest "github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBodyDigest(t *testing.T) {
	t.Parallel()
	body := []byte(`{"schemaVersion":2}`)
	good := digest.FromBytes(body)
	other := digest.FromString("other")
	tests := []struct {
		name, path, header string
		want               digest.Digest
		err                string
	}{
		{name: "tag, header", path: "/v2/library/a/manifests/1.36", header: good.String(), want: good},
		{name: "tag, no header: hashed", path: "/v2/library/a/manifests/1.36", want: good},
		{name: "by digest", path: "/v2/library/a/manifests/" + good.String(), want: good},
		{name: "header lies", path: "/v2/library/a/manifests/1.36", header: other.String(), err: "content has digest " + good.String()},
		{name: "wrong content for the digest", path: "/v2/library/a/manifests/" + other.String(), header: good.String(), err: "manifest " + other.String()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := bodyDigest(tt.path, tt.header, body)
			if tt.err != "" {
				var me *malformedError
				require.ErrorAs(t, err, &me)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}
