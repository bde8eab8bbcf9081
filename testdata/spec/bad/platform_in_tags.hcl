component "a" {
  context = "../ctx/app"
  tags    = ["r.invalid/a:${platform.arch}"]
}
