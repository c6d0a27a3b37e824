#!/usr/bin/env bash
# Installs the Debian packages listed in scripts/test-packages.txt that are missing (needs root).
# Nothing installed by hand survives from one machine to the next: every script that needs a tool calls this.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
list="${1:-$root/scripts/test-packages.txt}"

if ! command -v dotnet >/dev/null 2>&1; then
  echo "edgeforge needs the .NET 10 SDK (dotnet) on PATH; it is not a Debian package: install it first." >&2
  exit 1
fi

missing=()
while read -r package; do
  package=${package%%#*}
  package=$(echo "$package" | tr -d '[:space:]')
  [ -n "$package" ] || continue
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done < "$list"

if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Services some packages ship (docker-registry) are not started: the tests start their own on 127.0.0.1.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
