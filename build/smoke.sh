#!/usr/bin/env bash
# Smoke test of the compiled binary as a user runs it: --version, start, liveness
# (hello → hello-ok), readiness probe (health), graceful SIGTERM.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=dist/clawdis
state=$(mktemp -d)
"$bin" --version
CLAWDIS_STATE_DIR="$state" "$bin" gateway --port 0 >"$state/out.log" 2>&1 &
pid=$!
trap 'kill -9 $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  grep -q "listening on" "$state/out.log" && break
  sleep 0.1
done
url=$(grep -o 'ws://127.0.0.1:[0-9]*' "$state/out.log" | head -1)
[ -n "$url" ] || { cat "$state/out.log"; echo "smoke: gateway did not start"; exit 1; }
"$bin" health --json --url "$url" | grep -q '"ok": true'
kill -TERM $pid
wait $pid
echo "smoke: ok ($url)"
