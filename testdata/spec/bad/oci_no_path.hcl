component "a" {
  context = "../ctx/app"
  output  = "oci"
}
