"""What only the PostgreSQL store promises: migrations mirrored from SQLite and applied once however many
processes start at once, clear errors when the server cannot be used, the durability mapping, and
exactly-once firing under real concurrency."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from pairflow.errors import StoreError, StoreUnavailableError
from pairflow.store import open_store
from pairflow.store.namedsql import load_migrations, load_queries
from pairflow.store.postgres import PostgresStore
from pairflow.store.records import RunRecord, TriggerEvent, TriggerFire
from pairflow.store.settings import Durability
from tests.conftest import PostgresTestDatabase

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

# A child process opening the store at argv[1] once a line arrives on stdin (so that children overlap).
OPENER = """
import sys
from pairflow.store.postgres import PostgresStore
sys.stdin.readline()
PostgresStore(sys.argv[1]).close()
print("opened", flush=True)
"""


@pytest.fixture
def database(postgres_database: PostgresTestDatabase) -> PostgresTestDatabase:
    return postgres_database


def applied(url: str) -> list[tuple[int, str]]:
    with psycopg.connect(url, autocommit=True) as connection:
        rows = connection.execute("SELECT version, title FROM schema_migrations ORDER BY version").fetchall()
    return [(int(version), str(title)) for version, title in rows]


def test_every_sqlite_migration_has_its_postgresql_mirror() -> None:
    sqlite = [(m.version, m.title) for m in load_migrations("sqlite")]
    assert [(m.version, m.title) for m in load_migrations("postgres")] == sqlite


def test_every_sqlite_query_has_its_postgresql_counterpart() -> None:
    postgres = load_queries("postgres")
    assert set(load_queries("sqlite")) <= set(postgres)
    assert all(":" + "name" not in sql and not sql.endswith(";") for sql in postgres.values())


def test_opening_a_fresh_schema_applies_every_migration_once(database: PostgresTestDatabase) -> None:
    url = database.fresh_schema_url()
    PostgresStore(url).close()
    PostgresStore(url).close()  # the second open finds nothing to do
    assert applied(url) == [(m.version, m.title) for m in load_migrations("postgres")]


def test_processes_starting_at_once_on_a_fresh_schema_migrate_it_once(database: PostgresTestDatabase) -> None:
    url = database.fresh_schema_url()
    children = [
        subprocess.Popen(
            [sys.executable, "-c", OPENER, url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    for child in children:
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    results = [child.communicate(timeout=60) for child in children]
    assert [(child.returncode, out) for child, (out, _) in zip(children, results, strict=True)] == [
        (0, "opened\n")
    ] * 4, [err for _, err in results]
    assert applied(url) == [(m.version, m.title) for m in load_migrations("postgres")]


def test_a_schema_newer_than_this_pairflow_is_refused_clearly(database: PostgresTestDatabase) -> None:
    url = database.fresh_schema_url()
    PostgresStore(url).close()
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("INSERT INTO schema_migrations (version, title) VALUES (99, 'future')")
    with pytest.raises(StoreError, match=r"schema is version 99, newer than this pairflow knows"):
        PostgresStore(url)


def with_netloc(url: str, password: str | None = None, database: str | None = None) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc
    if password is not None:
        user = parts.username or "postgres"
        netloc = f"{user}:{password}@{parts.hostname}:{parts.port}"
    path = f"/{database}" if database is not None else parts.path
    return urlunsplit(parts._replace(netloc=netloc, path=path))


def test_a_wrong_password_is_unavailable_naming_the_place_and_cause(database: PostgresTestDatabase) -> None:
    url = with_netloc(database.url, password="not-the-password")
    parts = urlsplit(url)
    with pytest.raises(StoreUnavailableError) as caught:
        open_store(url)
    assert caught.value.message.startswith(
        f"cannot connect to the PostgreSQL store at {parts.hostname}:{parts.port}/{database.name}: "
    )
    assert "password authentication failed" in caught.value.message
    assert "not-the-password" not in caught.value.message


def test_an_unknown_database_is_unavailable_naming_it(database: PostgresTestDatabase) -> None:
    with pytest.raises(
        StoreUnavailableError, match=r'/pf_no_such_db: database "pf_no_such_db" does not exist'
    ):
        open_store(with_netloc(database.url, database="pf_no_such_db"))


@pytest.mark.parametrize(
    ("query", "durability", "setting"),
    [
        ("", None, "on"),
        ("&durability=normal", None, "local"),
        ("&durability=full", None, "on"),
        ("", Durability.FULL, "on"),
    ],
)
def test_durability_chooses_synchronous_commit_and_is_never_off(
    database: PostgresTestDatabase, query: str, durability: Durability | None, setting: str
) -> None:
    store = open_store(database.empty_store_url() + query, durability)
    try:
        assert isinstance(store, PostgresStore)
        assert store._pool is not None
        with store._pool.connection() as connection:
            row = connection.execute("SHOW synchronous_commit").fetchone()
    finally:
        store.close()
    assert row == (setting,)


def fire(process: str, occurrence: int) -> TriggerFire:
    run_id = f"{process}-{occurrence}"
    run = RunRecord(
        id=run_id, workflow="w", version=1, status="Running", trigger={"name": "tick"}, created_at=NOW
    )
    event = TriggerEvent(
        id=run_id, workflow="w", trigger="tick", status="Succeeded", fired_at=NOW, run_ids=(run_id,)
    )
    return TriggerFire(event=event, runs=[run], occurrence_key=f"occ-{occurrence}", state={"by": process})


def test_clients_racing_for_the_same_occurrences_fire_each_exactly_once(
    database: PostgresTestDatabase,
) -> None:
    url = database.empty_store_url()
    occurrences = 100
    fired: dict[str, list[int]] = {}
    barrier = threading.Barrier(2)

    def race(process: str) -> None:
        with PostgresStore(url) as store:
            barrier.wait(timeout=30)
            fired[process] = [n for n in range(occurrences) if store.fire_trigger(fire(process, n))]

    threads = [threading.Thread(target=race, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(fired["a"] + fired["b"]) == list(range(occurrences))
    with PostgresStore(url) as store:
        assert len(store.list_runs("w", limit=1000)) == occurrences
        assert len(store.list_trigger_history("w", limit=1000)) == occurrences


def test_takers_of_unowned_runs_skip_the_rows_another_is_taking(database: PostgresTestDatabase) -> None:
    url = database.empty_store_url()
    with PostgresStore(url) as store:
        for n in range(3):
            store.create_run(
                RunRecord(
                    id=f"r{n}",
                    workflow="w",
                    version=1,
                    status="Running",
                    trigger={},
                    created_at=NOW + timedelta(seconds=n),
                )
            )
    claim = load_queries("postgres")["claim_unowned_runs"].encode()

    def params(owner: str, limit: int) -> dict[str, object]:
        lease = NOW + timedelta(minutes=1)
        return {"owner": owner, "now": NOW, "lease_until": lease, "dead_owners": [], "limit": limit}

    with psycopg.connect(url) as first, psycopg.connect(url) as second:
        taken_first = [row[0] for row in first.execute(claim, params("a", 2)).fetchall()]
        # the first transaction is still open: its rows are locked, and skipped rather than waited for
        taken_second = [row[0] for row in second.execute(claim, params("b", 2)).fetchall()]
        first.commit()
        second.commit()
    assert (taken_first, taken_second) == (["r0", "r1"], ["r2"])
