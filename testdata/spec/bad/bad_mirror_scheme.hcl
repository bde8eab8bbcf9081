registry "docker.io" {
  mirrors = ["https://ok.invalid", "ftp://mirror.invalid"]
}
