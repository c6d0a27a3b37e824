#!/usr/bin/env bash
# Assembles the bundled test OS root filesystem into DIR: Debian's static busybox with its applets, and the few files
# a provider image build expects (/etc/passwd, /etc/group, /etc/os-release, an empty /etc/resolv.conf).
# Usage: scripts/test-os.sh DIR
set -euo pipefail
dir=${1:?usage: $0 DIR}
rm -rf "$dir"
mkdir -p "$dir"/{bin,sbin,etc,proc,sys,dev,run,tmp,root,usr/bin,usr/sbin,var/lib}
chmod 1777 "$dir/tmp"
cp /bin/busybox "$dir/bin/busybox"
for applet in $("$dir/bin/busybox" --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$dir/bin/$applet"
done
cat > "$dir/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
kairos:x:1000:1000:kairos:/home/kairos:/bin/sh
P
cat > "$dir/etc/group" <<'G'
root:x:0:
admin:x:1000:kairos
G
cat > "$dir/etc/os-release" <<'O'
NAME="EdgeForge test OS"
ID=edgeforge-test
VERSION_ID=1
PRETTY_NAME="EdgeForge test OS (busybox)"
O
: > "$dir/etc/resolv.conf"
echo "edgeforge-marker: test OS root filesystem" > "$dir/etc/edgeforge-marker"
# A Kairos-like base: the installer image must carry the agent that installs the host (a stub that says what it is).
printf '#!/bin/sh\necho "kairos-agent stub of the EdgeForge test OS" "$@"\n' > "$dir/usr/bin/kairos-agent"
chmod 0755 "$dir/usr/bin/kairos-agent"
