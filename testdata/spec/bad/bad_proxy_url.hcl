proxy {
  http_proxy  = "http://user:s3cret@127.0.0.1:8888"
  https_proxy = "ftp://user:s3cret@127.0.0.1:8888"
}
