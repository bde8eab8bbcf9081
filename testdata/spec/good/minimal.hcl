component "only" {
  context = "../ctx/app"
}
