component "a" {
  context = "../ctx/app"
  tags = [
}
