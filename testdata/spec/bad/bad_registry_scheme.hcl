registry "https://r.invalid" {}
