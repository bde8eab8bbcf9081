ssh "deploy" {
  paths = ["keys/id_ed25519", ""]
}
