platforms = ["linux/amd64", "bogus/"]

registry "docker.io" {
  mirrors = ["ftp://m.invalid"]
}

component "a" {
  context = "../ctx/missing"
  tags    = ["BAD"]
  extra   = true
}
