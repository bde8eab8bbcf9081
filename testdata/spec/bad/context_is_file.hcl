component "a" {
  context = "../ctx/app/Dockerfile"
}
