component "a" {
  context = "../ctx/app"
  target  = upper(1, 2)
}
