#!/usr/bin/env bash
# Installer ISO cost: `edgeforge build iso` against the pipeline AuroraBoot uses on the same installer image —
# extract the image's layers with tar, mksquashfs, mkfs.vfat + mmd/mcopy for the EFI image, an ISO tree with kernel,
# initrd, boot assets and config, and xorriso with AuroraBoot's arguments (those of the reference QEMU boot recipe).
# The image is the busybox test OS of scripts/quickstart.sh (Debian kernel, busybox initramfs) plus ~560 MB of real
# files (/usr/lib/jvm, else /usr/lib/x86_64-linux-gnu, and /usr/share/locale), imported into a local registry.
# Each side runs once with gzip (AuroraBoot's default compressor) and once with zstd level 3 (edgeforge's default),
# from scratch: edgeforge with a fresh cache (it pulls the image from the local registry, timed), the pipeline from
# an OCI layout pulled beforehand with skopeo (its input, not timed).
# Measured: wall time (sum over the pipeline's steps), peak memory (max RSS from /usr/bin/time; the maximum over the
# pipeline's steps), peak disk (`du -sb` every 0.2 s: edgeforge's build/, cache and TMPDIR; the pipeline's work
# directory). Prints a table and the ratios edgeforge/AuroraBoot.
# Environment: BENCH_REGISTRY_PORT (default: a free port); BENCH_SIDES (default "ab-gzip ef-gzip ab-zstd ef-zstd": which
# of the four runs to make, in that order).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/install-packages.sh >/dev/null
work=$(mktemp -d /tmp/edgeforge-bench-installer-iso.XXXXXX)
# A registry of the benchmark's own, in its work directory, on a free port unless BENCH_REGISTRY_PORT names one.
export EDGEFORGE_REGISTRY_STATE="$work/registry"
samplers=()
cleanup() {
  local p; for p in "${samplers[@]}"; do kill "$p" 2>/dev/null || true; done
  bash scripts/local-registry.sh stop
  rm -rf "$work"
}
trap cleanup EXIT
registry=$(bash scripts/local-registry.sh start "${BENCH_REGISTRY_PORT:-free}")
./edgeforge --help >/dev/null  # build the CLI before timing

echo "== installer image: test OS + kernel + initramfs + real files"
os="$work/test-os"
bash scripts/test-os.sh "$os"
kver=$(ls /lib/modules | sort -V | tail -1)
mkdir -p "$os/boot" "$os/usr/lib" "$os/usr/share"
cp "/boot/vmlinuz-$kver" "$os/boot/vmlinuz-$kver"
ir="$work/initramfs"
mkdir -p "$ir"/{bin,proc,sys,dev,etc,lib/modules,mnt/iso,mnt/root}
cp /bin/busybox "$ir/bin/busybox"
declare -A seen=()
: > "$ir/etc/modules.load"
addmod() {  # a module path from modules.dep, after its dependencies (as scripts/quickstart.sh)
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
printf '#!/bin/busybox sh\n/bin/busybox --install -s /bin\necho EF-BOOT-OK\npoweroff -f\n' > "$ir/init"
chmod 0755 "$ir/init"
(cd "$ir" && find . | sort | cpio -o -H newc --owner=0:0 --quiet | gzip -1 -n) > "$os/boot/initrd.img-$kver"
cp -a /usr/lib/jvm "$os/usr/lib/" 2>/dev/null || cp -a /usr/lib/x86_64-linux-gnu "$os/usr/lib/"
cp -a /usr/share/locale "$os/usr/share/" 2>/dev/null || true
image_bytes=$(du -sb "$os" | cut -f1)
image_files=$(find "$os" | wc -l)
echo "root filesystem: $((image_bytes / 1000000)) MB, $image_files entries"
./edgeforge image import "$os" "docker://$registry/bench/installer:1" >/dev/null
rm -rf "$os"
# The stylus framework and provider images the build pins, as fixture upstreams under their real names behind a
# registries.conf mirror (no internet here), as the quick start does.
conf=$(dotnet run --project tests/EdgeForge.FixtureUpstreams -c Release -- "$registry" "$work/upstreams" 1.27.2 | tail -1)

echo "== GRUB boot assets (BOOT_ASSETS layout)"
assets="$work/boot-assets"
mkdir -p "$assets/EFI/BOOT"
grub-mkimage -O i386-pc -p /boot/grub2 -o "$work/core.img" biosdisk iso9660 part_msdos part_gpt normal search search_fs_file \
  configfile linux echo test serial terminal all_video
cat /usr/lib/grub/i386-pc/cdboot.img "$work/core.img" > "$assets/eltorito.img"
cp /usr/lib/grub/i386-pc/boot_hybrid.img "$assets/"
printf 'search --no-floppy --file --set=root /boot/kernel\nset prefix=($root)/boot/grub2\nconfigfile $prefix/grub.cfg\n' > "$work/stub.cfg"
grub-mkimage -O x86_64-efi -p /EFI/BOOT -c "$work/stub.cfg" -o "$assets/EFI/BOOT/bootx64.efi" iso9660 part_gpt part_msdos fat \
  normal search search_fs_file configfile linux echo test serial terminal efi_gop all_video

project="$work/project"
mkdir -p "$project"
cat > "$project/.arg" <<ARG
IMAGE_REGISTRY=$registry/bench-edge
BASE_IMAGE=$registry/bench/installer:1
OS_DISTRIBUTION=ubuntu
IMAGE_REPO=ubuntu
OS_VERSION=22.04
K8S_DISTRIBUTION=k3s
K8S_VERSION=1.27.2
ISO_NAME=bench-installer
ARCH=amd64
CUSTOM_TAG=bench
BUNDLE_K8S_AND_AGENT_PROVIDER=false
ARG
cat > "$project/user-data" <<'UD'
#cloud-config
install:
  poweroff: true
stylus:
  site:
    paletteEndpoint: api.spectrocloud.com
    edgeHostToken: "bench"
UD

echo "== the pipeline's input: the image as an OCI layout (not timed)"
skopeo copy -q --src-tls-verify=false "docker://$registry/bench/installer:1" "oci:$work/oci:1"
mapfile -t layers < <(python3 - "$work/oci" <<'PY'
import json, sys, os
d = sys.argv[1]
blob = lambda digest: os.path.join(d, "blobs", *digest.split(":"))
index = json.load(open(os.path.join(d, "index.json")))
manifest = json.load(open(blob(index["manifests"][0]["digest"])))
for layer in manifest["layers"]:
    print(blob(layer["digest"]))
PY
)
echo "${#layers[@]} layer(s)"

# Peak disk: `du -sb` of the given directories every 0.2 s, the maximum written to FILE; several samplers may run.
samplers=()
start_sampler() {  # FILE DIR…
  local out=$1; shift
  echo 0 > "$out"
  (max=0; while :; do
     s=$(du -sb "$@" 2>/dev/null | awk '{ t += $1 } END { print t + 0 }')
     if [ "$s" -gt "$max" ]; then max=$s; echo "$max" > "$out"; fi
     sleep 0.2
   done) &
  samplers+=($!)
}
stop_sampler() { local p; for p in "${samplers[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; samplers=(); }

# step LABEL COMMAND…: runs under /usr/bin/time, appends "seconds kilobytes" to $steps.
step() {
  local label=$1; shift
  /usr/bin/time -f '%e %M' -o "$work/time.out" "$@" >"$work/step.log" 2>&1 || { echo "$label failed:"; cat "$work/step.log"; exit 1; }
  tail -1 "$work/time.out" >> "$steps"
  printf '    %-22s %s\n' "$label" "$(tail -1 "$work/time.out" | awk '{ printf "%6.2f s %7.0f MB", $1, $2 / 1024 }')"
}

declare -A wall rss disk cachedisk iso
run_edgeforge() {  # COMP
  local comp=$1 cache="$work/ef-cache-$1" tmp="$work/ef-tmp-$1"
  mkdir -p "$cache" "$tmp"
  rm -rf "$project/build"; mkdir -p "$project/build"
  ./edgeforge --help >/dev/null
  sync
  # Scratch (build/ and TMPDIR: everything the build writes but the cache) and the cache, sampled apart.
  start_sampler "$work/disk-ef-$comp" "$project/build" "$tmp"
  start_sampler "$work/cache-ef-$comp" "$cache"
  steps="$work/steps-ef-$comp"; : > "$steps"
  step "edgeforge build iso" env TMPDIR="$tmp" ./edgeforge build iso "$project" --boot-assets "$assets" --cache-dir "$cache" \
    --registries-conf "$conf" --build-arg "SQUASHFS_COMPRESSION=$2"
  stop_sampler
  wall[ef-$comp]=$(awk '{ print $1 }' "$steps"); rss[ef-$comp]=$(awk '{ print $2 }' "$steps")
  disk[ef-$comp]=$(cat "$work/disk-ef-$comp"); cachedisk[ef-$comp]=$(cat "$work/cache-ef-$comp")
  iso[ef-$comp]=$(stat -c %s "$project/build/"*.iso)
  echo "    ISO ${iso[ef-$comp]} bytes, peak scratch ${disk[ef-$comp]} bytes, peak cache ${cachedisk[ef-$comp]} bytes"
  [ -z "${BENCH_LOG_DIR:-}" ] || cp "$work/step.log" "$BENCH_LOG_DIR/edgeforge-$comp.log"
  rm -rf "$project/build" "$cache" "$tmp"
}

run_auroraboot() {  # COMP, mksquashfs compressor arguments…
  local comp=$1; shift
  local b="$work/ab-$comp"
  mkdir -p "$b/rootfs" "$b/tree/boot/grub2"
  sync
  start_sampler "$work/disk-ab-$comp" "$b"
  steps="$work/steps-ab-$comp"; : > "$steps"
  for layer in "${layers[@]}"; do
    step "tar -x layer" tar -xf "$layer" -C "$b/rootfs" --numeric-owner
  done
  step "mksquashfs" mksquashfs "$b/rootfs" "$b/tree/rootfs.squashfs" -b 1024k "$@" -noappend -no-progress
  step "copy kernel/initrd" bash -c "cp '$b'/rootfs/boot/vmlinuz-* '$b/tree/boot/kernel' && cp '$b'/rootfs/boot/initrd* '$b/tree/boot/initrd'"
  step "ISO tree assets" bash -c "cp '$assets/eltorito.img' '$assets/boot_hybrid.img' '$b/tree/boot/' && cp '$project/user-data' '$b/tree/config.yaml' && cat > '$b/tree/boot/grub2/grub.cfg' <<'EOF'
search --no-floppy --file --set=root /boot/kernel
set default=0
set timeout=5
menuentry \"Installer\" {
  linux (\$root)/boot/kernel console=ttyS0,115200 cdroot root=live:CDLABEL=COS_LIVE rd.live.squashimg=rootfs.squashfs
  initrd (\$root)/boot/initrd
}
EOF"
  step "mkfs.vfat + mcopy" bash -c "mkfs.vfat -n COS_GRUB -C '$b/uefi.img' 4096 >/dev/null && mmd -i '$b/uefi.img' ::/EFI ::/EFI/BOOT \
    && mcopy -i '$b/uefi.img' '$assets/EFI/BOOT/bootx64.efi' ::/EFI/BOOT/BOOTX64.EFI && mcopy -i '$b/uefi.img' '$work/stub.cfg' ::/EFI/BOOT/grub.cfg"
  step "xorriso" bash -c "cd '$b' && xorriso -volid COS_LIVE -joliet on -padding 0 -outdev out.iso -map tree / -chmod 0755 -- \
  -boot_image grub bin_path=/boot/eltorito.img \
  -boot_image grub grub2_mbr=tree/boot/boot_hybrid.img \
  -boot_image grub grub2_boot_info=on \
  -boot_image any partition_offset=16 \
  -boot_image any cat_path=/boot/boot.catalog \
  -boot_image any cat_hidden=on \
  -boot_image any boot_info_table=on \
  -boot_image any platform_id=0x00 \
  -boot_image any emul_type=no_emulation \
  -boot_image any load_size=2048 \
  -boot_image any next \
  -boot_image any platform_id=0xef \
  -boot_image any emul_type=no_emulation \
  -append_partition 2 0xef uefi.img \
  -boot_image any efi_path=--interval:appended_partition_2:all:: \
  -boot_image any appended_part_as=gpt \
  -boot_image any mbr_force_bootable=on"
  stop_sampler
  wall[ab-$comp]=$(awk '{ t += $1 } END { printf "%.2f", t }' "$steps")
  rss[ab-$comp]=$(awk '$2 > m { m = $2 } END { print m }' "$steps")
  disk[ab-$comp]=$(cat "$work/disk-ab-$comp")
  iso[ab-$comp]=$(stat -c %s "$b/out.iso"); cachedisk[ab-$comp]=0
  echo "    ISO ${iso[ab-$comp]} bytes"
  rm -rf "$b"
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
# gzip first (AuroraBoot's default), then zstd:3 (edgeforge's default); the pipeline first, then edgeforge.
sides=${BENCH_SIDES:-ab-gzip ef-gzip ab-zstd ef-zstd}
for side in $sides; do
  case $side in
    ab-gzip) echo "== AuroraBoot pipeline, gzip";   run_auroraboot gzip -comp gzip ;;
    ef-gzip) echo "== edgeforge build iso, gzip";   run_edgeforge gzip gzip ;;
    ab-zstd) echo "== AuroraBoot pipeline, zstd:3"; run_auroraboot zstd -comp zstd -Xcompression-level 3 ;;
    ef-zstd) echo "== edgeforge build iso, zstd:3"; run_edgeforge zstd zstd:3 ;;
    *) echo "installer-iso.sh: unknown BENCH_SIDES entry $side" >&2; exit 2 ;;
  esac
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

echo
echo "installer ISO from a $((image_bytes / 1000000)) MB image ($image_files entries); $(nproc) processors; load average $load_before before, $load_after after"
printf '%-28s %9s %13s %13s %12s %12s\n' "" "wall (s)" "scratch MB" "cache MB" "peak RSS MB" "ISO bytes"
for side in $sides; do
  case $side in ab-*) name="AuroraBoot pipeline ${side#ab-}";; *) name="edgeforge build iso ${side#ef-}";; esac
  printf '%-28s %9s %13d %13d %12d %12d\n' "$name" "${wall[$side]}" $((disk[$side] / 1000000)) $((cachedisk[$side] / 1000000)) $((rss[$side] / 1024)) "${iso[$side]}"
done
# The issue 12 ratios: each edgeforge run against both pipeline runs; scratch disk against the ISO it made.
for ef in ef-zstd ef-gzip; do
  [ -n "${wall[$ef]:-}" ] || continue
  for ab in ab-zstd ab-gzip; do
    [ -n "${wall[$ab]:-}" ] || continue
    awk -v a="$ef" -v b="$ab" -v we="${wall[$ef]}" -v wa="${wall[$ab]}" -v re="${rss[$ef]}" -v ra="${rss[$ab]}" \
      'BEGIN { printf "ratio %s / %s: wall %.2f, peak memory %.2f\n", a, b, we / wa, re / ra }'
  done
  awk -v a="$ef" -v d="${disk[$ef]}" -v i="${iso[$ef]}" -v r="${rss[$ef]}" \
    'BEGIN { printf "%s: peak scratch disk / ISO %.3f, peak RSS %.0f MiB\n", a, d / i, r / 1024 }'
done
