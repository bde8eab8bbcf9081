ssh "default" {}
component "a" {
  context = "../ctx/app"
  ssh     = ["defualt"]
}
