#!/usr/bin/env bash
# Set up pairflow and run the example workflow end to end on the embedded SQLite store.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PAIRFLOW_STORE=${PAIRFLOW_STORE:-sqlite:///.tmp/demo.db}
mkdir -p .tmp
.venv/bin/pairflow validate examples/order-approval.json
.venv/bin/pairflow run examples/order-approval.json --trigger-body @examples/order.json
