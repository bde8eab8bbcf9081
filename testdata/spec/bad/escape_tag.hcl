component "a" {
  context = "../ctx/app"
  tags    = ["r.invalid/x:1]0;pwned[2J"]
}
