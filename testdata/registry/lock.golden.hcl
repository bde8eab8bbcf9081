# archbuild.lock.hcl: base image pins, written by `archc lock`. Commit it; do not edit.
# Move a pin with `archc lock --update --image REF`.

image "docker.io/library/alpine:3.20" {
  digest = "sha256:6351825030155836664876686dcff61b6a91254a0458537072a1b26ad151b5ce"
  host   = "registry-1.docker.io"

  platform "linux/amd64" {
    manifest = "sha256:d1c296231e7ed5edede5250ce0426f2e376d9255288f3aa764dd1e7fdd0b9c32"
    config   = "sha256:d2435d0bda9a262b22808f69002aecb905802739233c35125ecbf79e260df5d6"
  }
}

image "docker.io/library/busybox:1.36" {
  digest = "sha256:3b64db95cb55c763391c707108489ae18b4112d783300de38e033b4c98c3deaf"
  host   = "127.0.0.1:5000"

  platform "linux/amd64" {
    manifest = "sha256:81929071dd8663fc0cc7289080bb71c3e3a1908ca599ce5bb4db14f6f5547a07"
    config   = "sha256:f246228133816f59de7a066fa2f9a053f81148348e880ad967ee7b363ecb9b75"
  }

  platform "linux/arm64" {
    manifest = "sha256:3abff116cfa4a04b7cc66feba9451b26379d9079f0efed9fd3978a5c276b3a55"
    config   = "sha256:4e291751d44051fc68e977f4bcc7b4499d024195c28d294ef69bc2c6df8f6431"
  }
}
