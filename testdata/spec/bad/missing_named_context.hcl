component "a" {
  context  = "../ctx/app"
  contexts = { extra = "../ctx/none" }
}
