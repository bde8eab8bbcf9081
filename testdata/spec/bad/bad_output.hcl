component "a" {
  context = "../ctx/app"
  output  = "tarball"
}
