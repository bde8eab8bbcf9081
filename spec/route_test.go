package spec

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestBuilderCandidates(t *testing.T) {
	t.Parallel()
	s := &Spec{
		Builders: []Builder{
			{Name: "amd-1", Platforms: []string{"linux/amd64"}},
			{Name: "any", Address: "tcp://127.0.0.1:1"},
			{Name: "arm-1", Platforms: []string{"linux/arm64"}},
			{Name: "amd-2", Platforms: []string{"linux/amd64", "linux/arm64"}},
		},
		Components: []Component{{Name: "app"}, {Name: "pinned", Builder: "arm-1"}},
	}
	assert.Equal(t, []string{"amd-1", "amd-2", "any"}, s.BuilderCandidates("app", "linux/amd64"))
	assert.Equal(t, []string{"arm-1", "amd-2", "any"}, s.BuilderCandidates("app", "linux/aarch64"), "spellings of one platform agree")
	assert.Equal(t, []string{"any"}, s.BuilderCandidates("app", "linux/riscv64"))
	assert.Equal(t, []string{"arm-1"}, s.BuilderCandidates("pinned", "linux/amd64"), "a pin wins; apply checks it can run the platform")
	assert.Nil(t, (&Spec{Components: []Component{{Name: "app"}}}).BuilderCandidates("app", "linux/amd64"), "no builder blocks: the default local builder")
	assert.Equal(t, "arm-1", s.Builder("arm-1").Name)
	assert.Nil(t, s.Builder("nope"))
}
