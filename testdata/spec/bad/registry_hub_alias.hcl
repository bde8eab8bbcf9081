# Docker Hub is docker.io in image references
registry "index.docker.io" {
  mirrors = ["http://127.0.0.1:5000"]
}
