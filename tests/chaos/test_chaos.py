"""The chaos test, short: three `pairflow serve` processes on one PostgreSQL store, 300 Request runs
of a five-action workflow and a Recurrence every second over 15 s, one process killed -9 and
restarted every 3 s. Every acknowledged run completes, no attempt is executed twice, no occurrence
fires twice. Sizes come from $PAIRFLOW_CHAOS_* (bench/chaos.py runs the long one)."""

from __future__ import annotations

import os
from pathlib import Path

from pairflow.store import open_store
from tests.chaos.harness import ChaosSettings, run_chaos
from tests.conftest import PostgresTestDatabase


def _settings() -> ChaosSettings:
    def number(name: str, default: float) -> float:
        return float(os.environ.get(f"PAIRFLOW_CHAOS_{name}", default))

    return ChaosSettings(
        runs=int(number("RUNS", 300)),
        duration=number("SECONDS", 15.0),
        kill_every=number("KILL_EVERY", 3.0),
    )


def test_killed_processes_lose_no_acknowledged_run_and_repeat_no_attempt(
    postgres_database: PostgresTestDatabase, tmp_path: Path
) -> None:
    url = postgres_database.fresh_schema_url()
    open_store(url).close()  # migrated once, before the processes race to open it
    report = run_chaos(_settings(), url, tmp_path)
    for line in report.lines():
        print(line)
    assert report.kills >= 3
    assert report.acknowledged >= report.sent // 2, "most calls must be acknowledged to mean much"
    assert report.unfinished == [] and report.failed == []
    assert report.completed == report.acknowledged
    assert report.duplicate_attempts == 0
    assert report.occurrences_fired_twice == 0
    assert report.occurrences >= 5
