build_platforms = ["linux/amd64", "arm64"]
