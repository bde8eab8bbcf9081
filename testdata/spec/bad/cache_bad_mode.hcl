cache_to = ["type=registry,ref=r.invalid/c:a,mode=all"]
component "a" {
  context = "../ctx/app"
}
