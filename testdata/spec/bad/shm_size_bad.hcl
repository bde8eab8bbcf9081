component "a" {
  context  = "../ctx/app"
  shm_size = "128q"
}
