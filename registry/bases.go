package registry

import (
	"github.com/containerd/platforms"

	"github.com/archc-dev/archc/spec"
)

// ImageRequest is one base image reference and the platforms it is needed for. The
// compiler finds them (by compiling: it is the one reader of Dockerfiles); registry pins them.
type ImageRequest struct {
	// Ref is normalized ("docker.io/library/alpine:3.20").
	Ref string
	// Platforms are normalized and sorted.
	Platforms []string
	// Components are the names of the components that use Ref, sorted (for messages).
	Components []string
}

// DefaultBuildPlatform is the platform of the machine archc runs on ("linux/amd64"): what
// `FROM --platform=$BUILDPLATFORM` stages run on.
func DefaultBuildPlatform() string {
	return spec.FormatPlatform(platforms.DefaultSpec())
}
