secret "npm_token" {
  env   = "NPM_TOKEN"
  value = "never in a spec"
}
