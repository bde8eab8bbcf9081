builder "amd" {
  max_parallel = 0
}
