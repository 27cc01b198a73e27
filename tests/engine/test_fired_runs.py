"""Request runs executed before their fire is written (`Engine.execute_fired`,
`Dispatcher.start_fired`): the run's first commit writes the fire, so a run of instant actions is
one transaction, and nobody hears of a run before it is durable.

Transactions are counted in SQLite's write-ahead log and durability is read from a second
connection, as in test_group_commit.py; the behaviour that every backend shares runs on both.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from pairflow.engine.clock import VirtualClock
from pairflow.engine.dispatcher import Dispatcher
from pairflow.engine.runner import MAX_UNCOMMITTED_ROUNDS, Engine, RunFencedError, ordered_id
from pairflow.errors import DuplicateRunError
from pairflow.store.base import Store
from pairflow.store.records import RunRecord, TriggerEvent, TriggerFire
from pairflow.store.settings import Durability
from pairflow.store.sqlite import SqliteStore
from tests.engine.conftest import compose, deploy, wait
from tests.engine.test_dispatcher import limited, response
from tests.engine.test_group_commit import chain, wal_commits

ECHO = {
    "Compose": compose({"echo": "@triggerBody()"}),
    "Response": response(200, {"Compose": ["Succeeded"]}),
}


def fire_of(engine: Engine, workflow: str = "wf", body: Any = None) -> TriggerFire:
    run = engine.prepare_run(workflow, trigger_outputs={"body": body}, lease=True)
    event = TriggerEvent(
        id=ordered_id(),
        workflow=workflow,
        trigger="manual",
        status="Succeeded",
        fired_at=run.created_at,
        run_ids=(run.id,),
    )
    return TriggerFire(event=event, runs=[run])


def stored_status(database: Path, run_id: str) -> str | None:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as reader:
        row = reader.execute("SELECT status FROM runs WHERE id = ?", (run_id,)).fetchone()
    return None if row is None else str(row[0])


def test_a_compose_response_run_is_one_transaction_with_its_fire(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    with SqliteStore(path, Durability.FULL) as store:
        deploy(store, ECHO)
        before = wal_commits(path)

        async def go() -> RunRecord:
            engine = Engine(store)
            fire = fire_of(engine, body={"n": 1})
            durable: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            try:
                ended = await engine.execute_fired(fire, durable)
            finally:
                await engine.aclose()
            assert durable.done() and durable.exception() is None
            return ended

        ended = asyncio.run(go())
        assert wal_commits(path).commits - before.commits == 1
        stored = store.get_run(ended.id)
        assert stored is not None and stored.status == "Succeeded"
        assert stored.response is not None and stored.response["body"] == {"ok": True}
        assert (stored.owner, stored.lease_until) == (None, None)
        assert [(a.name, a.status) for a in store.load_actions(ended.id)] == [
            ("Compose", "Succeeded"),
            ("Response", "Succeeded"),
        ]
        assert store.load_actions(ended.id)[0].outputs == {"echo": {"n": 1}}
        assert [event.run_ids for event in store.list_trigger_history("wf")] == [(ended.id,)]


def test_the_caller_hears_of_the_run_only_once_it_is_durable(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    with SqliteStore(path, Durability.FULL) as store:
        deploy(store, ECHO)
        seen_when_told: list[str | None] = []

        async def go() -> None:
            engine = Engine(store)
            dispatcher = Dispatcher(engine)
            try:
                fired = [dispatcher.start_fired(fire_of(engine), want_reply=True) for _ in range(8)]
                for each in fired:
                    assert each is not None
                    await each.durable
                    seen_when_told.append(stored_status(path, each.fire.runs[0].id))
                    reply = await dispatcher.fired_reply(each, 10)
                    assert reply is not None and reply.response is not None
                    assert reply.response["statusCode"] == 200
            finally:
                await dispatcher.stop(5)
                await engine.aclose()

        asyncio.run(go())
        # Compose → Response is one commit: the run is already Succeeded when the caller is told.
        assert seen_when_told == ["Succeeded"] * 8


@pytest.fixture
def watching_server(tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    """An HTTP endpoint that, when called, reads the store (from its own connection) for the run
    named in the query: what it found, per call."""
    database = tmp_path / "store.db"
    found: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            run_id = self.path.split("run=", 1)[1]
            with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as reader:
                row = reader.execute("SELECT status FROM runs WHERE id = ?", (run_id,)).fetchone()
                step = reader.execute(
                    "SELECT status FROM actions WHERE run_id = ? AND name = 'Before'", (run_id,)
                ).fetchone()
            found.append(f"run {row[0] if row else None}, Before {step[0] if step else None}")
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", found
    server.shutdown()
    server.server_close()
    thread.join()


def test_an_action_with_effects_starts_only_once_the_fire_and_the_steps_before_it_are_durable(
    tmp_path: Path, watching_server: tuple[str, list[str]]
) -> None:
    base, found = watching_server
    with SqliteStore(tmp_path / "store.db", Durability.FULL) as store:
        deploy(
            store,
            {
                "Before": compose("pure"),
                "Call": {
                    "type": "Http",
                    "inputs": {"method": "GET", "uri": f"{base}/?run=@{{workflow()['run']['name']}}"},
                    "runAfter": {"Before": ["Succeeded"]},
                },
            },
        )

        async def go() -> RunRecord:
            engine = Engine(store)
            durable: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            try:
                return await engine.execute_fired(fire_of(engine), durable)
            finally:
                await engine.aclose()

        ended = asyncio.run(go())
    assert ended.status == "Succeeded", ended.error
    assert found == ["run Running, Before Succeeded"]


def test_a_long_chain_of_instant_actions_still_commits_in_bounded_steps(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    length = 2 * MAX_UNCOMMITTED_ROUNDS + 6
    with SqliteStore(path, Durability.FULL) as store:
        name = deploy(store, chain(length))
        before = wal_commits(path)

        async def go() -> RunRecord:
            engine = Engine(store, group_commit=False)
            try:
                return await engine.run(name)
            finally:
                await engine.aclose()

        ended = asyncio.run(go())
        assert ended.status == "Succeeded"
        assert len(store.load_actions(ended.id)) == length
        # the run's creation, then one commit per MAX_UNCOMMITTED_ROUNDS steps, then the rest and the end
        assert wal_commits(path).commits - before.commits == 1 + 2 + 1


class RefusingFence:
    """A location that stepped down after the call was admitted."""

    epoch = 1

    def allows(self, run: RunRecord) -> bool:
        return False


def test_a_run_stopped_before_its_first_commit_is_still_written_as_fired(store: Store) -> None:
    deploy(store, ECHO)

    async def go() -> tuple[TriggerFire, asyncio.Future[None]]:
        engine = Engine(store, clock=VirtualClock())
        engine.fence = RefusingFence()
        fire = fire_of(engine)
        durable: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        try:
            with pytest.raises(RunFencedError):
                await engine.execute_fired(fire, durable)
        finally:
            await engine.aclose()
        return fire, durable

    fire, durable = asyncio.run(go())
    assert durable.done() and durable.exception() is None  # the caller was acknowledged …
    stored = store.get_run(fire.runs[0].id)
    assert stored is not None and stored.status == "Running"  # … and the run exists, to be taken up
    assert store.load_actions(stored.id) == []
    assert [event.id for event in store.list_trigger_history("wf")] == [fire.event.id]


def test_a_fire_the_store_refuses_tells_the_caller_why_and_writes_nothing(store: Store) -> None:
    deploy(store, ECHO)

    async def go() -> tuple[TriggerFire, asyncio.Future[None]]:
        engine = Engine(store, clock=VirtualClock())
        fire = fire_of(engine)
        store.create_run(fire.runs[0])  # the id is taken before the fire is written
        durable: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        try:
            with pytest.raises(DuplicateRunError):
                await engine.execute_fired(fire, durable)
        finally:
            await engine.aclose()
        return fire, durable

    fire, durable = asyncio.run(go())
    assert isinstance(durable.exception(), DuplicateRunError)
    assert store.list_trigger_history("wf") == []
    assert store.load_actions(fire.runs[0].id) == []


def test_start_fired_declines_a_run_its_workflow_has_no_room_for(store: Store) -> None:
    deploy(store, {"Pause": wait(10)}, trigger=limited(1))

    async def go() -> None:
        engine = Engine(store, clock=VirtualClock())
        dispatcher = Dispatcher(engine)
        try:
            first = dispatcher.start_fired(fire_of(engine), want_reply=False)
            assert first is not None
            await first.durable
            assert dispatcher.start_fired(fire_of(engine), want_reply=False) is None  # the caller queues it
        finally:
            await dispatcher.stop(0)
            await engine.aclose()

    asyncio.run(go())


def test_start_fired_declines_once_the_dispatcher_stops(store: Store) -> None:
    deploy(store, ECHO)

    async def go() -> None:
        engine = Engine(store, clock=VirtualClock())
        dispatcher = Dispatcher(engine)
        await dispatcher.stop(0)
        try:
            assert dispatcher.start_fired(fire_of(engine), want_reply=True) is None
        finally:
            await engine.aclose()

    asyncio.run(go())
    assert store.list_runs() == []
