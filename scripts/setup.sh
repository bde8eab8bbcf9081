#!/usr/bin/env bash
# setup.sh prepares a Debian machine for archc's tests and demo:
#   - Debian packages: docker-registry, tinyproxy, qemu-user-static, runc, busybox-static, graphviz, curl, openssh-client, time (the benchmarks' peak memory)
#   - busybox-static binaries for amd64 and arm64 in the test cache (seed images are built from them)
#   - binfmt_misc mounted and qemu-aarch64 registered with the F flag (works inside runc containers)
# Idempotent: a second run only checks and exits in about a second.
# With CI=true every failure is fatal; otherwise a failing optional step warns and continues.
set -euo pipefail

CACHE_DIR="${ARCHC_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/archc-test}"
PACKAGES=(docker-registry tinyproxy qemu-user-static runc busybox-static graphviz curl openssh-client time)
BINFMT_DIR=/proc/sys/fs/binfmt_misc
CI="${CI:-false}"

log() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }
# soft_fail: fatal in CI, a warning elsewhere (a developer can still run unit tests).
soft_fail() {
	if [[ "$CI" == "true" ]]; then die "$*"; fi
	printf 'setup: warning: %s\n' "$*" >&2
}

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
	command -v sudo >/dev/null || die "not root and no sudo: run as root"
	SUDO="sudo"
fi

APT_UPDATED=0
apt_update() {
	if [[ $APT_UPDATED -eq 0 ]]; then
		log "apt-get update"
		$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq || die "apt-get update failed"
		APT_UPDATED=1
	fi
}

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

install_packages() {
	local missing=() p
	for p in "${PACKAGES[@]}"; do installed "$p" || missing+=("$p"); done
	# binfmt-support is only needed when the kernel registration has no other route
	# (no /usr/lib/binfmt.d entry for aarch64).
	if ! ls /usr/lib/binfmt.d/qemu-aarch64*.conf >/dev/null 2>&1 && ! installed binfmt-support; then
		missing+=(binfmt-support)
	fi
	if [[ ${#missing[@]} -eq 0 ]]; then
		log "packages present: ${PACKAGES[*]}"
		return
	fi
	# Update only when the package lists cannot offer what is missing.
	if ! apt-cache show "${missing[@]}" >/dev/null 2>&1; then apt_update; fi
	log "apt-get install ${missing[*]}"
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
		|| die "apt-get install ${missing[*]} failed"
	# Debian starts docker-registry on :5000 (all interfaces, htpasswd auth) and tinyproxy on
	# :8888 right after installing them: the demo needs those ports on 127.0.0.1, so stop and
	# disable the system services we just installed.
	for p in docker-registry tinyproxy; do
		[[ " ${missing[*]} " == *" $p "* ]] || continue
		if [[ -d /run/systemd/system ]]; then
			$SUDO systemctl disable --now "$p" >/dev/null 2>&1 || true
		elif command -v service >/dev/null; then
			$SUDO service "$p" stop >/dev/null 2>&1 || true
		fi
	done
}

# fetch_busybox ARCH: extract busybox-static for ARCH into $CACHE_DIR/ARCH/bin/busybox.
fetch_busybox() {
	local arch=$1
	local out="$CACHE_DIR/$arch"
	if [[ -x "$out/bin/busybox" ]]; then return; fi
	mkdir -p "$CACHE_DIR/debs"
	local deb
	deb=$(ls "$CACHE_DIR"/debs/busybox-static_*_"$arch".deb 2>/dev/null | head -n1 || true)
	if [[ -z "$deb" ]]; then
		if [[ "$arch" != "$(dpkg --print-architecture)" ]] &&
			! dpkg --print-foreign-architectures | grep -qx "$arch"; then
			log "dpkg --add-architecture $arch"
			$SUDO dpkg --add-architecture "$arch"
			APT_UPDATED=0
		fi
		if ! apt-cache show "busybox-static:$arch" >/dev/null 2>&1; then apt_update; fi
		log "apt-get download busybox-static:$arch"
		(cd "$CACHE_DIR/debs" && apt-get download -qq -o APT::Sandbox::User=root "busybox-static:$arch") \
			|| die "apt-get download busybox-static:$arch failed"
		deb=$(ls "$CACHE_DIR"/debs/busybox-static_*_"$arch".deb | head -n1)
	fi
	local tmp
	tmp=$(mktemp -d "$CACHE_DIR/extract.XXXXXX")
	dpkg-deb -x "$deb" "$tmp"
	mkdir -p "$out/bin"
	install -m 0755 "$tmp/bin/busybox" "$out/bin/busybox"
	rm -rf "$tmp"
	log "busybox $arch -> $out/bin/busybox"
}

binfmt_flags() { sed -n 's/^flags: //p' "$BINFMT_DIR/qemu-aarch64" 2>/dev/null || true; }

register_aarch64() {
	if [[ ! -e "$BINFMT_DIR/register" ]]; then
		log "mount binfmt_misc at $BINFMT_DIR"
		$SUDO mount -t binfmt_misc binfmt_misc "$BINFMT_DIR" || { soft_fail "cannot mount binfmt_misc"; return; }
	fi
	local flags
	flags=$(binfmt_flags)
	if [[ -e "$BINFMT_DIR/qemu-aarch64" && "$flags" == *F* ]] && grep -qx enabled "$BINFMT_DIR/qemu-aarch64"; then
		log "qemu-aarch64 registered (flags: $flags)"
		return
	fi
	if [[ -e "$BINFMT_DIR/qemu-aarch64" ]]; then
		# Registered without F (or disabled): the interpreter would not be found inside a
		# container's root, so re-register.
		log "re-registering qemu-aarch64 (flags: '$flags')"
		echo -1 | $SUDO tee "$BINFMT_DIR/qemu-aarch64" >/dev/null
	fi
	local conf
	conf=$(ls /usr/lib/binfmt.d/qemu-aarch64*.conf 2>/dev/null | head -n1 || true)
	if [[ -n "$conf" ]]; then
		local line
		line=$(grep -v '^[#;]' "$conf" | grep -m1 ':qemu-aarch64:')
		[[ "${line##*:}" == *F* ]] || line="${line}F"
		log "register qemu-aarch64 from $conf"
		printf '%s' "$line" | $SUDO tee "$BINFMT_DIR/register" >/dev/null \
			|| { soft_fail "writing $BINFMT_DIR/register failed"; return; }
	elif command -v update-binfmts >/dev/null; then
		log "register qemu-aarch64 via update-binfmts"
		$SUDO update-binfmts --enable qemu-aarch64 || { soft_fail "update-binfmts --enable qemu-aarch64 failed"; return; }
	else
		soft_fail "no binfmt.d entry for qemu-aarch64 and no update-binfmts"
		return
	fi
	flags=$(binfmt_flags)
	[[ "$flags" == *F* ]] || soft_fail "qemu-aarch64 registered without the F flag (flags: '$flags')"
}

verify_arm64() {
	local got
	got=$("$CACHE_DIR/arm64/bin/busybox" uname -m 2>&1 || true)
	if [[ "$got" == "aarch64" ]]; then
		log "arm64 emulation works (busybox uname -m: $got)"
	else
		soft_fail "arm64 busybox does not run under emulation (uname -m: '$got')"
	fi
}

main() {
	local start=$SECONDS
	mkdir -p "$CACHE_DIR"
	install_packages
	fetch_busybox amd64
	fetch_busybox arm64
	register_aarch64
	verify_arm64
	log "done in $((SECONDS - start))s; cache $CACHE_DIR"
}

main "$@"
