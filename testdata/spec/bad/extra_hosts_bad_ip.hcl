component "a" {
  context     = "../ctx/app"
  extra_hosts = { "git.internal" = "10.0.0.300" }
}
