#!/usr/bin/env bash
# Starts (or stops) the CNCF Distribution registry (Debian package docker-registry) on 127.0.0.1; the quick start and
# every benchmark start theirs through this script:
#   scripts/local-registry.sh start [PORT]   prints host:port; idempotent (a running one is reused)
#   scripts/local-registry.sh stop           stops it and waits until it is gone
# PORT: a number (default $EDGEFORGE_REGISTRY_PORT, else 5000), or "free" for any free port. A free port can be taken
# by another process between picking it and the registry binding it: that start (the registry exits saying the
# address is in use, or the port never becomes the registry's) is retried on a new port, up to 5 times.
# EDGEFORGE_REGISTRY_STATE: the directory of one registry — its storage, configuration, log, pid and address
# (default /tmp/edgeforge-registry); a benchmark points it into its own work directory to have a registry of its own.
# edgeforge reaches loopback registries over plain HTTP without flags (skopeo needs --tls-verify=false).
set -euo pipefail
state=${EDGEFORGE_REGISTRY_STATE:-/tmp/edgeforge-registry}
requested=${2:-${EDGEFORGE_REGISTRY_PORT:-5000}}
attempts=5

# listens PID PORT: PID itself holds a listening socket on 127.0.0.1:PORT. A connect is not enough: whoever took the
# port would answer too.
listens() {
  local pid=$1 address inode
  address=$(printf '0100007F:%04X' "$2")
  for inode in $(awk -v a="$address" '$2 == a && $4 == "0A" { print $10 }' /proc/net/tcp); do
    if find "/proc/$pid/fd" -lname "socket:\[$inode\]" 2>/dev/null | grep -q .; then return 0; fi
  done
  return 1
}

# free_port: a port in the dynamic range that nothing answers on now.
free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 40000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
  done
}

# serve PORT: starts the registry on PORT. Returns 0 once it listens there; 2 when the port was someone else's (the
# registry said the address is in use, or never came to listen); 1 when the registry failed for another reason.
# A failed start leaves no process behind.
serve() {
  local port=$1 pid
  cat > "$state/config.yml" <<YAML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $state/storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
YAML
  nohup docker-registry serve "$state/config.yml" > "$state/registry.log" 2>&1 < /dev/null &
  pid=$!
  for _ in $(seq 1 100); do
    if ! kill -0 "$pid" 2>/dev/null; then
      if grep -q 'address already in use' "$state/registry.log"; then return 2; fi
      return 1
    fi
    if listens "$pid" "$port"; then
      echo "$pid" > "$state/pid"
      echo "127.0.0.1:$port" > "$state/address"
      return 0
    fi
    sleep 0.2
  done
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  return 2
}

case "${1:-start}" in
  start)
    if [ -f "$state/pid" ] && kill -0 "$(cat "$state/pid")" 2>/dev/null; then
      cat "$state/address"
      exit 0
    fi
    command -v docker-registry >/dev/null || { echo "local-registry: docker-registry is not installed (scripts/install-packages.sh)" >&2; exit 1; }
    mkdir -p "$state/storage"
    if [ "$requested" = free ]; then
      for _ in $(seq 1 "$attempts"); do
        port=$(free_port)
        status=0
        serve "$port" || status=$?
        if [ "$status" = 0 ]; then cat "$state/address"; exit 0; fi
        if [ "$status" != 2 ]; then break; fi
        echo "local-registry: port $port was taken before the registry bound it; trying another" >&2
      done
    elif serve "$requested"; then
      cat "$state/address"
      exit 0
    fi
    echo "local-registry: the registry did not start on 127.0.0.1 (see $state/registry.log):" >&2
    cat "$state/registry.log" >&2
    exit 1
    ;;
  stop)
    if [ -f "$state/pid" ]; then
      pid=$(cat "$state/pid")
      kill "$pid" 2>/dev/null || true
      # Not our child in a later shell: wait by polling, so a following start finds the port released.
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      rm -f "$state/pid" "$state/address"
    fi
    ;;
  *)
    echo "usage: $0 start [PORT|free] | stop" >&2
    exit 2
    ;;
esac
