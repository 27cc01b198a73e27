"""What only the SQLite store promises: a file shared by processes, crash safety, opening failures."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pairflow.errors import StoreError, StoreUnavailableError
from pairflow.store.records import ActionRecord, RunRecord, RunUpdate
from pairflow.store.settings import Durability
from pairflow.store.sqlite import SqliteStore

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

# A child process committing one action per update to run argv[2] and printing each name once committed;
# a negative count commits until killed. It starts when a line arrives on stdin, so that children overlap.
COMMITTER = """
import itertools, sys
from pairflow.store.sqlite import SqliteStore
from pairflow.store.records import ActionRecord, RunUpdate
path, run_id, prefix, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
store = SqliteStore(path)
sys.stdin.readline()
for i in itertools.count() if count < 0 else range(count):
    name = f"{prefix}{i}"
    record = ActionRecord(run_id=run_id, name=name, repetition="", status="Succeeded", outputs={"i": i})
    store.commit([RunUpdate(run_id=run_id, actions=[record], variables={"last": {"value": name}})])
    print(name, flush=True)
store.close()
"""

# A child process opening a (fresh) file and creating one run.
OPENER = """
import sys
from datetime import UTC, datetime
from pairflow.store.sqlite import SqliteStore
from pairflow.store.records import RunRecord
store = SqliteStore(sys.argv[1])
store.create_run(RunRecord(id=sys.argv[2], workflow="w", version=1, status="Running", trigger={},
                           created_at=datetime.now(UTC)))
store.close()
"""


def child(script: str, *args: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script, *map(str, args)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def start(process: subprocess.Popen[str]) -> None:
    assert process.stdin is not None
    process.stdin.write("go\n")
    process.stdin.flush()


def make_run(run_id: str) -> RunRecord:
    return RunRecord(id=run_id, workflow="w", version=1, status="Running", trigger={}, created_at=NOW)


def one_action(run_id: str, name: str) -> RunUpdate:
    return RunUpdate(
        run_id=run_id, actions=[ActionRecord(run_id=run_id, name=name, repetition="", status="Succeeded")]
    )


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "runs.db"


# -- files and processes ---------------------------------------------------------------------------------


def test_a_file_written_earlier_reopens_with_its_records(path: Path) -> None:
    with SqliteStore(path) as first:
        first.put_workflow("w", {"a": 1}, {}, NOW)
        first.create_run(make_run("r"))
        first.commit([one_action("r", "A")])
    with SqliteStore(path) as again:
        workflow = again.get_workflow("w")
        assert workflow is not None and workflow.version == 1
        assert [record.name for record in again.load_actions("r")] == ["A"]
        again.commit([one_action("r", "B")])
        assert [record.name for record in again.load_actions("r")] == ["A", "B"]


@pytest.mark.parametrize(("durability", "level"), [(Durability.NORMAL, 1), (Durability.FULL, 2)])
def test_the_file_is_in_wal_mode_with_the_chosen_synchronous_level(
    path: Path, durability: Durability, level: int
) -> None:
    with SqliteStore(path, durability) as store:
        connection = store._connection
        assert connection is not None
        assert connection.execute("PRAGMA synchronous").fetchone()[0] == level
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert connection.execute("PRAGMA busy_timeout").fetchone()[0] > 0


def test_two_processes_committing_to_one_file_at_once_lose_nothing(path: Path) -> None:
    with SqliteStore(path) as store:
        store.create_run(make_run("shared"))
    children = [child(COMMITTER, path, "shared", prefix, 1000) for prefix in ("a", "b")]
    for process in children:
        start(process)
    outputs = [process.communicate(timeout=120) for process in children]
    assert [process.returncode for process in children] == [0, 0], outputs
    with SqliteStore(path) as store:
        names = [record.name for record in store.load_actions("shared")]
    assert sorted(names) == sorted(f"{prefix}{i}" for prefix in "ab" for i in range(1000))
    for prefix in "ab":  # each process's own commits keep their order
        assert [name for name in names if name[0] == prefix] == [f"{prefix}{i}" for i in range(1000)]


def test_a_process_killed_mid_series_leaves_every_commit_it_reported(path: Path) -> None:
    with SqliteStore(path) as store:
        store.create_run(make_run("r"))
    with child(COMMITTER, path, "r", "n", -1) as process:
        assert process.stdout is not None
        start(process)
        reported: list[str] = []
        while len(reported) < 300:
            line = process.stdout.readline()
            assert line, "the child exited before being killed"
            reported.append(line.strip())
        process.send_signal(signal.SIGKILL)
        rest = process.stdout.read()  # through the buffer readline filled, not around it
        process.wait(timeout=30)
    lines = rest.split("\n")
    lines.pop()  # "" after the last newline, or a line torn by the kill: not reported
    reported += lines
    assert process.returncode == -signal.SIGKILL
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with SqliteStore(path) as store:
        stored = [record.name for record in store.load_actions("r")]
    assert stored[: len(reported)] == reported
    assert len(stored) - len(reported) <= 1  # at most the commit that was not yet reported


def test_two_processes_opening_a_fresh_file_at_once_apply_the_schema_once(tmp_path: Path) -> None:
    for attempt in range(3):
        path = tmp_path / f"fresh{attempt}.db"
        children = [child(OPENER, path, f"run-{n}") for n in range(2)]
        outputs = [process.communicate(timeout=60) for process in children]
        assert [process.returncode for process in children] == [0, 0], outputs
        with SqliteStore(path) as store:
            assert {run.id for run in store.list_runs()} == {"run-0", "run-1"}
        with sqlite3.connect(path) as raw:
            assert raw.execute("SELECT version FROM schema_migrations").fetchall() == [(1,), (2,), (3,)]


def test_threads_sharing_one_store_lose_nothing(path: Path) -> None:
    with SqliteStore(path) as store:
        store.create_run(make_run("r"))

        def commit_many(prefix: str) -> None:
            for i in range(100):
                store.commit([one_action("r", f"{prefix}{i}")])

        threads = [threading.Thread(target=commit_many, args=(prefix,)) for prefix in "abc"]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(store.load_actions("r")) == 300


def test_a_busy_file_raises_store_error_after_the_timeout(path: Path) -> None:
    with SqliteStore(path, busy_timeout=0.05) as store:
        store.create_run(make_run("r"))
        blocker = sqlite3.connect(path, isolation_level=None)
        try:
            blocker.execute("BEGIN IMMEDIATE")
            with pytest.raises(StoreError, match="locked"):
                store.commit([one_action("r", "A")])
        finally:
            blocker.close()
        store.commit([one_action("r", "A")])
        assert len(store.load_actions("r")) == 1


# -- opening ---------------------------------------------------------------------------------------------


def test_a_file_that_is_not_sqlite_is_unavailable_naming_the_path(path: Path) -> None:
    path.write_text("this is a text file, not a database\n" * 100)
    with pytest.raises(StoreUnavailableError, match=r"runs\.db: file is not a database"):
        SqliteStore(path)


def test_a_missing_directory_is_unavailable_naming_the_path(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailableError, match=r"missing/runs\.db: unable to open"):
        SqliteStore(tmp_path / "missing" / "runs.db")


def test_a_directory_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailableError, match="unable to open"):
        SqliteStore(tmp_path)


def test_a_file_from_a_newer_schema_is_refused_with_a_clear_error(path: Path) -> None:
    SqliteStore(path).close()
    with sqlite3.connect(path) as raw:
        raw.execute("INSERT INTO schema_migrations VALUES (99, 'future', '2030-01-01T00:00:00.000000Z')")
    raw.close()
    with pytest.raises(StoreError, match="schema is version 99, newer than this pairflow knows"):
        SqliteStore(path)


def test_the_schema_is_recorded_once_however_often_the_file_is_opened(path: Path) -> None:
    for _ in range(3):
        SqliteStore(path).close()
    with sqlite3.connect(path) as raw:
        recorded = raw.execute("SELECT version, title FROM schema_migrations").fetchall()
        assert recorded == [(1, "initial"), (2, "serving"), (3, "continuity")]
    raw.close()


def test_a_closed_store_raises_store_error_and_closing_twice_is_harmless(path: Path) -> None:
    store = SqliteStore(path)
    store.close()
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.get_run("r")
    with pytest.raises(StoreError, match="closed"):
        store.commit([one_action("r", "A")])


# -- checkpoints while serving ---------------------------------------------------------------------------


def log_pages(path: Path) -> int:
    """Frames in the write-ahead log file (its size: the log is not truncated when it restarts)."""
    return (Path(f"{path}-wal").stat().st_size - 32) // (4096 + 24)


def test_a_serving_store_copies_the_log_into_the_database_in_the_background(path: Path) -> None:
    with SqliteStore(path, Durability.FULL) as store:
        store.create_run(make_run("r"))
        store.begin_serving()
        database_before = path.stat().st_size
        n = 0
        while log_pages(path) < 400:  # past the background limit, well short of the writer's 1000
            store.commit([one_action("r", f"step-{n}-" + "x" * 2000)])
            n += 1
        deadline = time.monotonic() + 5
        # Only a checkpoint makes the database file grow; no commit reached the writer's own limit.
        while path.stat().st_size == database_before and time.monotonic() < deadline:
            time.sleep(0.05)
        assert path.stat().st_size > database_before
        assert len(store.load_actions("r")) == n


def test_a_store_that_is_not_serving_leaves_checkpoints_to_its_commits(path: Path) -> None:
    with SqliteStore(path, Durability.FULL) as store:
        store.create_run(make_run("r"))
        database_before = path.stat().st_size
        n = 0
        while log_pages(path) < 400:
            store.commit([one_action("r", f"step-{n}-" + "x" * 2000)])
            n += 1
        time.sleep(0.5)
        assert path.stat().st_size == database_before


def test_closing_a_serving_store_stops_its_checkpoint_thread(path: Path) -> None:
    before = {thread.name for thread in threading.enumerate()}
    store = SqliteStore(path)
    store.begin_serving()
    store.begin_serving()  # once is enough: a second call starts nothing more
    started = {thread.name for thread in threading.enumerate()} - before
    assert started == {f"checkpoints of {path.name}"}
    store.close()
    assert {thread.name for thread in threading.enumerate()} - before == set()
