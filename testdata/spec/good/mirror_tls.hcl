# An https mirror of a registry that sets insecure and ca: the mirror does not inherit
# them (validate and lock print a note).
registry "r.invalid:5000" {
  mirrors  = ["https://mirror.invalid/cache"]
  insecure = true
  ca       = "../certs/ca.pem"
}

component "only" {
  context = "../ctx/app"
}
