"""Shared parts for trigger tests: a location (store, engine, dispatcher, trigger service) over a real
store of each backend (`store_url` in tests/conftest.py), a scripted HTTP server on 127.0.0.1:0, and
waiting for a condition."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from pairflow.engine.clock import Clock, VirtualClock
from pairflow.engine.dispatcher import Dispatcher
from pairflow.engine.runner import Engine
from pairflow.store import open_store
from pairflow.store.base import Store
from pairflow.store.records import RunRecord, TriggerEvent
from pairflow.triggers.service import TriggerService

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def deploy(
    store: Store,
    trigger: dict[str, Any],
    *,
    name: str = "wf",
    actions: dict[str, Any] | None = None,
    parameters: dict[str, Any] | None = None,
    at: datetime = T0,
) -> None:
    definition = {
        "triggers": {"tick": trigger},
        "actions": actions or {"Echo": {"type": "Compose", "inputs": "@triggerOutputs()", "runAfter": {}}},
        "outputs": {},
        "parameters": parameters or {},
    }
    store.put_workflow(name, definition, {}, at)


@dataclass
class Location:
    """One pairflow location's runtime parts over a store (a URL or SQLite path), started and stopped as
    a unit."""

    path: str | Path
    clock: Clock
    missed: str = "skip"
    is_active: Callable[[str], bool] = field(default=lambda workflow: True)
    store: Store = field(init=False)
    engine: Engine = field(init=False)
    dispatcher: Dispatcher = field(init=False)
    service: TriggerService = field(init=False)
    http: httpx.AsyncClient = field(init=False)

    async def start(self) -> Location:
        self.store = open_store(str(self.path))
        self.http = httpx.AsyncClient()
        self.engine = Engine(self.store, clock=self.clock, owner=f"owner-{id(self)}", http_client=self.http)
        self.dispatcher = Dispatcher(self.engine)
        self.service = TriggerService(
            self.store,
            self.engine,
            self.dispatcher,
            clock=self.clock,
            http=self.http,
            callback_url=lambda workflow, trigger: f"http://pairflow.test/{workflow}/{trigger}/invoke",
            missed=self.missed,
            is_active=self.is_active,
        )
        await self.dispatcher.start()
        await self.service.start()
        return self

    async def stop(self) -> None:
        await self.service.stop()
        await self.dispatcher.stop(grace=5.0)
        await self.engine.aclose()
        await self.http.aclose()
        self.store.close()


def history(store: Store, workflow: str = "wf") -> list[TriggerEvent]:
    """Oldest first."""
    return list(reversed(store.list_trigger_history(workflow, limit=10_000)))


def runs(store: Store, workflow: str = "wf") -> list[RunRecord]:
    """Oldest first."""
    return list(reversed(store.list_runs(workflow, limit=10_000)))


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait (real time) until `condition()` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.005)


Reply = tuple[int, dict[str, str], Any]


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


class ScriptedServer:
    """A real HTTP server on 127.0.0.1:0 answering with `handler(request) -> (status, headers, json)`."""

    def __init__(self, handler: Callable[[Seen], Reply]) -> None:
        self.handler = handler
        self.seen: list[Seen] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                request = Seen(self.command, self.path, dict(self.headers), body)
                outer.seen.append(request)
                status, headers, payload = outer.handler(request)
                data = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                if data:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._serve()

            def do_POST(self) -> None:
                self._serve()

            def do_DELETE(self) -> None:
                self._serve()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> ScriptedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def db(store_url: str) -> str:
    """The location's store, once per backend (the name is from when it was always a SQLite file)."""
    return store_url


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(T0)


@pytest.fixture
def server_factory() -> Iterator[Callable[[Callable[[Seen], Reply]], ScriptedServer]]:
    started: list[ScriptedServer] = []

    def make(handler: Callable[[Seen], Reply]) -> ScriptedServer:
        server = ScriptedServer(handler).__enter__()
        started.append(server)
        return server

    yield make
    for server in started:
        server.__exit__()
