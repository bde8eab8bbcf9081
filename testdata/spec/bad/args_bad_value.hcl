component "a" {
  context = "../ctx/app"
  args    = { OK = "1", LIST = ["x"] }
}
