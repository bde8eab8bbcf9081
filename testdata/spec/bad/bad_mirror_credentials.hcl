registry "docker.io" {
  mirrors = ["https://user:s3cret@mirror.invalid"]
}
