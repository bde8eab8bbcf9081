registry "docker.io" {
  mirrors = ["https://mirror.invalid/v2?x=1"]
}
