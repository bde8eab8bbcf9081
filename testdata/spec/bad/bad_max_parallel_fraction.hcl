builder "amd" {
  max_parallel = 1.5
}
