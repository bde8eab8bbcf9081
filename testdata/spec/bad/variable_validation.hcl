variable "TAG" {
  default = "latest"
  validation {
    condition     = var.TAG != "latest"
    error_message = "Pin a real version."
  }
}
