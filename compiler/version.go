package compiler

import "runtime/debug"

// buildkitVersion is the buildkit module version compiled in, for messages.
var buildkitVersion = func() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, m := range info.Deps {
			if m.Path == "github.com/moby/buildkit" {
				return m.Version
			}
		}
	}
	return "v0.34.2"
}()
