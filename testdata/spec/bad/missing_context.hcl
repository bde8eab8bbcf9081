component "a" {
  context = "../ctx/nope"
}
