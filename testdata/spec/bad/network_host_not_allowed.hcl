component "a" {
  context = "../ctx/app"
  network = "host"
}
