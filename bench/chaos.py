"""The chaos test, long: three `pairflow serve` processes on one PostgreSQL store, 2,000 Request runs
of a five-action workflow and a Recurrence every second, one process killed -9 and restarted every
few seconds (tests/chaos/harness.py). Prints the counts; exits 1 when an acknowledged run did not
complete, an attempt was executed twice or an occurrence fired twice.

    PAIRFLOW_TEST_POSTGRES_URL=postgresql://… .venv/bin/python bench/chaos.py [--runs 2000] [--seconds 100]

The URL names a server where a throwaway database may be created (scripts/postgres.sh start gives one).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the harness lives in tests/chaos

from pairflow.store import open_store
from tests.chaos.harness import ChaosSettings, run_chaos
from tests.conftest import POSTGRES_URL_VARIABLE, PostgresTestDatabase


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=100.0, help="seconds of traffic and kills")
    parser.add_argument("--kill-every", type=float, default=4.0)
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--drain", type=float, default=90.0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    server = os.environ.get(POSTGRES_URL_VARIABLE, "").strip()
    if not server:
        print(f"bench/chaos.py: set ${POSTGRES_URL_VARIABLE} (scripts/postgres.sh start)", file=sys.stderr)
        return 2
    settings = ChaosSettings(
        processes=args.processes,
        runs=args.runs,
        duration=args.seconds,
        kill_every=args.kill_every,
        drain=args.drain,
        seed=args.seed,
    )
    database = PostgresTestDatabase(server)
    try:
        url = database.fresh_schema_url()
        open_store(url).close()
        with tempfile.TemporaryDirectory(prefix="pairflow-chaos-") as logs:
            report = run_chaos(settings, url, Path(logs))
    finally:
        database.close()
    for line in report.lines():
        print(line)
    ok = (
        report.completed == report.acknowledged
        and not report.unfinished
        and not report.failed
        and report.duplicate_attempts == 0
        and report.occurrences_fired_twice == 0
    )
    print("chaos: PASS" if ok else "chaos: FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
