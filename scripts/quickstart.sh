#!/usr/bin/env bash
# Quick start: installs what edgeforge needs and runs the main job on the bundled example, examples/basic —
# validate every input, print the build plan, and print the BYOOS pack manifest. No internet, no Docker engine.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

bash scripts/install-packages.sh
example=examples/basic

echo "== edgeforge validate $example"
./edgeforge validate "$example"
echo
echo "== edgeforge plan $example"
./edgeforge plan "$example"
echo
echo "== edgeforge manifest $example"
./edgeforge manifest "$example"
