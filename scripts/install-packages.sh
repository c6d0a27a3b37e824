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

# The arm64 tests fetch Debian's arm64 kernel, busybox and GRUB with apt-get download: apt must know the architecture.
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  dpkg --add-architecture arm64
  arm64_added=1
fi

missing=()
while read -r package; do
  package=${package%%#*}
  package=$(echo "$package" | tr -d '[:space:]')
  [ -n "$package" ] || continue
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done < "$list"

if [ ${#missing[@]} -eq 0 ] && [ -n "${arm64_added:-}" ]; then
  apt-get update -qq
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Services some packages ship (docker-registry) are not started: the tests start their own on 127.0.0.1.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# qemu-user-static registers its handlers through binfmt-support, whose service policy-rc.d kept from starting and
# which needs binfmt_misc mounted: make sure qemu-aarch64 is registered (with the F flag Debian gives it). A machine
# that forbids it (an unprivileged container) still runs the rest: the arm64 RUN tests then fail naming what is missing.
if [ -e /usr/sbin/update-binfmts ] && [ -e /usr/share/binfmts/qemu-aarch64 ]; then
  if [ ! -e /proc/sys/fs/binfmt_misc/status ]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || echo "warning: cannot mount binfmt_misc: arm64 RUN steps cannot run here" >&2
  fi
  if [ -e /proc/sys/fs/binfmt_misc/status ] && [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
    update-binfmts --enable qemu-aarch64 || echo "warning: cannot register qemu-aarch64: arm64 RUN steps cannot run here" >&2
  fi
fi
