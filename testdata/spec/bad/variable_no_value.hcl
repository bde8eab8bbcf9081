variable "TAG" {
  description = "required"
}
