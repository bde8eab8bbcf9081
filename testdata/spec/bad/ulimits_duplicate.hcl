component "a" {
  context = "../ctx/app"
  ulimits = ["nofile=1024:2048", "nofile=4096"]
}
