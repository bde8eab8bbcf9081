variable "K" { default = "a" }
locals {
  a = "x"
  b = local[var.K]
}
