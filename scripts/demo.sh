#!/usr/bin/env bash
# The continuity demo: two pairflow locations (west, primary; east, secondary with a watchdog) on
# SQLite, the example drill template deployed to both, pairflow's own front door in front, steady
# Request traffic and a Recurrence every second; then west is killed (kill -9) and the failover is
# shown as it happens, ending with the drill's report (also in .tmp/drill-report.json).
# Usage: scripts/demo.sh [--fault kill|stop|isolate] [other `pairflow drill` options]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
mkdir -p .tmp
status=0
.venv/bin/pairflow drill --live --report .tmp/drill-report.json "$@" || status=$?
# 0: every target met; 1: the drill ran and a target was missed (the report says which)
[ "$status" -le 1 ] || exit "$status"
