package main

import (
	"fmt"
	"runtime/debug"
)

// version is set by the Makefile with -ldflags "-X main.version=...".
var version = "dev"

type versionCmd struct{}

func (versionCmd) Run(g *Globals) error {
	bk := "unknown"
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, m := range info.Deps {
			if m.Path == "github.com/moby/buildkit" {
				bk = m.Version
			}
		}
	}
	fmt.Fprintf(g.Stdout, "archc %s (buildkit %s)\n", version, bk)
	return nil
}
