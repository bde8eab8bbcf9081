component "a" {
  context = "../ctx/app"
  network = "bridge"
}
