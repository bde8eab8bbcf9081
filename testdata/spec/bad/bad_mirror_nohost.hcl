registry "docker.io" {
  mirrors = ["http:///path"]
}
