locals {
  a = local.b
  b = local.c
  c = local.b
  d = local.a
}
