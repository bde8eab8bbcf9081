secret "npm_token" {
  env  = "NPM_TOKEN"
  file = "npm_token.txt"
}
