registry "r.invalid" {
  mirrors_only = true
}
