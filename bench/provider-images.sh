#!/usr/bin/env bash
# Provider image matrix cost: builds the same project for 1 and for 10 Kubernetes versions (each from a fresh cache,
# pushing to a local registry) and prints both times and the ratio. The shared layers (base, certificates,
# customisations with a RUN, edge configuration) are built once per matrix, so 10 versions should cost little more
# than one. The base is the busybox test OS plus ~550 MB of real shared libraries and locales (a Kairos base image is
# 1-2 GB); each Kubernetes fixture image carries 40 MB of incompressible data, like a k3s binary.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/install-packages.sh >/dev/null
work=$(mktemp -d /tmp/edgeforge-bench-provider.XXXXXX)
# A registry of the benchmark's own, in its work directory, on a free port unless BENCH_REGISTRY_PORT names one.
export EDGEFORGE_REGISTRY_STATE="$work/registry"
trap 'bash scripts/local-registry.sh stop; rm -rf "$work"' EXIT
registry=$(bash scripts/local-registry.sh start "${BENCH_REGISTRY_PORT:-free}")
./edgeforge --help >/dev/null  # build the CLI before timing

bash scripts/test-os.sh "$work/test-os"
mkdir -p "$work/test-os/usr/lib" "$work/test-os/usr/share"
cp -a /usr/lib/jvm "$work/test-os/usr/lib/" 2>/dev/null || cp -a /usr/lib/x86_64-linux-gnu "$work/test-os/usr/lib/"
cp -a /usr/share/locale "$work/test-os/usr/share/" 2>/dev/null || true
echo "base root filesystem: $(du -sh "$work/test-os" | cut -f1)"
./edgeforge image import "$work/test-os" "docker://$registry/bench/base:1" >/dev/null
versions=()
for minor in $(seq 1 10); do
  version="1.30.$minor"
  versions+=("$version")
  mkdir -p "$work/k8s-$version/usr/bin"
  head -c 40000000 /dev/urandom > "$work/k8s-$version/usr/bin/k3s"
  ./edgeforge image import "$work/k8s-$version" "docker://$registry/bench/k8s-k3s:$version" >/dev/null
done

project="$work/project"
mkdir -p "$project/certs"
openssl req -x509 -newkey rsa:2048 -nodes -keyout /dev/null -subj "/CN=Bench CA" -days 2 -out "$project/certs/ca.crt" 2>/dev/null
printf '{"k3s": [%s]}\n' "$(printf '"%s",' "${versions[@]}" | sed 's/,$//')" > "$project/k8s_version.json"
cat > "$project/.arg" <<ARG
IMAGE_REGISTRY=$registry/bench-edge
BASE_IMAGE=$registry/bench/base:1
K8S_PROVIDER_SOURCE=$registry/bench/k8s-{distribution}:{version}
CUSTOM_TAG=bench
ARG
cat > "$project/Dockerfile" <<'DOCKERFILE'
# Add any other image customizations here
RUN mkdir -p /opt/bench && dd if=/dev/urandom of=/opt/bench/payload bs=1M count=20 2>/dev/null
ENV BENCH=1
DOCKERFILE

run() {  # label, k8s-version filter
  local cache="$work/cache-$1-$RANDOM"
  local start end
  start=$(date +%s.%N)
  ./edgeforge build provider-images "$project" --push --jobs 2 --cache-dir "$cache" --k8s-version "$2" --output "$work/layout-$1" >/dev/null 2>&1
  end=$(date +%s.%N)
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }'
}

# Alternate the two sizes and keep the best of two runs each: single runs swing with the machine's load.
all=$(IFS=,; echo "${versions[*]}")
one_a=$(run one "${versions[0]}"); ten_a=$(run ten "$all"); one_b=$(run one "${versions[0]}"); ten_b=$(run ten "$all")
one=$(awk -v a="$one_a" -v b="$one_b" 'BEGIN { printf "%.2f", (a < b ? a : b) }')
ten=$(awk -v a="$ten_a" -v b="$ten_b" 'BEGIN { printf "%.2f", (a < b ? a : b) }')
echo "provider images, same project, fresh cache each, --push to a local registry (best of 2; load $(cut -d' ' -f1 /proc/loadavg)):"
echo "  1 Kubernetes version:   ${one} s"
echo "  10 Kubernetes versions: ${ten} s"
awk -v a="$one" -v b="$ten" 'BEGIN { printf "  ratio 10/1: %.2f (target < 1.5)\n", b / a }'
