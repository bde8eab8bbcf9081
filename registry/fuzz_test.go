package registry

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/archc-dev/archc/spec"
)

// FuzzParseLock: ParseLock never panics, and whatever parses re-serializes stably: the
// bytes of a parsed lock parse to the same lock, and render to the same bytes.
func FuzzParseLock(f *testing.F) {
	f.Add(sampleLock().Bytes())
	f.Add([]byte("<<<<<<< HEAD\n" + string(sampleLock().Bytes()) + "=======\n>>>>>>> theirs\n"))
	f.Add([]byte("image \"docker.io/library/a:1\" {\n digest = \"sha256:x\"\n host = \"h\"\n platform \"arm\" {}\n}\n"))
	f.Add([]byte("image \"docker.io/library/a:1\" {\n digest = \"${\"sha256:\"}x\"\n host = \"h%{if true}x%{endif}\"\n}\nimage \"docker.io/library/a:1\" {}\n"))
	if b, err := os.ReadFile(filepath.Join("testdata", "lock.golden.hcl")); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		l, err := ParseLock(src, LockFileName)
		if err != nil {
			_ = err.Error() // renders without panicking, too
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

// FuzzComponentBases: base-image discovery never panics on arbitrary Dockerfile bytes,
// target names or args, and what it finds is normalized and on the requested platforms.
func FuzzComponentBases(f *testing.F) {
	for _, s := range []struct{ df, target, arg string }{
		{"FROM alpine:3.20\nRUN true\n", "", ""},
		{"ARG BASE=alpine\nARG VER=3.19\nFROM ${BASE}:$VER\n", "", "3.20"},
		{"FROM --platform=$BUILDPLATFORM golang:1.23 AS build\nFROM scratch AS out\nCOPY --from=build /x /x\nCOPY --from=busybox:1.36 / /\nFROM out\n", "", ""},
		{"FROM alpine:3.20 AS a\nFROM debian:12 AS b\nFROM a AS c\nRUN --mount=from=ubuntu:24.04,target=/u true\n", "c", ""},
		{"FROM base\nCOPY --from=tools / /\nFROM rt\n", "", ""},
		{"ARG TARGETARCH\nFROM example.org/base-${TARGETARCH}:1\n", "", ""},
		{"# escape=`\nFROM a AS b\nFROM b AS a\nFROM ${VER:-x}\n", "a", "${VER}"},
	} {
		f.Add([]byte(s.df), s.target, s.arg)
	}
	both := []string{"linux/amd64", "linux/arm64"}
	allowed := append([]string{"linux/riscv64"}, both...)
	f.Fuzz(func(t *testing.T, df []byte, target, arg string) {
		c := &spec.Component{Name: "app", Dockerfile: "Dockerfile", Target: target, Platforms: both,
			Args:     map[string]string{"VER": arg, "BASE": arg},
			Contexts: []spec.NamedContext{{Name: "base", Component: "other"}, {Name: "tools", Image: "busybox:1.36"}}}
		reqs, err := dockerfileBases(c, df, "linux/riscv64")
		if err != nil {
			return
		}
		for _, r := range reqs {
			if n, err := NormalizeRef(r.Ref); err != nil || n != r.Ref {
				t.Fatalf("reference %q is not normalized (%q, %v)", r.Ref, n, err)
			}
			for _, p := range r.Platforms {
				if !slices.Contains(allowed, p) {
					t.Fatalf("%s: platform %q was not asked for", r.Ref, p)
				}
			}
		}
	})
}
