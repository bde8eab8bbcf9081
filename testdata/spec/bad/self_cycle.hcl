component "a" {
  context    = "../ctx/app"
  depends_on = [component.a]
}
