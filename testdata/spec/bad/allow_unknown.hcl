component "a" {
  context = "../ctx/app"
  allow   = ["network.hots"]
}
