platforms = ["linux/amd64", "linux/sparc99"]
