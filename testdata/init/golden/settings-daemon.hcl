# archbuild.hcl, written by "archc init" from the Docker settings and the project it found.
# Review it, then run "archc lock" (pins the base images) and "archc plan" (shows the builds).

# The proxy's user:password (percent-encoded), kept out of this file: set
# ARCHC_VAR_PROXY_CREDENTIALS in the environment or pass --var PROXY_CREDENTIALS=... .
variable "PROXY_CREDENTIALS" {
  description = "user:password for the proxy proxy.corp:3128"
  sensitive   = true
}

# The platforms every component builds, unless it sets its own platforms.
platforms = ["linux/amd64", "linux/arm64"]

# From daemon.json proxies. archc's registry requests and the builds' RUN steps
# go through it; the environment's proxy is not used.
proxy {
  http_proxy  = "http://${var.PROXY_CREDENTIALS}@proxy.corp:3128"
  https_proxy = "http://${var.PROXY_CREDENTIALS}@proxy.corp:3128"
  no_proxy    = ["localhost", ".corp"]
}

# daemon.json lists 10.0.0.0/8 in insecure-registries, a network: write a registry block for each
# registry in it (http = true for plain HTTP, insecure = true for TLS without verification).

# registry-mirrors from daemon.json: tried in order, then Docker Hub itself
# (mirrors_only = true to never fall back to it).
registry "docker.io" {
  mirrors = ["https://mirror.example.net", "https://mirror2.example.net"]
}

# One component per Dockerfile found. Without tags a component builds into the builder's
# cache only; add tags = ["registry.example.com/NAME:TAG"] to push it.
component "services-api" {
  context = "./services/api"
}

component "tools-api" {
  context = "./tools/api"
}

component "web" {
  context = "./web"
}

component "web-prod" {
  context    = "./web"
  dockerfile = "Dockerfile.prod"
}

component "worker" {
  context    = "./worker"
  dockerfile = "worker.Dockerfile"
}
