builder "amd-1" { platforms = ["linux/amd64"] }
component "a" {
  context = "../ctx/app"
  builder = "amd-2"
}
