# Every block and attribute of the language, with non-default values.
variable "TAG" {
  description = "image tag"
  default     = "1.2.3"
  validation {
    condition     = strlen(var.TAG) > 0
    error_message = "TAG must not be empty."
  }
}

variable "PLATFORMS" {
  type    = list(string)
  default = ["linux/amd64", "linux/arm/v7", "linux/aarch64"]
}

variable "DEBUG" {
  type    = bool
  default = false
}

locals {
  repo   = "r.invalid:5000/team"
  suffix = var.DEBUG ? "-debug" : ""
  tag    = "${var.TAG}${local.suffix}"
}

platforms = var.PLATFORMS

# Defaults for every component that sets no cache_from / cache_to of its own.
cache_from = ["type=registry,ref=${local.repo}/cache:app"]
cache_to   = ["type=registry,ref=${local.repo}/cache:app,mode=max,image-manifest=true", "type=local,dest=../out/cache"]

proxy {
  http_proxy  = "http://alice:s3cret@127.0.0.1:8888"
  https_proxy = "http://127.0.0.1:8888"
  all_proxy   = "socks5://bob:hunter2@127.0.0.1:1080"
  no_proxy    = ["localhost", ".internal"]
}

registry "docker.io" {
  mirrors      = ["http://127.0.0.1:5000/", "https://mirror.invalid/cache"]
  mirrors_only = true
}

registry "r.invalid:5000" {
  http     = true
  insecure = false
  ca       = "../certs/ca.pem"
}

builder "local" {}

# The platforms this spec's builders run build stages on (FROM --platform=$BUILDPLATFORM).
build_platforms = ["linux/amd64", "linux/aarch64"]

secret "npm_token" { env = "NPM_TOKEN" }
secret "pip_conf" { file = "../secrets/pip.conf" } # need not exist before apply

ssh "default" {}
ssh "deploy" { paths = ["../keys/deploy_ed25519"] }

builder "arm" {
  address      = "tcp://127.0.0.1:1234"
  platforms    = ["linux/arm64"]
  ca_cert      = "../certs/ca.pem"
  cert         = "../certs/ca.pem"
  key          = "../certs/ca.pem"
  server_name  = "buildkitd.internal"
  max_parallel = 2
  required     = true
}

component "lib" {
  context  = "../ctx/lib"
  output   = "cache-only"
  cache_to = [] # replaces the default: no export
}

component "app" {
  context    = "../ctx/app"
  dockerfile = "Dockerfile.alt"
  target     = "runtime"
  args       = { VERSION = var.TAG, JOBS = 4 }
  labels     = { "org.opencontainers.image.version" = local.tag }
  tags       = ["${local.repo}/app:${local.tag}", "${local.repo}/app:latest"]
  platforms  = ["linux/amd64"]
  contexts = {
    lib    = component.lib
    assets = "../ctx/lib"
    alpine = "docker-image://docker.io/library/busybox:1.36"
  }
  depends_on = ["lib", component.export]
  builder    = "local"
  cache_from = ["type=local,src=../out/cache", "type=registry, ref=${local.repo}/cache:app"]
  secrets         = ["pip_conf", "npm_token", "npm_token"]
  ssh             = ["default"]
  allow           = ["security.insecure", "network.host"]
  extra_hosts     = { "git.internal" = "10.0.0.7", "v6.internal" = "fd00::7" }
  network         = "host"
  shm_size        = "128m"
  ulimits         = ["nofile=1024:2048", "nproc=512"]
  no_cache_filter = ["build", "test"]
}

component "multi" {
  context     = "../ctx/lib"
  platforms   = ["linux/amd64", "linux/arm64", "linux/arm/v7"]
  args        = { ARCH = platform.arch, TRIPLE = "${platform.os}-${platform.arch}${platform.variant}", VARIANT = platform.variant == "" ? null : platform.variant, VERSION = var.TAG, DEFAULT = null }
  output      = "oci"
  output_path = "../out/multi.tar"
  network     = "none"
  no_cache    = true
}

component "export" {
  context     = "../ctx/lib"
  output      = "oci"
  output_path = "../out/export.tar"
  args        = { SHA = sha256("x"), B64 = base64encode("hi"), UP = upper(join("-", ["a", "b"])), DROPPED = null }
}

component "load" {
  context     = "../ctx/lib"
  platforms   = ["linux/arm64"]
  tags        = ["${local.repo}/load:${local.tag}"]
  output      = "docker"
  output_path = "../out/load.tar" # optional: without it, only a Docker engine gets the image
}
