builder "arm" { platforms = ["linux/arm64"] }
component "a" {
  context   = "../ctx/app"
  platforms = ["linux/amd64", "linux/arm64"]
  builder   = "arm"
}
