component "my app" {
  context = "../ctx/app"
}
