component "a" {
  context   = "../ctx/app"
  platforms = ["linux/amd64", "linux/arm64", "linux/s390x"]
  args      = { GOARCH = { amd64 = "x86_64" }[platform.arch] }
}
