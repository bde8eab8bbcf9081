// Command benchgen writes a generated project with a warm lock and content cache, for
// timing `archc plan` without a network:
//
//	go run ./compiler/compilertest/cmd/benchgen -n 200 -dir /tmp/archc-bench
//	/usr/bin/time -v bin/archc plan /tmp/archc-bench/archbuild.hcl --format json \
//	    --cache-dir /tmp/archc-bench/.cache --build-platform linux/amd64 >/dev/null
//
// With -bake it also writes the docker-bake.hcl of the same builds, for `docker buildx bake`:
//
//	cd /tmp/archc-bench && /usr/bin/time -v buildx bake --print >/dev/null
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/archc-dev/archc/compiler/compilertest"
	"github.com/archc-dev/archc/compiler/compilertest/cmd/benchgen/bakefile"
	"github.com/archc-dev/archc/spec"
)

func main() {
	n := flag.Int("n", 200, "number of components (each for linux/amd64 and linux/arm64)")
	dir := flag.String("dir", "", "directory to write (created; must not hold another project)")
	bake := flag.Bool("bake", false, "also write "+bakefile.FileName+" for the same builds")
	flag.Parse()
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "benchgen: -dir is required")
		os.Exit(2)
	}
	if err := run(*dir, *n, *bake); err != nil {
		fmt.Fprintf(os.Stderr, "benchgen: %v\n", err)
		os.Exit(1)
	}
}

func run(dir string, n int, bake bool) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := compilertest.Generate(dir, n); err != nil {
		return err
	}
	s, diags := spec.Load(spec.LoadOptions{Files: []string{filepath.Join(dir, "archbuild.hcl")}})
	if diags.HasErrors() {
		return diags
	}
	if _, err := compilertest.WarmLock(s, filepath.Join(dir, ".cache"), "linux/amd64"); err != nil {
		return err
	}
	if bake {
		b, err := bakefile.Write(s)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, bakefile.FileName), b, 0o644); err != nil {
			return err
		}
	}
	fmt.Printf("wrote %d components × 2 platforms, lock and cache to %s\n", n, dir)
	return nil
}
