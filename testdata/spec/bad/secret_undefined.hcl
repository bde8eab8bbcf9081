secret "npm_token" { env = "NPM_TOKEN" }
component "a" {
  context = "../ctx/app"
  secrets = ["npm_token", "npm_tokn"]
}
