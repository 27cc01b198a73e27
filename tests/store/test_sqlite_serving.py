"""What only the SQLite store promises for serving: processes racing to fire one occurrence fire it once,
and a file written by the first schema upgrades in place on open."""

from __future__ import annotations

import multiprocessing
import sqlite3
from datetime import UTC, datetime
from multiprocessing.synchronize import Barrier
from pathlib import Path

from pairflow.store.namedsql import load_migrations
from pairflow.store.records import RunRecord, TriggerEvent, TriggerFire
from pairflow.store.sqlite import SqliteStore
from pairflow.store.sqlite_migrate import split_statements

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
OCCURRENCES = 200


def occurrence_fire(process: str, occurrence: int) -> TriggerFire:
    """One process's attempt at one occurrence: run and event ids are its own, only the key is shared."""
    run_id = f"{process}-{occurrence}"
    run = RunRecord(
        id=run_id,
        workflow="w",
        version=1,
        status="Running",
        trigger={"name": "every_minute"},
        created_at=NOW,
    )
    event = TriggerEvent(
        id=run_id, workflow="w", trigger="every_minute", status="Succeeded", fired_at=NOW, run_ids=(run_id,)
    )
    return TriggerFire(
        event=event, runs=[run], occurrence_key=f"occ-{occurrence}", state={"last": occurrence, "by": process}
    )


def fire_every_occurrence(
    path: str, process: str, barrier: Barrier, results: multiprocessing.Queue[tuple[str, list[int]]]
) -> None:
    """The child: open the store, wait for the other child, then try every occurrence in order."""
    with SqliteStore(path) as store:
        barrier.wait(timeout=60)
        fired = [n for n in range(OCCURRENCES) if store.fire_trigger(occurrence_fire(process, n))]
    results.put((process, fired))


def test_two_processes_racing_for_the_same_occurrences_fire_each_exactly_once(tmp_path: Path) -> None:
    path = tmp_path / "race.db"
    SqliteStore(path).close()  # the schema exists before the race: the race is about firing
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    results: multiprocessing.Queue[tuple[str, list[int]]] = context.Queue()
    children = [
        context.Process(target=fire_every_occurrence, args=(str(path), name, barrier, results))
        for name in ("a", "b")
    ]
    for process in children:
        process.start()
    fired = dict(results.get(timeout=120) for _ in children)
    for process in children:
        process.join(timeout=60)
    assert [process.exitcode for process in children] == [0, 0]
    assert not set(fired["a"]) & set(fired["b"])
    assert sorted(fired["a"] + fired["b"]) == list(range(OCCURRENCES))
    with SqliteStore(path) as store:
        runs = {run.id for run in store.list_runs(limit=1000)}
        history = store.list_trigger_history("w", limit=1000)
    expected = {f"{name}-{n}" for name in ("a", "b") for n in fired[name]}
    assert runs == expected
    assert {event.id for event in history} == expected
    assert len(history) == OCCURRENCES


def write_first_schema_file(path: Path) -> None:
    """A file as pairflow wrote it before migration 0002 existed: schema 0001 and some records."""
    first = load_migrations("sqlite")[0]
    assert first.version == 1
    with sqlite3.connect(path) as raw:
        for statement in split_statements(first.sql):
            raw.execute(statement)
        raw.execute(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, title TEXT NOT NULL, "
            "applied_at TEXT NOT NULL)"
        )
        raw.execute("INSERT INTO schema_migrations VALUES (1, 'initial', '2026-01-01T00:00:00.000000Z')")
        raw.execute(
            "INSERT INTO workflows (name, version, definition, parameters, fingerprint, created_at, enabled) "
            "VALUES ('w', 1, '{}', '{}', 'f1', '2026-01-01T00:00:00.000000Z', 0)"
        )
        for run_id, trigger in [
            ("named", '{"name":"Button","outputs":{}}'),
            ("nameless", '{"outputs":{}}'),
            ("number", '{"name":7}'),
            ("not-an-object", "[]"),
        ]:
            raw.execute(
                "INSERT INTO runs (id, workflow, version, status, trigger, created_at, variables) "
                "VALUES (?, 'w', 1, 'Succeeded', ?, '2026-01-01T00:00:01.000000Z', '{}')",
                (run_id, trigger),
            )
    raw.close()


def test_a_file_of_the_first_schema_upgrades_on_open_with_trigger_names_filled_in(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    write_first_schema_file(path)
    with SqliteStore(path) as store:
        assert [run.id for run in store.list_runs_filtered(trigger="Button")] == ["named"]
        assert len(store.list_runs_filtered(workflow="w")) == 4
        workflow = store.get_workflow("w")
        assert workflow is not None and (workflow.version, workflow.enabled) == (1, False)
        assert store.put_workflow("w", {"a": 1}, {}, NOW).version == 2
        assert store.fire_trigger(occurrence_fire("new", 0)) is True
    with sqlite3.connect(path) as raw:
        versions = raw.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()
        names = dict(raw.execute("SELECT id, trigger_name FROM runs").fetchall())
    raw.close()
    assert versions == [(1,), (2,), (3,)]
    assert names == {
        "named": "Button",
        "nameless": None,
        "number": None,
        "not-an-object": None,
        "new-0": "every_minute",
    }
