#!/usr/bin/env bash
# Set up everything the tests need, then run the whole suite: lint, types, tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --dev
echo "== ruff"; .venv/bin/ruff check pairflow tests bench
echo "== mypy"; .venv/bin/mypy
echo "== pytest"; .venv/bin/python -m pytest "$@"
