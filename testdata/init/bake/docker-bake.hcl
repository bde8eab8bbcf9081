variable "TAG" {
  default = "dev"
}

variable "REGISTRY" {
  default = "registry.example.com"
}

group "default" {
  targets = ["app", "base"]
}

target "base" {
  context = "./base"
  target  = "runtime"
}

target "app" {
  context    = "./app"
  dockerfile = "app.Dockerfile"
  args       = { VERSION = "${TAG}" }
  tags       = ["${REGISTRY}/app:${TAG}", "registry.example.com/app:latest"]
  platforms  = ["linux/amd64"]
  labels     = { "org.opencontainers.image.title" = "app" }
  contexts = {
    base = "target:base"
    src  = "https://github.com/example/src.git"
  }
  output  = ["type=registry"]
  secret  = ["id=npm,env=NPM_TOKEN"]
  inherits = ["_common"]
}
