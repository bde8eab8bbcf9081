cache_from = [
  "ref=r.invalid/c:a",
]
component "a" {
  context = "../ctx/app"
}
