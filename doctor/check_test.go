package doctor

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/archc-dev/archc/spec"
)

// TestRun: findings come back in the order given, whatever order the checks finish in;
// a check that ignores its deadline or panics is a failure, and the others still report.
func TestRun(t *testing.T) {
	t.Parallel()
	checks := []Check{
		{Name: "slow", Run: func(ctx context.Context) Finding {
			time.Sleep(50 * time.Millisecond)
			return Finding{Verdict: Warn, Checked: "slow", Cause: "c", Fix: "f"}
		}},
		{Name: "fast", Run: func(context.Context) Finding { return Finding{Verdict: OK, Checked: "fast"} }},
		{Name: "stuck", Timeout: 10 * time.Millisecond, Run: func(context.Context) Finding {
			select {} // ignores its context
		}},
		{Name: "crash", Run: func(context.Context) Finding { panic("boom") }},
		{Name: "honours deadline", Timeout: 10 * time.Millisecond, Run: func(ctx context.Context) Finding {
			<-ctx.Done()
			return Finding{Verdict: Fail, Checked: "waited", Cause: ctx.Err().Error(), Fix: "f"}
		}},
	}
	r := Run(context.Background(), checks)
	require.Len(t, r.Findings, 5)
	var names []string
	for _, f := range r.Findings {
		names = append(names, f.Name)
	}
	assert.Equal(t, []string{"slow", "fast", "stuck", "crash", "honours deadline"}, names)
	assert.Equal(t, Warn, r.Findings[0].Verdict)
	assert.Equal(t, OK, r.Findings[1].Verdict)
	assertFinding(t, r.Findings[2], Fail, "stuck", "the check did not finish within its 10ms deadline", "never answers")
	assertFinding(t, r.Findings[3], Fail, "crash", "the check crashed: boom", "report this as an archc bug")
	assertFinding(t, r.Findings[4], Fail, "waited", "context deadline exceeded", "f")
	assert.True(t, r.Failed())
	assert.Equal(t, 1, r.Count(OK))
	assert.Equal(t, 1, r.Count(Warn))
	assert.Equal(t, 3, r.Count(Fail))
}

// TestSpecCheck: errors fail with file:line:col, warnings warn, a valid spec is ok.
func TestSpecCheck(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.hcl")
	require.NoError(t, os.WriteFile(bad, []byte("platforms = [\"linux/amd64\"]\nbogus = 1\nnope {}\n"), 0o644))
	s, diags := spec.Load(spec.LoadOptions{Files: []string{bad}})
	require.True(t, diags.HasErrors())
	f := Run(context.Background(), []Check{SpecCheck(s, diags)}).Findings[0]
	assertFinding(t, f, Fail, "the spec", bad+":2:1: ", "`archc validate` prints every diagnostic")
	assert.Contains(t, f.Cause, "(and 1 more)")

	good := loadSpec(t, mirrorSpec("http://127.0.0.1:9"))
	f = Run(context.Background(), []Check{SpecCheck(good, nil)}).Findings[0]
	assertFinding(t, f, OK, "archbuild.hcl: valid, 1 components, platforms [linux/amd64], 1 registry blocks", "", "")
}

func TestNoProxyCovers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		entries []string
		host    string
		want    bool
	}{
		{[]string{"*"}, "anything:1", true},
		{[]string{"127.0.0.1"}, "127.0.0.1:5000", true},
		{[]string{"127.0.0.0/8"}, "127.0.0.2:5000", true},
		{[]string{"10.0.0.0/8"}, "127.0.0.1:5000", false},
		{[]string{"127.0.0.1:5000"}, "127.0.0.1:5000", true},
		{[]string{"127.0.0.1:5000"}, "127.0.0.1:5001", false},
		{[]string{".internal"}, "nexus.example.internal:8082", true},
		{[]string{"example.internal"}, "nexus.example.internal:8082", true},
		{[]string{"example.internal"}, "example.internal", true},
		{[]string{"ample.internal"}, "nexus.example.internal", false},
		{[]string{"::1"}, "[::1]:5000", true},
		{[]string{" LOCALHOST "}, "localhost:5000", true},
		{nil, "localhost:5000", false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, noProxyCovers(tt.entries, tt.host), "%v covers %s", tt.entries, tt.host)
	}
	assert.Equal(t, ".example.internal", noProxyEntry("nexus.example.internal:8082"))
	assert.Equal(t, "127.0.0.1", noProxyEntry("127.0.0.1:5001"))
	assert.Equal(t, "nexus.internal", noProxyEntry("nexus.internal:8082"), "never a whole top-level domain")
}
