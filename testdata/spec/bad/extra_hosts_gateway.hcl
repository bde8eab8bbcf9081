component "a" {
  context = "../ctx/app"
  extra_hosts = {
    "ok.internal"          = "10.0.0.7"
    "host.docker.internal" = "host-gateway"
  }
}
