component "a" {
  context = "../ctx/app"
  ulimits = ["nproc=64", "nofile=2048:1024"]
}
