builder "remote" {
  address = "tcp://127.0.0.1:1234"
  cert    = "../certs/client.pem"
  key     = "../certs/ca.pem"
}
