# archbuild.hcl, written by "archc init" from the Docker settings and the project it found.
# Review it, then run "archc lock" (pins the base images) and "archc plan" (shows the builds).

# The platforms every component builds, unless it sets its own platforms.
platforms = ["linux/amd64", "linux/arm64"]

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
