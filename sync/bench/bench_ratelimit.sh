#!/usr/bin/env bash
# Benchmark of a first sync against the current generation's rate limit:
# the emulator allows RATE requests a minute (X-RateLimit-* headers on every
# answer); gizmo paces itself from them. Prints the requests the sync sent,
# its wall time, the time requests / rate predicts, and the 429 answers
# (want 0). Usage: sync/bench/bench_ratelimit.sh [ASSETS] [RATE]
set -euo pipefail
ASSETS=${1:-40}
RATE=${2:-100}
GIZMO=${GIZMO:-bin/gizmo}
work=$(mktemp -d)
trap 'kill $EMU 2>/dev/null || true; wait $EMU 2>/dev/null || true; rm -rf "$work"' EXIT
"$GIZMO" emulator --api current --addr 127.0.0.1:0 --assets "$ASSETS" --settle-seeded=false \
  --rate-limit "$RATE/m" >"$work/emu.out" 2>"$work/emu.err" &
EMU=$!
for _ in $(seq 1 100); do [ -s "$work/emu.out" ] && break; sleep 0.05; done
URL=$(head -n1 "$work/emu.out")
export GIZMO_API_URL=$URL GIZMO_API_KEY=dev GIZMO_CACHE_DIR=$work/cache GIZMO_API_GENERATION=current
# The rate budget lives in the user's cache directory: keep it in the run's.
export XDG_CACHE_HOME=$work/xdg
start=$(date +%s.%N)
"$GIZMO" --quiet sync
end=$(date +%s.%N)
stats=$(curl -s "$URL/_emulator/stats")
python3 - "$stats" "$start" "$end" "$RATE" <<'PY'
import json, sys
s = json.loads(sys.argv[1]); start, end, rate = float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
routes = ["list", "get", "create", "export", "download", "whoami", "jobs", "events", "scenes"]
n = sum(s[r]["requests"] for r in routes)
wall = end - start
# The first window allows RATE requests at once; a client spreading them
# evenly sends them at RATE a minute from its first request.
want = n / rate * 60
print(f"requests: {n} ({s['list']['requests']} list, {s['get']['requests']} get, {s['export']['requests']} export, {s['download']['requests']} download)")
print(f"wall time: {wall:.1f} s; requests / rate: {want:.1f} s; ratio {wall / want:.3f}")
print(f"429 answers: {s['rate_limited']}")
PY
