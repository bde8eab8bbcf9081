locals {
  arch = platform.arch
}
