package registry

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseLockErrors(t *testing.T) {
	t.Parallel()
	good := string(sampleLock().Bytes())
	dg := d("a").String()
	tests := []struct {
		name    string
		src     string
		want    []string // substrings of the error, in order
		broken  []string // nil: the file is not valid HCL, no partial lock
		partial int      // pins that still parsed
	}{
		{name: "syntax", src: `image "x" {`, want: []string{"archbuild.lock.hcl:1:11: error: Unclosed configuration block"}},
		{name: "merge conflict", src: "<<<<<<< HEAD\n" + good + "=======\n" + good + ">>>>>>> theirs\n",
			want: []string{"archbuild.lock.hcl:1:1: error: ", "or update every pin"}},
		{name: "bad digest", src: good + "image \"docker.io/library/a:1\" {\n digest = \"nope\"\n host = \"h\"\n}\n",
			want:   []string{":29:11: error: Invalid digest", `digest "nope"`, "update just those pins: docker.io/library/a:1"},
			broken: []string{"docker.io/library/a:1"}, partial: 2},
		{name: "unknown attr and bad ref", src: "image \"a\" {\n digest = \"" + dg + "\"\n host = \"h\"\n extra = 1\n}\n",
			want:   []string{"archbuild.lock.hcl:4:2: error: Unsupported argument", "archbuild.lock.hcl:1:7: error: Invalid image reference"},
			broken: []string{"a"}},
		{name: "missing host", src: "image \"docker.io/library/a:1\" {\n digest = \"" + dg + "\"\n}\n",
			want: []string{"archbuild.lock.hcl:1:", "Missing required argument", `"host" is required`}, broken: []string{"docker.io/library/a:1"}},
		{name: "host with a scheme", src: "image \"docker.io/library/a:1\" {\n digest = \"" + dg + "\"\n host = \"http://h\"\n}\n",
			want: []string{":3:9: error: Invalid host"}, broken: []string{"docker.io/library/a:1"}},
		{name: "bad platform and config", src: "image \"docker.io/library/a:1\" {\n digest = \"" + dg + "\"\n host = \"h\"\n" +
			" platform \"arm\" {\n  manifest = \"" + dg + "\"\n  config = 1\n }\n}\n",
			want:   []string{":4:11: error: Invalid platform", ":6:12: error: Invalid value"},
			broken: []string{"docker.io/library/a:1"}},
		{name: "duplicate image", src: good + good[strings.Index(good, "\nimage"):],
			want:   []string{"error: Duplicate image block", "already pinned at line"},
			broken: []string{"docker.io/library/alpine:3.20", "docker.io/library/busybox:1.36"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l, err := ParseLock([]byte(tt.src), "archbuild.lock.hcl")
			require.Error(t, err)
			assert.Nil(t, l)
			msg := errAndHint(err)
			for _, w := range tt.want {
				i := strings.Index(msg, w)
				if !assert.GreaterOrEqual(t, i, 0, "%q in:\n%s", w, msg) {
					continue
				}
				msg = msg[i+len(w):]
			}
			assert.NotContains(t, err.Error(), "hint")
			assert.Contains(t, errAndHint(err), "\nhint: the lock is written by archc lock; after a merge conflict, delete the broken image blocks (or the file) and run archc lock")
			var le *LockError
			require.ErrorAs(t, err, &le)
			assert.Equal(t, tt.broken, le.Broken)
			if tt.broken == nil {
				assert.Nil(t, le.Partial)
				return
			}
			require.NotNil(t, le.Partial)
			assert.Len(t, le.Partial.Images, tt.partial)
		})
	}
}

// ReadLock names the file relative to the working directory, with the offending line.
func TestReadLockErrorIsRelative(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, LockFileName)
	require.NoError(t, os.WriteFile(path, []byte("image \"docker.io/library/a:1\" {\n  digest = \"sha256:nope\"\n  host = \"h\"\n}\n"), 0o644))
	t.Chdir(dir)
	_, err := ReadLock(path)
	require.Error(t, err)
	assert.Equal(t, `archbuild.lock.hcl:2:12: error: Invalid digest
  2 |   digest = "sha256:nope"
    |            ^^^^^^^^^^^^^
  digest "sha256:nope": invalid checksum digest length.
hint: the lock is written by archc lock; after a merge conflict, delete the broken image blocks (or the file) and run archc lock, or update just those pins: docker.io/library/a:1`, errAndHint(err))
	assert.NotContains(t, err.Error(), dir)
}
