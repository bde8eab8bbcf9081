package registry

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// FuzzParseLock: ParseLock never panics, and whatever parses re-serializes stably: the
// bytes of a parsed lock parse to the same lock, and render to the same bytes.
func FuzzParseLock(f *testing.F) {
	f.Add(sampleLock().Bytes())
	f.Add([]byte("<<<<<<< HEAD\n" + string(sampleLock().Bytes()) + "=======\n>>>>>>> theirs\n"))
	f.Add([]byte("image \"docker.io/library/a:1\" {\n digest = \"sha256:x\"\n host = \"h\"\n platform \"arm\" {}\n}\n"))
	f.Add([]byte("image \"docker.io/library/a:1\" {\n digest = \"${\"sha256:\"}x\"\n host = \"h%{if true}x%{endif}\"\n}\nimage \"docker.io/library/a:1\" {}\n"))
	// Issue 11's hostile shapes: deep nesting (a stack overflow before the bounded check),
	// binary data, a control character in a string.
	f.Add([]byte("x = " + strings.Repeat("[", 5000)))
	f.Add([]byte("image \"a\" {\n digest = " + strings.Repeat("(", 3000) + "\"x\"" + strings.Repeat(")", 3000) + "\n}\n"))
	f.Add([]byte("\x7fELF\x02\x01\x01\x00\x00\x00image"))
	f.Add([]byte("image \"docker.io/library/a:1\" {\n digest = \"sha256:\x1b[2J\a\"\n}\n"))
	if b, err := os.ReadFile(filepath.Join("testdata", "lock.golden.hcl")); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		l, err := ParseLock(src, LockFileName)
		if err != nil {
			msg := err.Error() // renders without panicking, too
			if strings.ContainsAny(msg, "\x1b\x07") {
				t.Fatalf("an error prints a control character raw: %q", msg)
			}
			return
		}
		out := l.Bytes()
		back, err := ParseLock(out, LockFileName)
		if err != nil {
			t.Fatalf("a parsed lock renders to a lock that does not parse: %v\n%s", err, out)
		}
		if !lockEqual(l, back) {
			t.Fatalf("parse → render → parse changed the lock:\n%+v\n%+v", l, back)
		}
		if again := back.Bytes(); string(again) != string(out) {
			t.Fatalf("render is not stable:\n%s\n%s", out, again)
		}
	})
}

// lockEqual compares locks, treating nil and empty platform lists alike.
func lockEqual(a, b *Lock) bool {
	return slices.EqualFunc(a.Images, b.Images, func(x, y Image) bool {
		return x.Ref == y.Ref && x.Digest == y.Digest && x.Host == y.Host && slices.Equal(x.Platforms, y.Platforms)
	})
}
