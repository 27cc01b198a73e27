#!/usr/bin/env bash
# Set up pairflow in ./.venv (idempotent). Usage: scripts/setup.sh [--dev]
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
  echo "pairflow needs Python 3.11 or newer ($python is $("$python" --version 2>&1))" >&2
  exit 1
fi
extras=""
[ "${1:-}" = "--dev" ] && extras="[dev]"
stamp=".venv/.pairflow-installed${extras:+-dev}"
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
install() {
  if ! "$@" >>"$log" 2>&1; then
    cat "$log" >&2
    echo "setup failed: $*" >&2
    exit 1
  fi
}
echo "setting up pairflow in .venv ..." >&2
[ -x .venv/bin/python ] || install "$python" -m venv .venv
install .venv/bin/python -m pip install --disable-pip-version-check --upgrade pip
install .venv/bin/python -m pip install --disable-pip-version-check -e ".${extras}"
echo "$want" > "$stamp"
