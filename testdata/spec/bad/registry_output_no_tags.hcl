component "a" {
  context = "../ctx/app"
  output  = "registry"
}
