locals { x = "a" }
component "a" {
  context = "../ctx/app"
  target  = local.y
}
