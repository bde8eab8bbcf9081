registry "r_1.invalid/path" {}
