registry "r.invalid:99999" {}
