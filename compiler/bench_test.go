package compiler_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/archc-dev/archc/compiler"
	"github.com/archc-dev/archc/compiler/compilertest"
	"github.com/archc-dev/archc/registry"
	"github.com/archc-dev/archc/spec"
	"github.com/stretchr/testify/require"
)

// BenchmarkCompile compiles generated specs of 20 and 200 components × 2 platforms from a
// warm lock and cache (what `archc plan` does after loading the spec) and reports the cost
// per build, which should stay flat as the spec grows.
//
//	go test ./compiler -run '^$' -bench Compile -benchmem
func BenchmarkCompile(b *testing.B) {
	perBuild(b, func(b *testing.B, s *spec.Spec, lock *registry.Lock, cache *registry.Cache) func() int {
		images := compiler.NewLockImages(lock, cache)
		return func() int {
			plan, err := compiler.Compile(context.Background(), s, images, compiler.WithBuildPlatform("linux/amd64"))
			require.NoError(b, err)
			return len(plan.Builds)
		}
	})
}

// BenchmarkPrepare is what `archc plan` does after loading the spec, from a warm lock and
// cache: read the lock, compile once (which also discovers the bases), check the pins. It
// makes no request. warm: the compile cache holds every build (a plan of unchanged
// inputs: contexts hashed, entries read); cold: it is emptied before each plan.
//
//	go test ./compiler -run '^$' -bench Prepare -benchmem
func BenchmarkPrepare(b *testing.B) {
	for _, warm := range []bool{true, false} {
		b.Run(map[bool]string{true: "warm", false: "cold"}[warm], func(b *testing.B) {
			perBuild(b, func(b *testing.B, s *spec.Spec, _ *registry.Lock, cache *registry.Cache) func() int {
				res, err := registry.NewResolver(s, cache)
				require.NoError(b, err)
				b.Cleanup(func() { require.Zero(b, res.Requests()) })
				opts := compiler.PrepareOptions{Resolver: res, Compile: []compiler.Option{compiler.WithBuildPlatform("linux/amd64")}}
				return func() int {
					if !warm {
						b.StopTimer()
						require.NoError(b, os.RemoveAll(filepath.Join(cache.Dir(), "compile")))
						b.StartTimer()
					}
					plan, changes, err := compiler.Prepare(context.Background(), s, opts)
					require.NoError(b, err)
					require.Empty(b, changes)
					return len(plan.Builds)
				}
			})
		})
	}
}

// perBuild runs the step setup returns over generated specs of 20 and 200 components × 2
// platforms with a warm lock and cache, and reports its cost per build (the step returns
// how many builds it made), which should stay flat as the spec grows.
func perBuild(b *testing.B, setup func(*testing.B, *spec.Spec, *registry.Lock, *registry.Cache) func() int) {
	for _, n := range []int{20, 200} {
		b.Run(fmt.Sprintf("components=%d", n), func(b *testing.B) {
			dir := b.TempDir()
			require.NoError(b, compilertest.Generate(dir, n))
			s, diags := spec.Load(spec.LoadOptions{Files: []string{filepath.Join(dir, "archbuild.hcl")}})
			require.False(b, diags.HasErrors(), diags.Error())
			cacheDir := filepath.Join(dir, ".cache")
			lock, err := compilertest.WarmLock(s, cacheDir, "linux/amd64")
			require.NoError(b, err)
			cache, err := registry.OpenCache(cacheDir)
			require.NoError(b, err)
			step := setup(b, s, lock, cache)
			builds := 0
			cpu0 := cpuTime(b)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				builds = step()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*builds), "ns/build")
			// CPU time per build is the figure to compare on a shared machine, where wall
			// time also measures the neighbours.
			b.ReportMetric(float64((cpuTime(b)-cpu0).Nanoseconds())/float64(b.N*builds), "cpu-ns/build")
		})
	}
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	require.NoError(b, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
