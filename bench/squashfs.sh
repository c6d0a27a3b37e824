#!/usr/bin/env bash
# Benchmark: `edgeforge fs squashfs` against mksquashfs on the same tree, gzip and zstd level 3, 1 MiB blocks,
# 2 compressor threads each. Prints wall time, peak RSS and image size of both and the ratios edgeforge/mksquashfs.
#
#   bench/squashfs.sh [TREE]      TREE defaults to a ~500 MB copy of /usr/lib subdirectories, made once.
#
# Environment: BENCH_DIR (work directory, default /tmp/edgeforge-bench-squashfs), RUNS (timed runs per tool and
# compressor, best one reported; default 5: a 1.5 s run moves by ±10 % on a shared 2-core machine).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=${BENCH_DIR:-/tmp/edgeforge-bench-squashfs}
runs=${RUNS:-5}
mkdir -p "$work"

for tool in mksquashfs /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "squashfs.sh: $tool is missing (apt-get install squashfs-tools time)" >&2; exit 1; }
done

tree=${1:-$work/tree}
if [ -z "${1:-}" ] && [ ! -d "$tree" ]; then
  # A realistic root-filesystem slice: interpreters, compilers, shared libraries, scripts and data files.
  mkdir -p "$tree.partial"
  for dir in python3 python3.11 gcc git-core node_modules grub postgresql cni perl5 x86_64-linux-gnu/perl-base; do
    [ -d "/usr/lib/$dir" ] || continue
    cp -a "/usr/lib/$dir" "$tree.partial/$(echo "$dir" | tr / _)"
    [ "$(du -sm "$tree.partial" | cut -f1)" -ge 480 ] && break
  done
  mv "$tree.partial" "$tree"
fi

echo "input: $tree — $(du -sh "$tree" | cut -f1), $(find "$tree" | wc -l) entries; $(nproc) processors, best of $runs runs"
"$root/edgeforge" --help >/dev/null   # build the CLI outside the timing
tar -cf - -C "$tree" . >/dev/null      # warm the page cache for both tools alike

# timed VAR COMMAND…: runs it after `sync` (so neither tool pays for the other's write-back) and keeps the shorter
# of VAR and the new wall time in VAR, and the larger of VAR_rss and the new peak RSS (KiB) in VAR_rss.
timed() {
  local var=$1; shift
  sync
  /usr/bin/time -f '%e %M' -o "$work/wall-time" "$@" >/dev/null 2>"$work/stderr" || { cat "$work/stderr" >&2; exit 1; }
  local t rss; read -r t rss < <(tail -1 "$work/wall-time")
  if [ -z "${!var}" ] || awk "BEGIN{exit !($t < ${!var})}"; then printf -v "$var" '%s' "$t"; fi
  local rss_var=${var}_rss
  if [ -z "${!rss_var}" ] || [ "$rss" -gt "${!rss_var}" ]; then printf -v "$rss_var" '%s' "$rss"; fi
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-6s %12s %12s %7s %14s %14s %7s %12s %12s\n' comp "edgeforge s" "mksquashfs s" "time ×" "edgeforge B" "mksquashfs B" "size ×" "ef RSS KiB" "mk RSS KiB"
for comp in gzip zstd; do
  ef_image="$work/edgeforge-$comp.squashfs"
  mk_image="$work/mksquashfs-$comp.squashfs"
  mk_level=(); [ "$comp" = zstd ] && mk_level=(-Xcompression-level 3)
  ef_time=""; mk_time=""; ef_time_rss=""; mk_time_rss=""
  for run in $(seq "$runs"); do
    # Alternate which tool goes first: the machine's load drifts.
    if [ $((run % 2)) -eq 1 ]; then
      timed ef_time "$root/edgeforge" fs squashfs "$tree" -o "$ef_image" --comp "$comp" --block-size 1M --processors 2
      timed mk_time mksquashfs "$tree" "$mk_image" -comp "$comp" "${mk_level[@]}" -b 1M -processors 2 -noappend -quiet -no-progress
    else
      timed mk_time mksquashfs "$tree" "$mk_image" -comp "$comp" "${mk_level[@]}" -b 1M -processors 2 -noappend -quiet -no-progress
      timed ef_time "$root/edgeforge" fs squashfs "$tree" -o "$ef_image" --comp "$comp" --block-size 1M --processors 2
    fi
  done
  ef_size=$(stat -c %s "$ef_image")
  mk_size=$(stat -c %s "$mk_image")
  printf '%-6s %12s %12s %7s %14s %14s %7s %12s %12s\n' "$comp" "$ef_time" "$mk_time" \
    "$(awk "BEGIN{printf \"%.2f\", $ef_time/$mk_time}")" "$ef_size" "$mk_size" "$(awk "BEGIN{printf \"%.3f\", $ef_size/$mk_size}")" \
    "$ef_time_rss" "$mk_time_rss"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
