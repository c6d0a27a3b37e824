#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs the Debian packages the tests use, builds once, runs every test
# project (unit, integration and the heavy end-to-end tier: QEMU boots, real registries), and closes with one line
# "tests: N passed, N failed, N skipped". Extra arguments go to `dotnet test` (e.g. --filter "Tier!=Heavy").
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

bash scripts/install-packages.sh

results=$(mktemp -d /tmp/edgeforge-tests.XXXXXX)
dotnet build EdgeForge.slnx -c Release -nologo -v quiet
status=0
# One test project at a time: on 2 cores, parallel projects gain little and make QEMU (TCG) boots compete with
# debootstrap and compression for the CPU.
dotnet test EdgeForge.slnx -c Release --no-build -m:1 --logger "trx" --results-directory "$results" "$@" || status=$?

# Sum the counters of every test run (one TRX file per test project).
totals=$(cat "$results"/*.trx 2>/dev/null | grep -o '<Counters [^>]*>' | awk '
  { for (i = 1; i <= NF; i++) { split($i, kv, "="); gsub(/"/, "", kv[2]); sum[kv[1]] += kv[2] } }
  END { printf "%d %d %d", sum["total"], sum["passed"], sum["failed"] }')
read -r total passed failed <<< "${totals:-0 0 0}"
# The slowest tests, so the suite's time budget (30 minutes in CI) can be kept with data rather than guesses.
cat "$results"/*.trx 2>/dev/null | grep -o '<UnitTestResult [^>]*>' | sed -n 's/.*testName="\([^"]*\)".*duration="\([0-9:.]*\)".*/\2 \1/p' |
  awk '{ split($1, t, ":"); printf "%8.1f s  %s\n", t[1] * 3600 + t[2] * 60 + t[3], substr($0, length($1) + 2) }' | sort -rn | head -n 12 |
  sed '1i slowest tests:' || true
skipped=$((total - passed - failed))
rm -rf "$results"
echo "tests: $passed passed, $failed failed, $skipped skipped"
if [ "$total" -eq 0 ]; then
  echo "no test ran" >&2
  exit 1
fi
exit $status
