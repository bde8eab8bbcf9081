registry "DOCKER.IO" {}
