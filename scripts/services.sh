#!/usr/bin/env bash
# services.sh start|stop|status — the demo's loopback services as background daemons:
#   mirror  docker-registry on 127.0.0.1:5000 (plays the docker.io mirror)
#   push    docker-registry on 127.0.0.1:5001 (push target)
#   proxy   tinyproxy       on 127.0.0.1:8888
# State (configs, data, pid files, logs) lives in $ARCHC_DEMO_STATE, default
# ${XDG_STATE_HOME:-$HOME/.local/state}/archc-demo. Idempotent: start skips running services.
set -euo pipefail

STATE="${ARCHC_DEMO_STATE:-${XDG_STATE_HOME:-$HOME/.local/state}/archc-demo}"
SERVICES=(mirror push proxy)

log() { printf 'services: %s\n' "$*" >&2; }
die() { printf 'services: error: %s\n' "$*" >&2; exit 1; }

port_of() {
	case $1 in
	mirror) echo "${ARCHC_DEMO_MIRROR_PORT:-5000}" ;;
	push) echo "${ARCHC_DEMO_PUSH_PORT:-5001}" ;;
	proxy) echo "${ARCHC_DEMO_PROXY_PORT:-8888}" ;;
	*) die "unknown service $1" ;;
	esac
}

pid_of() {
	local f="$STATE/$1.pid" pid
	[[ -f "$f" ]] || return 1
	pid=$(<"$f")
	[[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
	echo "$pid"
}

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

registry_config() { # name port
	mkdir -p "$STATE/$1/data"
	cat >"$STATE/$1/config.yml" <<EOF
version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: $STATE/$1/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$2
  secret: archc-demo
  relativeurls: true
EOF
}

proxy_config() { # port
	mkdir -p "$STATE/proxy"
	{
		if [[ $(id -u) -eq 0 ]]; then printf 'User nobody\nGroup nogroup\n'; fi
		printf 'Port %s\nListen 127.0.0.1\nAllow 127.0.0.1\nTimeout 60\nMaxClients 100\nLogLevel Connect\n' "$1"
	} >"$STATE/proxy/tinyproxy.conf"
}

start_one() {
	local name=$1 port pid
	port=$(port_of "$name")
	if pid=$(pid_of "$name"); then
		log "$name already running (pid $pid, 127.0.0.1:$port)"
		return
	fi
	if listening "$port"; then
		die "127.0.0.1:$port is taken by another process (not ours); stop it (e.g. the docker-registry or tinyproxy system service) or set ARCHC_DEMO_${name^^}_PORT"
	fi
	local cmd
	case $name in
	mirror | push)
		command -v docker-registry >/dev/null || die "docker-registry not installed; run make setup"
		registry_config "$name" "$port"
		cmd=(docker-registry serve "$STATE/$name/config.yml")
		;;
	proxy)
		command -v tinyproxy >/dev/null || die "tinyproxy not installed; run make setup"
		proxy_config "$port"
		cmd=(tinyproxy -d -c "$STATE/proxy/tinyproxy.conf")
		;;
	esac
	setsid "${cmd[@]}" </dev/null >"$STATE/$name.log" 2>&1 &
	echo $! >"$STATE/$name.pid"
	local i
	for ((i = 0; i < 100; i++)); do
		if listening "$port"; then
			log "$name started (pid $(<"$STATE/$name.pid"), 127.0.0.1:$port, log $STATE/$name.log)"
			return
		fi
		pid_of "$name" >/dev/null || break
		sleep 0.1
	done
	tail -n 20 "$STATE/$name.log" >&2 || true
	die "$name did not start listening on 127.0.0.1:$port"
}

stop_one() {
	local name=$1 pid i
	if ! pid=$(pid_of "$name"); then
		rm -f "$STATE/$name.pid"
		return
	fi
	kill "$pid" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
	rm -f "$STATE/$name.pid"
	log "$name stopped (pid $pid)"
}

status() {
	local name pid rc=0
	for name in "${SERVICES[@]}"; do
		if pid=$(pid_of "$name"); then
			printf '%-7s running  pid %-7s 127.0.0.1:%s\n' "$name" "$pid" "$(port_of "$name")"
		else
			printf '%-7s stopped\n' "$name"
			rc=3
		fi
	done
	return $rc
}

mkdir -p "$STATE"
case "${1:-}" in
start) for s in "${SERVICES[@]}"; do start_one "$s"; done ;;
stop) for s in "${SERVICES[@]}"; do stop_one "$s"; done ;;
status) status ;;
*) die "usage: $0 start|stop|status" ;;
esac
