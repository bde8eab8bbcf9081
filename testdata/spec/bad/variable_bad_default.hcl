variable "N" {
  type    = number
  default = "many"
}
