component "a" {
  context  = "../ctx/app"
  contexts = { base = component.bsae }
}
component "base" {
  context = "../ctx/lib"
}
