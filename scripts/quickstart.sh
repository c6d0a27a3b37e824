#!/usr/bin/env bash
# Quick start: installs what edgeforge needs, starts a local registry on 127.0.0.1, and runs the main job on the
# bundled example, examples/basic — validate every input, print the plan, build the provider image into the local
# registry (base: the bundled busybox test OS; Kubernetes: a fixture image), and print the BYOOS pack manifest.
# No internet, no Docker engine.
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
echo "== the bundled test OS as base image, and a fixture Kubernetes image"
bash scripts/test-os.sh "$work/test-os"
./edgeforge image import "$work/test-os" "docker://$registry/edgeforge/test-os:busybox"
mkdir -p "$work/k8s/opt/k8s" "$work/k8s/usr/bin"
echo "1.27.2" > "$work/k8s/opt/k8s/version"
printf '#!/bin/sh\necho "k3s v1.27.2+k3s1 (edgeforge quick-start fixture)"\n' > "$work/k8s/usr/bin/k3s"
chmod 0755 "$work/k8s/usr/bin/k3s"
./edgeforge image import "$work/k8s" "docker://$registry/edgeforge/k8s-k3s:1.27.2"

echo
echo "== edgeforge build provider-images $example --push (registry overridden to the local one)"
./edgeforge build provider-images "$example" --push --cache-dir "$work/cache" \
  --build-arg "IMAGE_REGISTRY=$registry/spectrocloud" \
  --build-arg "BASE_IMAGE=$registry/edgeforge/test-os:busybox" \
  --build-arg "K8S_PROVIDER_SOURCE=$registry/edgeforge/k8s-{distribution}:{version}"

echo
echo "== read back by skopeo"
skopeo inspect --tls-verify=false "docker://$registry/spectrocloud/ubuntu:k3s-1.27.2-v4.4.12-palette-learn" | grep -E '"Digest"|io.edgeforge'
