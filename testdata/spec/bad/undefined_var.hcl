variable "TAG" { default = "1" }
component "a" {
  context = "../ctx/app"
  tags    = ["r.invalid/a:${var.TGA}"]
}
