variable "N" {
  type    = integer
  default = 1
}
