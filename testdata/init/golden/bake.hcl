# archbuild.hcl, written by "archc init" from the Docker settings and the project it found.
# Review it, then run "archc lock" (pins the base images) and "archc plan" (shows the builds).

# From docker-bake.hcl. Set it with ARCHC_VAR_TAG or --var TAG=... (not $TAG as bake does).
variable "TAG" {
  default = "dev"
}

# From docker-bake.hcl. Set it with ARCHC_VAR_REGISTRY or --var REGISTRY=... (not $REGISTRY as bake does).
variable "REGISTRY" {
  default = "registry.example.com"
}

# The platforms every component builds, unless it sets its own platforms.
platforms = ["linux/amd64", "linux/arm64"]

# Components converted from the targets of docker-bake.hcl.
# group "default" from docker-bake.hcl: targets = ["app", "base"]. archc builds every component, or those
# named with --component.

component "base" {
  context = "./base"
  target  = "runtime"
}

component "app" {
  context    = "./app"
  dockerfile = "app.Dockerfile"
  args       = { VERSION = "${var.TAG}" }
  tags       = ["${var.REGISTRY}/app:${var.TAG}", "registry.example.com/app:latest"]
  platforms  = ["linux/amd64"]
  labels     = { "org.opencontainers.image.title" = "app" }
  contexts = {
    "base" = component.base
  }
  # Not carried over from docker-bake.hcl target "app": contexts.src (https://...), output, secret, inherits.
}
