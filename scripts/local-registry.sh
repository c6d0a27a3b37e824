#!/usr/bin/env bash
# Starts (or stops) the CNCF Distribution registry (Debian package docker-registry) on 127.0.0.1 for the quick start:
#   scripts/local-registry.sh start [PORT]   prints the address; idempotent
#   scripts/local-registry.sh stop
# Storage lives in /tmp/edgeforge-registry; edgeforge reaches loopback registries over plain HTTP without flags
# (skopeo needs --tls-verify=false).
set -euo pipefail
state=/tmp/edgeforge-registry
port=${2:-${EDGEFORGE_REGISTRY_PORT:-5000}}

case "${1:-start}" in
  start)
    if [ -f "$state/pid" ] && kill -0 "$(cat "$state/pid")" 2>/dev/null; then
      cat "$state/address"
      exit 0
    fi
    mkdir -p "$state/storage"
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
    nohup /usr/bin/docker-registry serve "$state/config.yml" > "$state/registry.log" 2>&1 &
    echo $! > "$state/pid"
    for _ in $(seq 1 50); do
      if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        echo "127.0.0.1:$port" | tee "$state/address"
        exit 0
      fi
      sleep 0.2
    done
    echo "the registry did not start on 127.0.0.1:$port (see $state/registry.log)" >&2
    exit 1
    ;;
  stop)
    if [ -f "$state/pid" ]; then kill "$(cat "$state/pid")" 2>/dev/null || true; rm -f "$state/pid" "$state/address"; fi
    ;;
  *)
    echo "usage: $0 start [PORT] | stop" >&2
    exit 2
    ;;
esac
