component "a" {
  context  = "../ctx/app"
  contexts = { base = "docker-image://Not Valid" }
}
