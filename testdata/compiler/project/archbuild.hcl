# The compiler's test project: multi-stage with ARG in FROM and --platform=$BUILDPLATFORM
# (base), a component fed by another component, a local directory and an image (app),
# and a scratch image exported to a directory (static).
platforms = ["linux/amd64", "linux/arm64"]

proxy {
  http_proxy  = "http://alice:s3cr3t-pw@127.0.0.1:7890"
  https_proxy = "http://alice:s3cr3t-pw@127.0.0.1:7890"
  no_proxy    = ["localhost", "127.0.0.1"]
}

component "base" {
  context = "./base"
  target  = "runtime"
  args    = { ALPINE_VERSION = "3.20" }
}

component "static" {
  context     = "./static"
  platforms   = ["linux/amd64"]
  output      = "local"
  output_path = "./out/static"
}

component "app" {
  context  = "./app"
  labels   = { "org.opencontainers.image.title" = "app" }
  tags     = ["registry.invalid/app:dev", "registry.invalid/app:latest"]
  contexts = {
    assets = "./assets"
    base   = component.base
    tools  = "docker-image://busybox:1.36"
  }
}
