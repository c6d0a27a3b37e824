#!/usr/bin/env bash
# bench/iso.sh — `edgeforge fs iso` against `xorriso -as mkisofs -R -J` on the same input tree.
# Input: $BENCH_TREE if set (any directory), else a generated tree of ~500 MB in 12,000 files and 400 directories
# (deterministic sizes and contents, plus symlinks), kept under $WORK for reuse.
# Each tool runs twice on a warm page cache (the tree is read once beforehand); output goes to $WORK.
# Prints wall time, output size and the ratios edgeforge/xorriso. Needs: xorriso, python3, GNU time-free bash.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=${WORK:-/tmp/edgeforge-bench-iso}
mkdir -p "$WORK"
tree=${BENCH_TREE:-$WORK/tree}

if [ -z "${BENCH_TREE:-}" ] && [ ! -f "$WORK/tree.done" ]; then
  rm -rf "$tree"
  python3 - "$tree" <<'PY'
import os, random, sys
root = sys.argv[1]
rng = random.Random(20261122)
dirs = [os.path.join(root, f"d{i // 40:02d}", f"sub{i % 40:02d}") for i in range(400)]
for d in dirs:
    os.makedirs(d, exist_ok=True)
total = 0
block = rng.randbytes(1 << 20)
for i in range(12000):
    # Mostly small files, some large: roughly the shape of a root filesystem.
    size = int(rng.lognormvariate(8.5, 1.8)) if i % 400 else rng.randint(4 << 20, 12 << 20)
    size = min(size, 12 << 20)
    path = os.path.join(dirs[i % len(dirs)], f"file-{i:05d}.bin")
    with open(path, "wb") as f:
        left, off = size, (i * 7919) % (1 << 19)
        while left > 0:
            n = min(left, len(block) - off)
            f.write(block[off:off + n]); left -= n; off = 0
    total += size
    if i % 50 == 1:
        os.symlink(f"file-{i:05d}.bin", os.path.join(dirs[i % len(dirs)], f"link-{i:05d}"))
print(f"generated {total / 1e6:.0f} MB in 12000 files")
PY
  touch "$WORK/tree.done"
fi

files=$(find "$tree" -type f | wc -l)
bytes=$(du -sb "$tree" | cut -f1)
echo "input: $tree — $files files, $((bytes / 1000000)) MB"

find "$tree" -type f -print0 | xargs -0 cat >/dev/null   # warm the page cache for both tools

seconds() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N); awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}'; }
min() { awk -v a="$1" -v b="$2" 'BEGIN{print (a < b ? a : b)}'; }

# Two rounds in alternating order; each run starts after `sync` with its output removed, so neither tool pays for
# the other's write-back; the faster of the two runs counts. The launcher rebuilds the CLI when sources changed:
# that happens untimed, just before each timed run.
t_x=999999; t_e=999999
for round in 1 2; do
  for tool in xorriso edgeforge; do
    [ "$round" = 2 ] && tool=$([ "$tool" = xorriso ] && echo edgeforge || echo xorriso)
    rm -f "$WORK/$tool.iso"; sync
    if [ "$tool" = xorriso ]; then
      t=$(seconds xorriso -as mkisofs -R -J -V BENCH -o "$WORK/xorriso.iso" "$tree"); t_x=$(min "$t_x" "$t")
    else
      "$root/edgeforge" --help >/dev/null
      t=$(seconds "$root/edgeforge" fs iso "$tree" -o "$WORK/edgeforge.iso" --volume BENCH); t_e=$(min "$t_e" "$t")
    fi
    echo "round $round: $tool ${t}s"
  done
done
s_x=$(stat -c %s "$WORK/xorriso.iso")
s_e=$(stat -c %s "$WORK/edgeforge.iso")

printf '%-10s %10s %14s\n' tool "wall (s)" "size (bytes)"
printf '%-10s %10s %14s\n' xorriso "$t_x" "$s_x"
printf '%-10s %10s %14s\n' edgeforge "$t_e" "$s_e"
awk -v te="$t_e" -v tx="$t_x" -v se="$s_e" -v sx="$s_x" 'BEGIN{
  printf "time ratio edgeforge/xorriso: %.2f (target <= 1.20)\n", te/tx;
  printf "size ratio edgeforge/xorriso: %.4f (target within 2%%)\n", se/sx }'
rm -f "$WORK/xorriso.iso" "$WORK/edgeforge.iso"
