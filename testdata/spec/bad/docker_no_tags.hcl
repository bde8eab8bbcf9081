component "a" {
  context = "../ctx/app"
  output  = "docker"
}
