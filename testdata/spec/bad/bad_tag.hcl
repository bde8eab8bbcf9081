component "a" {
  context = "../ctx/app"
  tags    = ["r.invalid/ok:1", "r.invalid/UPPER:1"]
}
