# archc example: three small busybox images for amd64 and arm64.
#
#   make demo                                   # services, seed, then the apply below
#   archc validate examples/archbuild.hcl --json
#   archc plan examples/archbuild.hcl --format json
#   archc apply examples/archbuild.hcl --var TAG=1.0.0

variable "TAG" {
  description = "Tag for every image pushed to the in-house registry."
  default     = "dev"
  validation {
    condition     = can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.TAG))
    error_message = "TAG must be a valid image tag."
  }
}

variable "MIRROR" {
  description = "Pull-through mirror for docker.io (a local registry in the demo)."
  default     = "http://127.0.0.1:5000"
}

locals {
  push_to = "127.0.0.1:5001/demo"
  labels = {
    "org.opencontainers.image.source" = "https://example.invalid/archc-demo"
  }
}

platforms = ["linux/amd64", "linux/arm64"]

proxy {
  http_proxy  = "http://127.0.0.1:8888"
  https_proxy = "http://127.0.0.1:8888"
  no_proxy    = ["localhost", "127.0.0.1", "::1", ".internal"]
}

# docker.io: the mirror first (http:// means plain HTTP), then docker.io itself through the
# proxy. Add `mirrors_only = true` where the upstream must never be tried.
registry "docker.io" {
  mirrors = [var.MIRROR]
}

# The in-house registry the images are pushed to: plain HTTP on loopback.
registry "127.0.0.1:5001" {
  http = true
}

# Another in-house registry, with a self-signed certificate.
registry "nexus.example.internal:8082" {
  insecure = true
}

component "base" {
  context = "./base"
  tags    = ["${local.push_to}/base:${var.TAG}"]
  labels  = local.labels
}

component "app" {
  context  = "./app"
  target   = "runtime"
  args     = { GREETING = "hello from app" }
  contexts = { base = component.base }
  tags     = ["${local.push_to}/app:${var.TAG}"]
  labels   = merge(local.labels, { "org.opencontainers.image.title" = "app" })
}

component "tools" {
  context = "./tools"
  tags    = ["${local.push_to}/tools:${var.TAG}"]
}
