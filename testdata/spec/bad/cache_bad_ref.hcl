component "a" {
  context    = "../ctx/app"
  cache_from = ["type=registry,ref=r.invalid/UPPER:c"]
}
