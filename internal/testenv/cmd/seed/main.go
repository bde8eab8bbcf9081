// Command seed pushes the deterministic multi-arch busybox image (linux/amd64 + linux/arm64,
// built from the busybox-static binaries scripts/setup.sh caches) into a plain-HTTP loopback
// registry, for `make demo`. It prints the reference and the digests it pushed.
//
//	go run ./internal/testenv/cmd/seed -registry http://127.0.0.1:5000 -repo library/busybox -tag 1.36
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"sort"
	"time"

	"github.com/archc-dev/archc/internal/testenv"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "seed: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	registry := fs.String("registry", "http://127.0.0.1:5000", "plain-HTTP loopback registry URL")
	repo := fs.String("repo", "library/busybox", "repository to push to")
	tag := fs.String("tag", "1.36", "tag to push")
	if err := fs.Parse(args); err != nil {
		return err
	}
	u, err := url.Parse(*registry)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return fmt.Errorf("-registry %q: want http://127.0.0.1:PORT", *registry)
	}
	if h := u.Hostname(); h != "127.0.0.1" && h != "localhost" {
		return fmt.Errorf("-registry %q: only loopback registries are seeded", *registry)
	}
	c, err := testenv.BusyboxContent()
	if err != nil {
		return fmt.Errorf("build busybox image (run `make setup` first): %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	img, err := c.Push(ctx, u.String(), *repo, *tag)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "seeded %s\n  index %s\n", img.Ref, img.Index)
	plats := make([]string, 0, len(img.Platforms))
	for p := range img.Platforms {
		plats = append(plats, p)
	}
	sort.Strings(plats)
	for _, p := range plats {
		pi := img.Platforms[p]
		fmt.Fprintf(out, "  %-12s manifest %s config %s\n", p, pi.Manifest, pi.Config)
	}
	return nil
}
