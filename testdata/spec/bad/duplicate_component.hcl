component "a" {
  context = "../ctx/app"
}

component "a" {
  context = "../ctx/lib"
}
