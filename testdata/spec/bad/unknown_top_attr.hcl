platform = ["linux/amd64"]
