component "a" {
  context         = "../ctx/app"
  no_cache_filter = ["build", ""]
}
