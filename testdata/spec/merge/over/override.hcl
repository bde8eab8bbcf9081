variable "TAG" { default = "override" }
platforms = ["linux/arm64"]
build_platforms = ["linux/arm64"]
secret "token" { file = "token.txt" }
registry "docker.io" {
  mirrors_only = true
}
component "app" {
  # Relative to this file's directory, not the first file's.
  context = "../../ctx/lib"
  network = "host"
}
component "extra" {
  context = "../../ctx/lib"
}
