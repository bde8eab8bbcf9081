component "a" {
  context = "../certs"
}
