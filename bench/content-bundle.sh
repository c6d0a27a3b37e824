#!/usr/bin/env bash
# Compares `edgeforge content build` with what it replaces by hand: `skopeo copy` of the same images into one OCI
# layout followed by `tar | zstd -T2 -3`. Both start from a registry and an empty local cache/layout each run, both
# keep every platform and compress with zstd level 3 on 2 threads. Prints time and size ratios.
# Two images (4 layers of incompressible data, 2 layers of text) are built with umoci and pushed to a CNCF
# Distribution registry (docker-registry) on 127.0.0.1. Needs: docker-registry, skopeo, umoci, zstd, tar.
# Usage: bench/content-bundle.sh [RUNS]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
runs=${1:-3}
work=$(mktemp -d /tmp/edgeforge-bench-content.XXXXXX)
# A registry of the benchmark's own, in its work directory, on a free port (scripts/local-registry.sh).
export EDGEFORGE_REGISTRY_STATE="$work/registry"
cleanup() {
  bash "$root/scripts/local-registry.sh" stop
  rm -rf "$work"
}
trap cleanup EXIT
for tool in docker-registry skopeo umoci zstd tar awk; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is not installed" >&2; exit 1; }
done

registry=$(bash "$root/scripts/local-registry.sh" start "${BENCH_REGISTRY_PORT:-free}")

# image NAME LAYERS MB KIND: KIND random (incompressible) or text (base64: compresses to ~3/4, the entropy of random bytes).
image() {
  local name=$1 layers=$2 mb=$3 kind=$4
  umoci init --layout "$work/src-$name" >/dev/null
  umoci new --image "$work/src-$name:v1"
  for i in $(seq 1 "$layers"); do
    mkdir -p "$work/layer/data$i"
    if [ "$kind" = random ]; then
      head -c $((mb * 1024 * 1024)) /dev/urandom >"$work/layer/data$i/blob.bin"
    else
      head -c $((mb * 1024 * 1024 * 3 / 4)) /dev/urandom | base64 -w 76 >"$work/layer/data$i/text.txt"
    fi
    tar -C "$work/layer" -cf "$work/layer.tar" .
    umoci raw add-layer --image "$work/src-$name:v1" "$work/layer.tar"
    rm -rf "$work/layer" "$work/layer.tar"
  done
  skopeo copy -q --dest-tls-verify=false "oci:$work/src-$name:v1" "docker://$registry/bench/$name:v1"
  echo "$registry/bench/$name:v1" >>"$work/images.txt"
}
echo "bench: building two images with umoci (4 x 50 MB random, 2 x 40 MB text)"
image app 4 50 random
image tools 2 40 text

"$root/edgeforge" --help >/dev/null   # builds the CLI if needed, outside the timings
# Time the built program itself: the launcher would rebuild mid-benchmark if a source file changed meanwhile.
edgeforge() { dotnet "$root/.edgeforge/bin/edgeforge.dll" "$@"; }

by_hand() {
  local layout=$1 output=$2
  while read -r reference; do
    skopeo copy -q --all --src-tls-verify=false "docker://$reference" "oci:$layout:$reference"
  done <"$work/images.txt"
  tar -C "$layout" -cf - . | zstd -T2 -3 -q -o "$output"
}

seconds() { local start end; start=$(date +%s.%N); "$@" >/dev/null 2>&1; end=$(date +%s.%N); awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }'; }
best() { sort -g | head -1; }

ef=(); sk=()
for run in $(seq 1 "$runs"); do
  rm -rf "$work/ef-cache" "$work/ef-out" "$work/sk-layout" "$work/sk.tar.zst"
  sync
  ef+=("$(EDGEFORGE_CACHE="$work/ef-cache" seconds edgeforge content build --images "$work/images.txt" -o "$work/ef-out" --name bench --level 3)")
  sync
  sk+=("$(seconds by_hand "$work/sk-layout" "$work/sk.tar.zst")")
done

ef_bundle=$(find "$work/ef-out" -name bench.zst)
zstd -t -q "$ef_bundle"
ef_size=$(stat -c %s "$ef_bundle"); sk_size=$(stat -c %s "$work/sk.tar.zst")
# Same images in both: the layouts name the same digests.
mkdir -p "$work/ef-extracted"
edgeforge content extract "$ef_bundle" "$work/ef-extracted" >/dev/null
digests() { grep -o '"digest":"sha256:[0-9a-f]*"' "$1/index.json" | sort; }
[ "$(digests "$work/ef-extracted")" = "$(digests "$work/sk-layout")" ] || { echo "bench: the two bundles hold different images" >&2; exit 1; }

te=$(printf '%s\n' "${ef[@]}" | best); ts=$(printf '%s\n' "${sk[@]}" | best)
content=$(du -sm "$work/sk-layout/blobs" | cut -f1)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo
echo "images: 2 (${content} MB of blobs); best of $runs runs; skopeo $(skopeo --version | awk '{print $3}'), zstd $(zstd --version | grep -o 'v[0-9.]*')"
printf '%-44s %10s %14s\n' "" "time" "size (bytes)"
printf '%-44s %9.2fs %14d\n' "edgeforge content build" "$te" "$ef_size"
printf '%-44s %9.2fs %14d\n' "skopeo copy + tar | zstd -T2 -3" "$ts" "$sk_size"
printf '%-44s %10s %14s\n' "ratio edgeforge / by hand" "$(ratio "$te" "$ts")" "$(ratio "$ef_size" "$sk_size")"
echo "all runs (s): edgeforge ${ef[*]} | by hand ${sk[*]}"
