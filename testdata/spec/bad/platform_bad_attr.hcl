component "a" {
  context = "../ctx/app"
  args    = { ARCH = platform.arch, CPU = platform.cpu }
}
