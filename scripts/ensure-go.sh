#!/usr/bin/env bash
# ensure-go.sh makes sure make and a Go toolchain at least as new as go.mod's `go` line are
# available, and prints the directory to put first on PATH ("" when the installed go is fine).
# A missing toolchain comes from the Go module proxy (golang.org/toolchain, the same module
# `GOTOOLCHAIN=auto` downloads), cached in ${XDG_CACHE_HOME:-$HOME/.cache}/archc-go.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'ensure-go: %s\n' "$*" >&2; }
apt_install() {
	log "apt-get install $*"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1 ||
		{ apt-get update -qq && apt-get install -y -qq --no-install-recommends "$@" >/dev/null; }
}

command -v make >/dev/null || apt_install make

want=$(sed -n 's/^toolchain go//p' go.mod)
[[ -n "$want" ]] || want=$(sed -n 's/^go //p' go.mod)

# version_ge A B: A >= B for dotted versions.
version_ge() { [[ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n1)" == "$2" ]]; }

if command -v go >/dev/null; then
	have=$(GOTOOLCHAIN=local go env GOVERSION 2>/dev/null | sed 's/^go//')
	if [[ -n "$have" ]] && version_ge "$have" "$want"; then
		exit 0
	fi
	log "go ${have:-?} is older than go.mod's $want"
fi

case $(uname -m) in
x86_64) arch=amd64 ;;
aarch64) arch=arm64 ;;
*) log "unsupported machine $(uname -m)"; exit 1 ;;
esac
root="${XDG_CACHE_HOME:-$HOME/.cache}/archc-go/go$want"
goroot="$root/golang.org/toolchain@v0.0.1-go$want.linux-$arch"
if [[ ! -x "$goroot/bin/go" ]]; then
	command -v curl >/dev/null || apt_install curl ca-certificates
	command -v unzip >/dev/null || apt_install unzip
	url="https://proxy.golang.org/golang.org/toolchain/@v/v0.0.1-go$want.linux-$arch.zip"
	log "download go$want from $url"
	mkdir -p "$root"
	curl -fsSL --retry 3 -o "$root/go.zip" "$url"
	unzip -q -o "$root/go.zip" -d "$root"
	rm -f "$root/go.zip"
	chmod +x "$goroot"/bin/* "$goroot"/pkg/tool/*/* 2>/dev/null || true
fi
echo "$goroot/bin"
