builder "remote" {
  address = "10.0.0.5:1234"
}
