variable "TAG" { default = "base" }
platforms = ["linux/amd64"]
build_platforms = ["linux/amd64"]
secret "token" { env = "TOKEN" }
registry "docker.io" {
  mirrors = ["http://127.0.0.1:5000"]
  http    = false
}
component "app" {
  context = "../ctx/app"
  target  = "base-target"
  tags    = ["r.invalid/app:${var.TAG}"]
  secrets = ["token"]
  allow   = ["network.host"]
}
