variable "TAG" { default = "base" }
platforms = ["linux/amd64"]
registry "docker.io" {
  mirrors = ["http://127.0.0.1:5000"]
  http    = false
}
component "app" {
  context = "../ctx/app"
  target  = "base-target"
  tags    = ["r.invalid/app:${var.TAG}"]
}
