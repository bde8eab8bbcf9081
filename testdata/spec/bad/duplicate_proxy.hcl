proxy {}
proxy {}
