// Package compilertest prepares what compiler and `archc plan` tests and benchmarks need
// without a network: a lock and a warm content cache of synthetic images for every base a
// spec uses, and generated projects of any size. Not for production use.
package compilertest

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/archc-dev/archc/compiler"
	"github.com/archc-dev/archc/registry"
	"github.com/archc-dev/archc/spec"
	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Host is the registry host every synthetic pin claims to come from.
const Host = "127.0.0.1:5000"

// Config returns the synthetic image config of ref for platform ("linux/arm64"): one layer,
// so it is never mistaken for scratch, and an ENV naming the image.
func Config(ref, platform string) []byte {
	os, arch, _ := strings.Cut(platform, "/")
	arch, _, _ = strings.Cut(arch, "/")
	return fmt.Appendf(nil, `{"architecture":%q,"os":%q,"config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","FROM_IMAGE=%s"],"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":[%q]}}`,
		arch, os, ref, digest.FromString("layer "+ref+" "+platform))
}

// Manifest returns the synthetic manifest digest of ref for platform.
func Manifest(ref, platform string) digest.Digest {
	return digest.FromBytes(manifest(ref, platform))
}

// manifest is the synthetic image manifest of ref for platform: it names Config(ref,
// platform) and one layer, so the lock's pins agree with content (registry.VerifyLock).
func manifest(ref, platform string) []byte {
	cfg := Config(ref, platform)
	return fmt.Appendf(nil, `{"schemaVersion":2,"mediaType":%q,"config":{"mediaType":%q,"digest":%q,"size":%d},"layers":[{"mediaType":%q,"digest":%q,"size":1}]}`,
		ocispec.MediaTypeImageManifest, ocispec.MediaTypeImageConfig, digest.FromBytes(cfg), len(cfg),
		ocispec.MediaTypeImageLayerGzip, digest.FromString("layer blob "+ref+" "+platform))
}

// index is the synthetic image index of ref: each platform's manifest, listed under it.
func index(ref string, platforms []string) ([]byte, error) {
	idx := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex}
	for _, p := range platforms {
		m := manifest(ref, p)
		os, arch, _ := strings.Cut(p, "/")
		arch, variant, _ := strings.Cut(arch, "/")
		idx.Manifests = append(idx.Manifests, ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest,
			Digest: digest.FromBytes(m), Size: int64(len(m)), Platform: &ocispec.Platform{OS: os, Architecture: arch, Variant: variant}})
	}
	return json.Marshal(idx)
}

// WarmLock writes archbuild.lock.hcl next to s (in s.Dir) pinning every base image s needs
// to synthetic images, and puts their indexes, manifests and configs into the cache at
// cacheDir, as `archc lock` leaves it.
func WarmLock(s *spec.Spec, cacheDir, buildPlatform string) (*registry.Lock, error) {
	reqs, _, err := compiler.DiscoverBases(context.Background(), s, compiler.WithBuildPlatform(buildPlatform))
	if err != nil {
		return nil, err
	}
	cache, err := registry.OpenCache(cacheDir)
	if err != nil {
		return nil, err
	}
	lock := &registry.Lock{}
	for _, r := range reqs {
		idx, err := index(r.Ref, r.Platforms)
		if err != nil {
			return nil, err
		}
		if err := cache.Put(digest.FromBytes(idx), idx); err != nil {
			return nil, err
		}
		im := registry.Image{Ref: r.Ref, Digest: digest.FromBytes(idx), Host: Host}
		for _, p := range r.Platforms {
			cfg := Config(r.Ref, p)
			cd := digest.FromBytes(cfg)
			if err := cache.Put(cd, cfg); err != nil {
				return nil, err
			}
			if err := cache.Put(Manifest(r.Ref, p), manifest(r.Ref, p)); err != nil {
				return nil, err
			}
			im.Platforms = append(im.Platforms, registry.PlatformImage{Platform: p, Manifest: Manifest(r.Ref, p), Config: cd})
		}
		lock.Set(im)
	}
	if err := registry.WriteLock(filepath.Join(s.Dir, registry.LockFileName), lock); err != nil {
		return nil, err
	}
	return lock, nil
}
