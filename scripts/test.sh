#!/usr/bin/env bash
# Set up everything the tests need, then run the whole suite: lint, types, tests.
#
# The store tests run against SQLite and PostgreSQL. With $PAIRFLOW_TEST_POSTGRES_URL set, that server
# is used and nothing is provisioned; otherwise a throwaway server is started (scripts/postgres.sh) and
# stopped and removed at exit. In CI ($CI set) a PostgreSQL that cannot be had is a failure; elsewhere
# the PostgreSQL tests are skipped with a warning.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --dev

if [ -z "${PAIRFLOW_TEST_POSTGRES_URL:-}" ]; then
  pgdir=$(mktemp -d /tmp/pairflow-postgres.XXXXXX)
  cleanup() { scripts/postgres.sh stop "$pgdir" || true; }
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  echo "== postgres"
  if url=$(scripts/postgres.sh start "$pgdir"); then
    export PAIRFLOW_TEST_POSTGRES_URL=$url
  elif [ -n "${CI:-}" ]; then
    echo "test.sh: cannot provision PostgreSQL, which CI requires" >&2
    exit 1
  else
    echo "test.sh: warning: no PostgreSQL; its tests will be skipped" >&2
  fi
fi

echo "== ruff"; .venv/bin/ruff check pairflow tests bench
echo "== mypy"; .venv/bin/mypy
echo "== pytest"; .venv/bin/python -m pytest "$@"
