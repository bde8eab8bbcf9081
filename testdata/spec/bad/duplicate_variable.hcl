variable "X" { default = "1" }
variable "X" { default = "2" }
