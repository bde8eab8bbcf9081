variable "TAG" { default = "override" }
platforms = ["linux/arm64"]
registry "docker.io" {
  mirrors_only = true
}
component "app" {
  # Relative to this file's directory, not the first file's.
  context = "../../ctx/lib"
}
component "extra" {
  context = "../../ctx/lib"
}
