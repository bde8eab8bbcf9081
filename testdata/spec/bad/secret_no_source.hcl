secret "npm_token" {}
