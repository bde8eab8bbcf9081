component "a" {
  context    = "../ctx/app"
  dockerfile = "Dockerfile.missing"
}
