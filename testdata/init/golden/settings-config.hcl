# archbuild.hcl, written by "archc init" from the Docker settings and the project it found.
# Review it, then run "archc lock" (pins the base images) and "archc plan" (shows the builds).

# The proxy's user:password (percent-encoded), kept out of this file: set
# ARCHC_VAR_PROXY_CREDENTIALS in the environment or pass --var PROXY_CREDENTIALS=... .
variable "PROXY_CREDENTIALS" {
  description = "user:password for the proxy cfg.corp:8080"
  sensitive   = true
}

# The proxy's user:password (percent-encoded), kept out of this file: set
# ARCHC_VAR_PROXY_CREDENTIALS_2 in the environment or pass --var PROXY_CREDENTIALS_2=... .
variable "PROXY_CREDENTIALS_2" {
  description = "user:password for the proxy cfg.corp:8443"
  sensitive   = true
}

# The platforms every component builds, unless it sets its own platforms.
platforms = ["linux/amd64"]

# From config.json proxies.default. archc's registry requests and the builds' RUN steps
# go through it; the environment's proxy is not used.
proxy {
  http_proxy  = "http://${var.PROXY_CREDENTIALS}@cfg.corp:8080"
  https_proxy = "http://${var.PROXY_CREDENTIALS_2}@cfg.corp:8443"
  no_proxy    = ["*.local", "169.254.169.254"]
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
