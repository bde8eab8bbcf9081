component "a" {
  context = "../ctx/app"
  target  = component.b
}
component "b" {
  context = "../ctx/lib"
}
