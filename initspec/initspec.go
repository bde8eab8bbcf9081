// Package initspec writes a first archbuild.hcl from what a machine and a repository already
// hold: Docker's daemon.json (registry-mirrors, insecure-registries, proxies), config.json
// (proxies.default), the proxy environment, the Dockerfiles under a directory, or a
// docker-bake.hcl. It returns the file's bytes and a report of what came from where.
//
// It writes nothing but a temporary copy to validate the result (the CLI writes the file),
// never puts a credential in the file (proxy credentials become a sensitive variable), and
// reaches the network only to tell how an insecure registry speaks, through registry's
// client.
package initspec

import (
	"context"
	"fmt"
	"time"
)

// DefaultPlatforms are the platforms a generated spec builds when none are asked for.
var DefaultPlatforms = []string{"linux/amd64", "linux/arm64"}

// DefaultProbeTimeout bounds the probe of one insecure registry (each scheme tried).
const DefaultProbeTimeout = 3 * time.Second

// Options say where to look. Paths that do not exist are skipped and reported.
type Options struct {
	// Dir is the repository root; the spec goes to Dir/archbuild.hcl and its paths are
	// relative to Dir.
	Dir string
	// Platforms are the top-level platforms (default DefaultPlatforms).
	Platforms []string
	// DaemonJSON is the path of Docker's daemon.json; "" skips it.
	DaemonJSON string
	// DockerConfig is the path of the Docker CLI's config.json; "" skips it.
	DockerConfig string
	// Environ is the process environment (KEY=VALUE), for HTTP_PROXY and friends.
	Environ []string
	// FromBake is the path of a docker-bake.hcl whose targets become the components,
	// instead of the Dockerfiles found under Dir.
	FromBake string
	// ProbeTimeout bounds each probe of an insecure registry (default DefaultProbeTimeout).
	ProbeTimeout time.Duration
}

// Result is a generated spec.
type Result struct {
	// Spec is the archbuild.hcl source, formatted by hclwrite.
	Spec []byte
	// Report says what came from where, in the order of the file.
	Report []Note
	// Placeholders are values for the variables that have no default (proxy credentials),
	// for validating the spec without the secrets: never real values.
	Placeholders map[string]string
}

// Note is one line of the report: what was written and where it came from.
type Note struct {
	// Subject is what the note is about: `registry "docker.io"`, `proxy`, `component "api"`.
	Subject string
	// Source is where it came from: a file and key, the environment, a probe.
	Source string
	// Detail says what was made of it, or why it was left out. It never holds a secret.
	Detail string
}

func (n Note) String() string {
	s := n.Subject
	if n.Source != "" {
		s += " (from " + n.Source + ")"
	}
	if n.Detail != "" {
		s += ": " + n.Detail
	}
	return s
}

// Generate builds the spec. It fails on settings files that exist but cannot be read, and
// on a bake file that does not parse; everything it cannot carry over is in the report.
func Generate(ctx context.Context, opts Options) (*Result, error) {
	if opts.ProbeTimeout <= 0 {
		opts.ProbeTimeout = DefaultProbeTimeout
	}
	platforms := opts.Platforms
	if len(platforms) == 0 {
		platforms = DefaultPlatforms
	}
	g := newGenerator()
	settings, err := readSettings(opts)
	if err != nil {
		return nil, err
	}
	g.notes = append(g.notes, settings.notes...)
	g.platforms(platforms, len(opts.Platforms) > 0)
	px := g.proxy(settings.proxies)
	g.registries(ctx, settings, px, opts.ProbeTimeout)
	if opts.FromBake != "" {
		if err := g.bake(opts.FromBake, opts.Dir); err != nil {
			return nil, err
		}
	} else {
		comps, err := discover(opts.Dir)
		if err != nil {
			return nil, fmt.Errorf("look for Dockerfiles under %s: %w", opts.Dir, err)
		}
		g.components(comps)
	}
	return &Result{Spec: g.bytes(), Report: g.notes, Placeholders: g.placeholders}, nil
}
