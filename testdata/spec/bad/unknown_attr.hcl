component "a" {
  context   = "../ctx/app"
  dockerfil = "Dockerfile"
}
