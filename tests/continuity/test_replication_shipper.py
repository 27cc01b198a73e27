"""The shipper against a real receiver served over HTTP on 127.0.0.1 (both with real SQLite stores,
in one event loop): runs arrive, sync callers are answered once a peer holds the run, a peer with a
higher epoch makes the sender step down, and a peer that was down catches up."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from pairflow.continuity.controller import Continuity
from pairflow.continuity.replica import Receiver
from pairflow.continuity.replication import REPLICATE_PATH, Shipper
from pairflow.engine.clock import SystemClock
from pairflow.jsontypes import JSONObject
from pairflow.store.records import ActionRecord, RunRecord, RunUpdate
from pairflow.store.sqlite import SqliteStore

DEFINITION: JSONObject = {
    "triggers": {"manual": {"type": "Request", "kind": "Http"}},
    "actions": {"A": {"type": "Compose", "inputs": 1, "runAfter": {}}},
}
NOW = datetime(2025, 1, 1, tzinfo=UTC)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@asynccontextmanager
async def receiving(store: SqliteStore, epoch: int, port: int) -> AsyncIterator[Receiver]:
    """`east`: a real Receiver behind a real HTTP server, passive at `epoch`."""
    http = httpx.AsyncClient()
    continuity = Continuity(store, name="east", url="http://east", clock=SystemClock(), http=http)
    continuity.commit(replace(continuity.doc, epoch=epoch), "initialized", {})
    receiver = Receiver(store, name="east", continuity=continuity, clock=SystemClock())

    async def replicate(request: Request) -> Response:
        status, answer = await receiver.receive(await request.json())
        return JSONResponse(answer, status_code=status)

    app = Starlette(routes=[Route(REPLICATE_PATH, replicate, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield receiver
    finally:
        server.should_exit = True
        await task
        await http.aclose()


class Sender:
    """`west`: a shipper on its own store, recording the epochs it was told to step down to."""

    def __init__(self, store: SqliteStore, port: int, *, sync: bool = False, epoch: int = 1) -> None:
        self.refused: list[int] = []
        self.store = store
        self.http = httpx.AsyncClient()

        async def refused(higher: int, peer: str) -> None:
            self.refused.append(higher)

        self.shipper = Shipper(
            store,
            name="west",
            peers={"east": f"http://127.0.0.1:{port}"},
            http=self.http,
            clock=SystemClock(),
            epoch=lambda: epoch,
            acting=lambda: True,
            trigger_states=lambda: [],
            on_refused=refused,
            sync=sync,
            linger=0.01,
        )

    def create(self, run_id: str) -> None:
        self.store.create_run(
            RunRecord(run_id, "wf", 1, "Running", {"name": "manual"}, NOW, epoch=1, owner="1@west")
        )
        self.store.commit([RunUpdate(run_id, actions=[ActionRecord(run_id, "A", "", "Succeeded", 1)])])
        self.shipper.notify([run_id])


def _stores(tmp_path: Path) -> tuple[SqliteStore, SqliteStore]:
    west, east = SqliteStore(tmp_path / "west.db"), SqliteStore(tmp_path / "east.db")
    for store in (west, east):
        store.put_workflow("wf", DEFINITION, {}, NOW)
    return west, east


async def _until(check: object, seconds: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not callable(check) or not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


def test_a_sync_caller_is_answered_once_the_peer_stored_the_run(tmp_path: Path) -> None:
    west, east = _stores(tmp_path)
    port = _free_port()

    async def go() -> None:
        async with receiving(east, 1, port):
            sender = Sender(west, port, sync=True)
            await sender.shipper.start()
            try:
                sender.create("r1")
                assert await sender.shipper.acknowledged("r1", 5.0)
                replica = east.get_run("r1")
                assert replica is not None and replica.owner == "replica:west"
                assert [a.status for a in east.load_actions("r1")] == ["Succeeded"]
                assert sender.shipper.sync_fallbacks == 0
            finally:
                await sender.shipper.stop()
                await sender.http.aclose()

    asyncio.run(go())
    west.close()
    east.close()


def test_a_peer_holding_a_higher_epoch_makes_the_sender_step_down(tmp_path: Path) -> None:
    west, east = _stores(tmp_path)
    port = _free_port()

    async def go() -> None:
        async with receiving(east, 5, port):
            sender = Sender(west, port, epoch=3)
            await sender.shipper.start()
            try:
                sender.create("r1")
                await _until(lambda: sender.refused)
                assert sender.refused[0] == 5
                assert east.get_run("r1") is None
            finally:
                await sender.shipper.stop()
                await sender.http.aclose()

    asyncio.run(go())
    west.close()
    east.close()


def test_a_peer_that_was_down_catches_up_and_a_sync_caller_falls_back_meanwhile(tmp_path: Path) -> None:
    west, east = _stores(tmp_path)
    port = _free_port()

    async def go() -> None:
        sender = Sender(west, port, sync=True)
        await sender.shipper.start()
        try:
            sender.create("r1")
            assert not await sender.shipper.acknowledged("r1", 0.3)  # nobody listens yet
            assert sender.shipper.sync_fallbacks == 1
            async with receiving(east, 1, port):
                await _until(lambda: east.get_run("r1") is not None, 10.0)
                west.commit([RunUpdate("r1", status="Succeeded", ended_at=NOW, release_owner="1@west")])
                sender.shipper.notify(["r1"])
                await _until(lambda: (run := east.get_run("r1")) is not None and run.status == "Succeeded")
            found = west.get_meta("replication:peer:east")
            assert found is not None and "watermark" in found[0]
        finally:
            await sender.shipper.stop()
            await sender.http.aclose()

    asyncio.run(go())
    west.close()
    east.close()
