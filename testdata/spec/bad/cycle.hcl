component "a" {
  context    = "../ctx/app"
  depends_on = [component.b]
}
component "b" {
  context  = "../ctx/lib"
  contexts = { up = component.c }
}
component "c" {
  context    = "../ctx/lib"
  depends_on = [component.a]
}
