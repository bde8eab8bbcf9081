component "a" {
  context  = "../ctx/app"
  cache_to = ["type=registry,ref=r.invalid/c:a", "type=gha,scope=a"]
}
