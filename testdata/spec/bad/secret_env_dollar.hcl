secret "npm_token" {
  env = "$NPM_TOKEN"
}
