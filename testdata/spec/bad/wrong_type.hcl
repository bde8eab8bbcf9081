component "a" {
  context = "../ctx/app"
  tags    = "x:1"
}
