#!/usr/bin/env bash
# gizmo agent's figures (README "Benchmarks"): remote change → placed,
# deletion → restored (p95 over 50), idle CPU and RSS with 5 projects of
# 1,000 placed assets. Real processes: gizmo emulator and gizmo agent run,
# on loopback and local files. Linux (/proc). Takes a few minutes.
#
#   GIZMO=bin/gizmo bash sync/agent/bench_agent.sh [agentbench flags]
#   e.g. --skip-idle, --projects 5 --assets 1000 --idle 60s
set -euo pipefail
cd "$(dirname "$0")/../.."
GIZMO=${GIZMO:-bin/gizmo}
[ -x "$GIZMO" ] || { echo "build gizmo first (make build), or set GIZMO" >&2; exit 1; }
go run ./sync/agent/agentbench -gizmo "$GIZMO" "$@"
