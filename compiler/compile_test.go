package compiler

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCompileSmoke(t *testing.T) {
	plan := compileProject(t, "../testdata/compiler/project")
	for _, b := range plan.Builds {
		t.Logf("%s %s ops=%d bases=%v ctx=%v deps=%v", b.ID, b.LLBDigest, b.Ops, b.Bases, b.Contexts, b.DependsOn)
	}
	t.Log(plan.Warnings)
	require.Len(t, plan.Builds, 5)
}
