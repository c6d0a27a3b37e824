#!/usr/bin/env bash
# Quick start: installs what edgeforge needs, starts a local registry on 127.0.0.1, and runs the main job on the
# bundled example, examples/basic — validate every input, print the plan, `build all`: the provider image into the
# local registry (base: the bundled busybox test OS with Debian's kernel and a busybox initramfs; stylus, provider,
# etcdctl and Kubernetes from fixture upstreams served through a registries.conf mirror), the installer ISO (GRUB boot assets from grub-pc-bin/grub-efi-amd64-bin) and the BYOOS pack manifest; then
# boot the ISO once in QEMU (SeaBIOS, as a CD). No internet, no Docker engine.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

bash scripts/install-packages.sh
example=examples/basic
work=/tmp/edgeforge-quickstart
mkdir -p "$work"

echo "== edgeforge validate $example"
./edgeforge validate "$example"
echo
echo "== edgeforge plan $example"
./edgeforge plan "$example"

echo
echo "== local registry"
registry=$(bash scripts/local-registry.sh start)
echo "registry: $registry (stop it with: bash scripts/local-registry.sh stop)"

echo
echo "== the bundled test OS as base image, and fixture CanvOS upstreams under their real names (no internet here)"
bash scripts/test-os.sh "$work/test-os"
# The stylus framework, provider-k3s, the third-party etcdctl image and a luet repository with k3s 1.27.2, pushed to
# the local registry as us-docker.pkg.dev/palette-images/... and reached through a registries.conf mirror — what an
# air-gapped build site does with the real ones.
conf=$(dotnet run --project tests/EdgeForge.FixtureUpstreams -c Release -- "$registry" "$work/upstreams" 1.27.2 | tail -1)
echo "registries.conf: $conf"

echo
echo "== the test OS gets a kernel and an initramfs that finds the ISO by label and prints its config and a squashfs marker"
kver=$(ls /lib/modules | sort -V | tail -1)
mkdir -p "$work/test-os/boot"
cp "/boot/vmlinuz-$kver" "$work/test-os/boot/vmlinuz-$kver"
ir="$work/initramfs"
rm -rf "$ir" && mkdir -p "$ir"/{bin,proc,sys,dev,etc,lib/modules,mnt/iso,mnt/root}
cp /bin/busybox "$ir/bin/busybox"
declare -A seen=()
: > "$ir/etc/modules.load"
addmod() {  # a module path from modules.dep, after its dependencies
  local path=$1 dep
  [ -n "${seen[$path]:-}" ] && return 0
  seen[$path]=1
  for dep in $(grep "^$path:" "/lib/modules/$kver/modules.dep" | cut -d: -f2); do addmod "$dep"; done
  local name; name=$(basename "$path"); name=${name%%.ko*}
  case $path in *.xz) xz -dc "/lib/modules/$kver/$path";; *.zst) zstd -qdc "/lib/modules/$kver/$path";; *) cat "/lib/modules/$kver/$path";; esac > "$ir/lib/modules/$name.ko"
  echo "$name" >> "$ir/etc/modules.load"
}
for m in cdrom sr_mod ata_piix ata_generic isofs loop squashfs; do
  p=$(grep -oE "^kernel/[^:]*/$m\.ko[^:]*" "/lib/modules/$kver/modules.dep" | head -1 || true)
  [ -n "$p" ] && addmod "$p"
done
cat > "$ir/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs devtmpfs /dev
exec >/dev/ttyS0 2>&1
for m in $(cat /etc/modules.load); do insmod /lib/modules/$m.ko 2>/dev/null; done
label=$(sed -n 's/.*root=live:CDLABEL=\([^ ]*\).*/\1/p' /proc/cmdline)
i=0; dev=""
while [ -z "$dev" ] && [ $i -lt 40 ]; do dev=$(findfs "LABEL=$label" 2>/dev/null); [ -n "$dev" ] || { sleep 0.5; i=$((i+1)); }; done
mount -t iso9660 -o ro "$dev" /mnt/iso && echo "EF-ISO-MOUNTED $dev (label $label)"
echo "EF-CONFIG:"; cat /mnt/iso/config.yaml
mount -t squashfs -o ro,loop /mnt/iso/rootfs.squashfs /mnt/root && echo "EF-MARKER=$(cat /mnt/root/etc/edgeforge-marker)"
echo "EF-BOOT-OK"
poweroff -f
INIT
chmod 0755 "$ir/init"
(cd "$ir" && find . | sort | cpio -o -H newc --owner=0:0 --quiet | gzip -1 -n) > "$work/test-os/boot/initrd.img-$kver"
./edgeforge image import "$work/test-os" "docker://$registry/edgeforge/test-os:busybox"

echo
echo "== GRUB boot assets (BOOT_ASSETS layout) from grub-pc-bin and grub-efi-amd64-bin"
assets="$work/boot-assets"
mkdir -p "$assets/EFI/BOOT"
grub-mkimage -O i386-pc -p /boot/grub2 -o "$work/core.img" biosdisk iso9660 part_msdos part_gpt normal search search_fs_file \
  configfile linux echo test serial terminal all_video
cat /usr/lib/grub/i386-pc/cdboot.img "$work/core.img" > "$assets/eltorito.img"
cp /usr/lib/grub/i386-pc/boot_hybrid.img "$assets/"
printf 'search --no-floppy --file --set=root /boot/kernel\nset prefix=($root)/boot/grub2\nconfigfile $prefix/grub.cfg\n' > "$work/stub.cfg"
grub-mkimage -O x86_64-efi -p /EFI/BOOT -c "$work/stub.cfg" -o "$assets/EFI/BOOT/bootx64.efi" iso9660 part_gpt part_msdos fat \
  normal search search_fs_file configfile linux echo test serial terminal efi_gop all_video

echo
echo "== edgeforge build all $example --push (registry overridden to the local one)"
./edgeforge build all "$example" --push --cache-dir "$work/cache" --boot-assets "$assets" --registries-conf "$conf" \
  --build-arg "IMAGE_REGISTRY=$registry/spectrocloud" \
  --build-arg "BASE_IMAGE=$registry/edgeforge/test-os:busybox"

echo
echo "== the ISO boots in QEMU (SeaBIOS, CD) to the test OS"
(cd "$example/build" && sha256sum -c palette-edge-installer.iso.sha256)
rm -f "$work/serial.log"
timeout 120 qemu-system-x86_64 -machine pc,accel=tcg -m 768 -display none -no-reboot -nic none -monitor none \
  -serial "file:$work/serial.log" -drive "file=$example/build/palette-edge-installer.iso,format=raw,media=cdrom,if=ide,index=2,readonly=on" \
  -boot d </dev/null || true
grep -a -E '^EF-|^#cloud-config|paletteEndpoint' "$work/serial.log" | tr -d '\r'
grep -aq '^EF-BOOT-OK' "$work/serial.log"

echo
echo "== read back by skopeo"
skopeo inspect --tls-verify=false "docker://$registry/spectrocloud/ubuntu:k3s-1.27.2-v4.10.0-rc.2-palette-learn" | grep -E '"Digest"|io.edgeforge'
