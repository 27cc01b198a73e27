"""How many commits per second a store sustains: SQLite on a temporary file, or PostgreSQL (`--store`).

Single: one RunUpdate with one ActionRecord per commit (an engine without group commit), at NORMAL and
FULL durability. Batched: 50 updates for 50 runs per commit (group commit). Fire: `fire_trigger` with one
run and its history event, as a Request trigger fires it on every HTTP call (no occurrence key), and as a
Recurrence fires it (occurrence key claimed, trigger state replaced). Medians of 5 rounds.

    .venv/bin/python bench/bench_store.py [--rounds 5] [--store postgresql://USER:PASSWORD@HOST:PORT/DB]

With `--store`, every round runs on a fresh schema of that database (dropped afterwards), with a fifth
of the commits (each is a network round trip or more). `scripts/postgres.sh start` gives a server.
"""

from __future__ import annotations

import argparse
import contextlib
import secrets
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from pairflow.store.base import Store
from pairflow.store.records import ActionRecord, RunRecord, RunUpdate, TriggerEvent, TriggerFire
from pairflow.store.settings import Durability
from pairflow.store.sqlite import SqliteStore

NOW = datetime.now(UTC)


def update(run_id: str, step: int) -> RunUpdate:
    record = ActionRecord(
        run_id=run_id,
        name=f"Action_{step}",
        repetition="",
        status="Succeeded",
        attempts=1,
        inputs={"method": "POST", "uri": "http://127.0.0.1/orders", "body": {"order": step}},
        outputs={"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": {"ok": True}},
        start_time=NOW,
        end_time=NOW,
    )
    return RunUpdate(run_id=run_id, actions=[record])


@contextlib.contextmanager
def fresh_store(folder: Path, store_url: str | None, durability: Durability) -> Iterator[Store]:
    """A new, empty store: a SQLite file in `folder`, or a new schema of the PostgreSQL database."""
    if store_url is None:
        with SqliteStore(folder / f"bench-{time.monotonic_ns()}.db", durability) as store:
            yield store
        return
    import psycopg
    from psycopg import sql

    from pairflow.store.postgres import PostgresStore

    schema = f"pf_bench_{secrets.token_hex(4)}"
    with psycopg.connect(store_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        try:
            parts = urlsplit(store_url)
            option = "options=" + quote(f"-c search_path={schema}")
            query = f"{parts.query}&{option}" if parts.query else option
            with PostgresStore(urlunsplit(parts._replace(query=query)), durability) as store:
                yield store
        finally:
            admin.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


def one_round(folder: Path, store_url: str | None, durability: Durability, commits: int, batch: int) -> float:
    """Commits per second over `commits` commits of `batch` updates each, on a fresh store."""
    with fresh_store(folder, store_url, durability) as store:
        run_ids = [f"run-{n}" for n in range(batch)]
        for run_id in run_ids:
            store.create_run(
                RunRecord(
                    id=run_id, workflow="bench", version=1, status="Running", trigger={}, created_at=NOW
                )
            )
        batches = [[update(run_id, step) for run_id in run_ids] for step in range(commits)]
        started = time.perf_counter()
        for updates in batches:
            store.commit(updates)
        elapsed = time.perf_counter() - started
    return commits / elapsed


def request_fire(n: int, occurrence: bool) -> TriggerFire:
    """What one HTTP call to a Request trigger writes: its run and its history event."""
    run_id = f"08584{n:020d}"
    trigger = {
        "name": "manual",
        "inputs": {"schema": {"type": "object"}},
        "outputs": {
            "headers": {"Content-Type": "application/json", "Content-Length": "27", "Host": "127.0.0.1"},
            "body": {"order": n, "customer": "c-17"},
        },
        "startTime": NOW.isoformat(),
        "endTime": NOW.isoformat(),
        "status": "Succeeded",
    }
    run = RunRecord(id=run_id, workflow="bench", version=1, status="Running", trigger=trigger, created_at=NOW)
    event = TriggerEvent(
        id=run_id, workflow="bench", trigger="manual", status="Succeeded", fired_at=NOW, run_ids=(run_id,)
    )
    if not occurrence:
        return TriggerFire(event=event, runs=[run])
    return TriggerFire(event=event, runs=[run], occurrence_key=f"occ-{n}", state={"last": f"occ-{n}"})


def one_fire_round(
    folder: Path, store_url: str | None, durability: Durability, fires: int, occurrence: bool
) -> float:
    """Fires per second over `fires` firings of one run each, on a fresh store."""
    with fresh_store(folder, store_url, durability) as store:
        prepared = [request_fire(n, occurrence) for n in range(fires)]
        started = time.perf_counter()
        for fire in prepared:
            store.fire_trigger(fire)
        elapsed = time.perf_counter() - started
    return fires / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--store", default=None, metavar="URL", help="a postgresql:// URL (default: SQLite)")
    options = parser.parse_args()
    store_url: str | None = options.store
    if store_url is not None and not store_url.startswith(("postgresql://", "postgres://")):
        parser.error("--store takes a postgresql:// URL; SQLite is measured on a temporary file by default")
    scale = 1 if store_url is None else 5
    print(f"store: {'SQLite (temporary file)' if store_url is None else 'PostgreSQL'}")
    cases = [
        ("single update, NORMAL", Durability.NORMAL, 5000, 1),
        ("single update, FULL", Durability.FULL, 500, 1),
        ("50 updates/commit, NORMAL", Durability.NORMAL, 400, 50),
        ("50 updates/commit, FULL", Durability.FULL, 100, 50),
    ]
    with tempfile.TemporaryDirectory(prefix="pairflow-bench-") as folder:
        for label, durability, all_commits, batch in cases:
            commits = max(all_commits // scale, 20)
            rates = [
                one_round(Path(folder), store_url, durability, commits, batch) for _ in range(options.rounds)
            ]
            median = statistics.median(rates)
            print(
                f"{label:<28} {median:>10,.0f} commits/s  {median * batch:>10,.0f} updates/s"
                f"  (median of {options.rounds}, {commits} commits each)"
            )
        fire_cases = [
            ("fire, 1 run, NORMAL", Durability.NORMAL, 5000, False),
            ("fire + occurrence, NORMAL", Durability.NORMAL, 5000, True),
            ("fire, 1 run, FULL", Durability.FULL, 500, False),
        ]
        for label, durability, all_fires, occurrence in fire_cases:
            fires = max(all_fires // scale, 20)
            rates = [
                one_fire_round(Path(folder), store_url, durability, fires, occurrence)
                for _ in range(options.rounds)
            ]
            median = statistics.median(rates)
            print(
                f"{label:<28} {median:>10,.0f} fires/s    "
                f"{1e6 / median:>8,.0f} µs/fire     (median of {options.rounds}, {fires} fires each)"
            )


if __name__ == "__main__":
    main()
