// Command planprof runs what `archc plan --locked` does after loading the spec (Prepare)
// on a project written by benchgen, with CPU and allocation profiles:
//
//	go run ./compiler/compilertest/cmd/benchgen -n 1000 -dir /tmp/archc-bench
//	go run ./compiler/compilertest/cmd/planprof -dir /tmp/archc-bench -cpuprofile cpu.out -memprofile mem.out
//	go tool pprof -top cpu.out
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/archc-dev/archc/compiler"
	"github.com/archc-dev/archc/registry"
	"github.com/archc-dev/archc/spec"
)

func main() {
	dir := flag.String("dir", "", "project written by benchgen")
	cpu := flag.String("cpuprofile", "", "write a CPU profile here")
	mem := flag.String("memprofile", "", "write an allocation profile here")
	runs := flag.Int("runs", 1, "plans to make")
	flag.Parse()
	if err := run(*dir, *cpu, *mem, *runs); err != nil {
		fmt.Fprintf(os.Stderr, "planprof: %v\n", err)
		os.Exit(1)
	}
}

func run(dir, cpu, mem string, runs int) error {
	if cpu != "" {
		f, err := os.Create(cpu)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	for i := 0; i < runs; i++ {
		start := time.Now()
		s, diags := spec.Load(spec.LoadOptions{Files: []string{filepath.Join(dir, "archbuild.hcl")}})
		if diags.HasErrors() {
			return diags
		}
		cache, err := registry.OpenCache(filepath.Join(dir, ".cache"))
		if err != nil {
			return err
		}
		res, err := registry.NewResolver(s, cache)
		if err != nil {
			return err
		}
		plan, _, err := compiler.Prepare(context.Background(), s, compiler.PrepareOptions{Resolver: res, Locked: true,
			Compile: []compiler.Option{compiler.WithBuildPlatform("linux/amd64")}})
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "run %d: %d builds in %s\n", i, len(plan.Builds), time.Since(start).Round(time.Millisecond))
	}
	if mem != "" {
		f, err := os.Create(mem)
		if err != nil {
			return err
		}
		defer f.Close()
		runtime.GC()
		return pprof.Lookup("allocs").WriteTo(f, 0)
	}
	return nil
}
