package testenv

import (
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTinyproxyForwardsToRegistry(t *testing.T) {
	t.Parallel()
	reg := StartRegistry(t)
	tp := StartTinyproxy(t)
	resp, err := viaProxy(t, tp.URL, nil).Get(reg.URL + "/v2/")
	require.NoError(t, err)
	defer resp.Body.Close()
	_, _ = io.ReadAll(resp.Body)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "registry/2.0", resp.Header.Get("Docker-Distribution-Api-Version"))
}
