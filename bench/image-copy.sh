#!/usr/bin/env bash
# Compares `edgeforge image copy` with `skopeo copy` on a ~300 MB, 6-layer image:
#   registry -> OCI layout, and OCI layout -> registry (a fresh repository each run, so every blob is uploaded).
# A CNCF Distribution registry (docker-registry) runs on 127.0.0.1 with a free port and a temporary store.
# Needs: docker-registry, skopeo, umoci (scripts/test-packages.txt). Usage: bench/image-copy.sh [RUNS]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
runs=${1:-3}
work=$(mktemp -d /tmp/edgeforge-bench-image.XXXXXX)
# A registry of the benchmark's own, in its work directory, on a free port (scripts/local-registry.sh).
export EDGEFORGE_REGISTRY_STATE="$work/registry"
cleanup() {
  bash "$root/scripts/local-registry.sh" stop
  rm -rf "$work"
}
trap cleanup EXIT
for tool in docker-registry skopeo umoci awk; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is not installed" >&2; exit 1; }
done

registry=$(bash "$root/scripts/local-registry.sh" start "${BENCH_REGISTRY_PORT:-free}")

echo "bench: building a 6-layer image (~300 MB of incompressible data) with umoci"
umoci init --layout "$work/src" >/dev/null
umoci new --image "$work/src:v1"
for i in 1 2 3 4 5 6; do
  mkdir -p "$work/layer$i/data$i"
  head -c $((50 * 1024 * 1024)) /dev/urandom >"$work/layer$i/data$i/blob.bin"
  tar -C "$work/layer$i" -cf "$work/layer$i.tar" .
  umoci raw add-layer --image "$work/src:v1" "$work/layer$i.tar"
  rm -rf "$work/layer$i" "$work/layer$i.tar"
done
skopeo copy -q --dest-tls-verify=false "oci:$work/src:v1" "docker://$registry/bench/source:v1"
size=$(du -sm "$work/src/blobs" | cut -f1)

export EDGEFORGE_CACHE="$work/cache"
"$root/edgeforge" --help >/dev/null   # builds the CLI if needed, outside the timings
# Time the built program itself: the launcher would rebuild mid-benchmark if a source file changed meanwhile.
edgeforge() { dotnet "$root/.edgeforge/bin/edgeforge.dll" "$@"; }
# skopeo remembers where it saw each blob (containers/image blob-info cache) and would mount it from the source
# repository instead of uploading it; forget that before each of its pushes so both tools really upload.
forget_skopeo_blob_locations() {
  rm -f /var/lib/containers/cache/blob-info-cache-v1.boltdb "${XDG_DATA_HOME:-$HOME/.local/share}/containers/cache/blob-info-cache-v1.boltdb"
}

seconds() { local start end; start=$(date +%s.%N); "$@" >/dev/null 2>&1; end=$(date +%s.%N); awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }'; }
best() { sort -g | head -1; }

pull_ef=(); pull_sk=(); push_ef=(); push_sk=()
for run in $(seq 1 "$runs"); do
  sync
  rm -rf "$work/pull-ef" "$work/pull-sk"
  pull_ef+=("$(seconds edgeforge image copy "docker://$registry/bench/source:v1" "oci:$work/pull-ef:v1")")
  sync
  pull_sk+=("$(seconds skopeo copy --src-tls-verify=false "docker://$registry/bench/source:v1" "oci:$work/pull-sk:v1")")
  sync
  push_ef+=("$(seconds edgeforge image copy "oci:$work/src:v1" "docker://$registry/bench/ef-$run:v1")")
  sync
  forget_skopeo_blob_locations
  push_sk+=("$(seconds skopeo copy --dest-tls-verify=false "oci:$work/src:v1" "docker://$registry/bench/sk-$run:v1")")
done

# The copies must be the same image: edgeforge keeps digests, so both layouts name the same manifest.
digest_of() { grep -o '"digest":"sha256:[0-9a-f]*"' "$1/index.json" | head -1; }
ef_digest=$(digest_of "$work/pull-ef"); sk_digest=$(digest_of "$work/pull-sk")
[ "$ef_digest" = "$sk_digest" ] || { echo "bench: digests differ: edgeforge $ef_digest, skopeo $sk_digest" >&2; exit 1; }

pe=$(printf '%s\n' "${pull_ef[@]}" | best); ps=$(printf '%s\n' "${pull_sk[@]}" | best)
ue=$(printf '%s\n' "${push_ef[@]}" | best); us=$(printf '%s\n' "${push_sk[@]}" | best)
echo
echo "image: ${size} MB in 6 layers + config; best of $runs runs; skopeo $(skopeo --version | awk '{print $3}')"
printf '%-32s %10s %10s %8s\n' "direction" "edgeforge" "skopeo" "ratio"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
printf '%-32s %9.2fs %9.2fs %8s\n' "registry -> OCI layout" "$pe" "$ps" "$(ratio "$pe" "$ps")"
printf '%-32s %9.2fs %9.2fs %8s\n' "OCI layout -> registry (fresh)" "$ue" "$us" "$(ratio "$ue" "$us")"
echo "all runs (s): pull edgeforge ${pull_ef[*]} | pull skopeo ${pull_sk[*]} | push edgeforge ${push_ef[*]} | push skopeo ${push_sk[*]}"
