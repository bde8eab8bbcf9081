component "a" {
  context = "../ctx/ÿþ"
}
