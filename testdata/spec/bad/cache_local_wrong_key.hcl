component "a" {
  context    = "../ctx/app"
  cache_from = ["type=local,dest=../out/cache"]
}
