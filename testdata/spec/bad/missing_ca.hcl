registry "r.invalid" {
  ca = "../certs/missing.pem"
}
