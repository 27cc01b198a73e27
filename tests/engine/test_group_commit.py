"""Group commit at full durability: concurrent runs share transactions, and still nothing starts
before what it depends on is durable.

Observed through SQLite itself, with no stand-in for any part: transactions are counted as commit
frames in the store's write-ahead log (one per transaction, each synced at `synchronous=FULL`), and
what is committed is read by a second connection. At FULL a commit becomes visible to other
connections only after its frames are synced (SQLite syncs the log, then publishes the commit in
the WAL index), so "visible to another connection" means "durable" here.
"""

from __future__ import annotations

import asyncio
import sqlite3
import struct
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from pairflow.engine.runner import Engine
from pairflow.store.records import RunUpdate
from pairflow.store.settings import Durability
from pairflow.store.sqlite import SqliteStore
from tests.engine.conftest import compose, deploy

RUNS = 10
_WAL_HEADER = 32
_FRAME_HEADER = 24


@dataclass(frozen=True)
class WalCommits:
    checkpoints: int  # the log's checkpoint sequence: it changes when the log restarts
    commits: int


def wal_commits(database: Path) -> WalCommits:
    """Transactions in the current generation of the database's write-ahead log: frames whose salt
    matches the header's, counting those that end a commit (their 'database size' field is set)."""
    data = Path(f"{database}-wal").read_bytes()
    _, _, page_size, checkpoints, salt1, salt2 = struct.unpack(">6I", data[:24])
    commits = 0
    offset = _WAL_HEADER
    while offset + _FRAME_HEADER + page_size <= len(data):
        _, size_after_commit, frame_salt1, frame_salt2 = struct.unpack(">4I", data[offset : offset + 16])
        if (frame_salt1, frame_salt2) != (salt1, salt2):
            break
        commits += size_after_commit != 0
        offset += _FRAME_HEADER + page_size
    return WalCommits(checkpoints, commits)


def chain(length: int) -> dict[str, Any]:
    actions: dict[str, Any] = {}
    previous: str | None = None
    for index in range(length):
        name = f"Step{index}"
        actions[name] = compose(index, {previous: ["Succeeded"]} if previous else None)
        previous = name
    return actions


def transactions_for_concurrent_runs(folder: Path, *, group_commit: bool) -> int:
    """Transactions written while RUNS runs of a three-action chain execute concurrently."""
    path = folder / "store.db"
    with SqliteStore(path, Durability.FULL) as store:
        name = deploy(store, chain(3))
        before = wal_commits(path)

        async def go() -> None:
            engine = Engine(store, group_commit=group_commit)
            try:
                ended = await asyncio.gather(*(engine.run(name) for _ in range(RUNS)))
            finally:
                await engine.aclose()
            assert {run.status for run in ended} == {"Succeeded"}

        asyncio.run(go())
        after = wal_commits(path)
    assert after.checkpoints == before.checkpoints, "the log restarted: the workload is too big to count"
    return after.commits - before.commits


def test_concurrent_runs_share_transactions_with_group_commit(tmp_path: Path) -> None:
    (tmp_path / "grouped").mkdir()
    (tmp_path / "single").mkdir()
    grouped = transactions_for_concurrent_runs(tmp_path / "grouped", group_commit=True)
    single = transactions_for_concurrent_runs(tmp_path / "single", group_commit=False)
    # Each run is created in a transaction of its own (Engine.run); the rest are its updates.
    grouped_updates, single_updates = grouped - RUNS, single - RUNS
    assert single_updates >= RUNS  # without grouping every run commits its steps alone
    assert grouped_updates * (RUNS // 2) <= single_updates  # with it, the runs' steps share them


def test_a_chain_of_instant_actions_commits_once_with_the_run_end(tmp_path: Path) -> None:
    # Compose → Compose → Compose: pure steps, nothing outside sees them before the run ends, so
    # one commit holds all three and the end (a crash before it re-runs them, unseen).
    assert transactions_for_concurrent_runs(tmp_path, group_commit=False) == RUNS + RUNS


@dataclass
class Observer:
    """Answers the workflow's Http actions; when a run's second call arrives, checks from its own
    connection that the run's first action is recorded Succeeded."""

    database: Path
    violations: list[str] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def status(self, run_id: str, action: str) -> str | None:
        with sqlite3.connect(f"file:{self.database}?mode=ro", uri=True) as connection:
            row = connection.execute(
                "SELECT status FROM actions WHERE run_id = ? AND name = ? AND repetition = ''",
                (run_id, action),
            ).fetchone()
        return None if row is None else str(row[0])

    def called(self, step: str, run_id: str) -> None:
        with self.lock:
            self.seen.append(f"{step}:{run_id}")
        if step == "second":
            found = self.status(run_id, "First")
            if found != "Succeeded":
                with self.lock:
                    self.violations.append(f"run {run_id}: Second started while First was {found!r}")


@pytest.fixture
def observer(tmp_path: Path) -> Iterator[tuple[Observer, str]]:
    watcher = Observer(tmp_path / "store.db")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            query = parse_qs(urlsplit(self.path).query)
            watcher.called(urlsplit(self.path).path.strip("/"), query["run"][0])
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        request_queue_size = 4 * RUNS  # every run's call is accepted at once: no refused connection

    server = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield watcher, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def call(base: str, step: str, after: dict[str, list[str]] | None = None) -> dict[str, Any]:
    return {
        "type": "Http",
        "inputs": {"method": "GET", "uri": f"{base}/{step}?run=@{{workflow()['run']['name']}}"},
        "runAfter": after or {},
    }


@pytest.mark.parametrize("group_commit", [True, False], ids=["grouped", "single"])
def test_successor_starts_and_caller_is_answered_only_after_records_are_durable(
    observer: tuple[Observer, str], group_commit: bool
) -> None:
    watcher, base = observer
    with SqliteStore(watcher.database, Durability.FULL) as store:
        name = deploy(
            store,
            {
                "First": call(base, "first"),
                "Second": call(base, "second", {"First": ["Succeeded"]}),
                "Last": compose("done", {"Second": ["Succeeded"]}),
            },
        )
        answered_before_durable: list[str] = []

        async def one(engine: Engine) -> None:
            run = await engine.run(name)
            assert run.status == "Succeeded", run.error
            with sqlite3.connect(f"file:{watcher.database}?mode=ro", uri=True) as reader:
                row = reader.execute("SELECT status FROM runs WHERE id = ?", (run.id,)).fetchone()
            if row is None or row[0] != "Succeeded":
                answered_before_durable.append(run.id)

        async def go() -> None:
            engine = Engine(store, group_commit=group_commit)
            try:
                await asyncio.gather(*(one(engine) for _ in range(RUNS)))
            finally:
                await engine.aclose()

        asyncio.run(go())
    assert len(watcher.seen) == 2 * RUNS  # the check really ran for every run
    assert watcher.violations == []
    assert answered_before_durable == []


class SlowDisk(SqliteStore):
    """A real store on a disk whose every commit takes `delay` seconds more."""

    delay = 0.0

    def commit(self, updates: Sequence[RunUpdate]) -> None:
        time.sleep(self.delay)
        super().commit(updates)


def test_slow_commits_go_to_a_worker_thread_and_fast_ones_come_back_to_the_loop(tmp_path: Path) -> None:
    store = SlowDisk(tmp_path / "store.db", Durability.FULL)
    with store:
        name = deploy(store, {"Only": compose(1)})

        async def go() -> None:
            engine = Engine(store)
            ticks = 0

            async def ticker() -> None:
                nonlocal ticks
                while True:
                    await asyncio.sleep(0.001)
                    ticks += 1

            beat = asyncio.get_running_loop().create_task(ticker())
            try:
                assert not engine.offloading_writes  # nothing timed yet: the loop writes
                store.delay = 0.02
                for _ in range(5):
                    await engine.run(name)
                assert engine.offloading_writes
                ticks = 0
                await engine.run(name)  # its commit waits 20 ms on the worker: the loop goes on
                assert ticks >= 5
                store.delay = 0.0
                for _ in range(2000):
                    await engine.run(name)
                    if not engine.offloading_writes:
                        break
                assert not engine.offloading_writes  # re-timed on the loop now and then, found fast
            finally:
                beat.cancel()
                await engine.aclose()

        asyncio.run(go())
