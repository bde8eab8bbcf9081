component "a" {
  context   = "../ctx/app"
  platforms = ["arm64"]
}
