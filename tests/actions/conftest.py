"""A real `ActionContext` for executor tests: expressions evaluated by `pairflow.expressions` over a
`MappingContext`, variables in memory, an injected virtual clock that records every sleep, and a
scripted HTTP server on 127.0.0.1 (stdlib, in a thread) for the Http action."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

import pairflow.actions
from pairflow.actions.base import EXECUTORS, NO_ITEM, ActionResult, NoItem, Variables, WorkflowCaller
from pairflow.definition.model import ActionDef, build_definition
from pairflow.expressions import MappingContext, evaluate
from pairflow.jsontypes import JSON, JSONObject

START = datetime(2024, 1, 31, 12, 0, tzinfo=UTC)
assert pairflow.actions.EXECUTORS is EXECUTORS


class MemoryVariables:
    """The run's variables, held in memory (the engine's implementation commits them with records)."""

    def __init__(self) -> None:
        self.values: dict[str, JSON] = {}
        self.types: dict[str, str] = {}

    def declare(self, name: str, type_name: str, value: JSON) -> None:
        self.values[name] = value
        self.types[name] = type_name

    def has(self, name: str) -> bool:
        return name in self.values

    def get(self, name: str) -> JSON:
        return self.values[name]

    def type_of(self, name: str) -> str:
        return self.types[name]

    def set(self, name: str, value: JSON) -> None:
        self.values[name] = value


class VirtualClock:
    """An injected clock: `sleep` returns at once, advances `now` and records the requested duration."""

    def __init__(self, start: datetime = START) -> None:
        self.current = start
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        return self.current

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.current += timedelta(seconds=seconds)


@dataclass
class RunContext:
    run_id: str
    action: ActionDef
    variables: Variables
    store: MemoryVariables
    http: httpx.AsyncClient
    clock: VirtualClock
    document: JSONObject
    caller: WorkflowCaller | None = None
    attempt: int = 1

    def evaluate(self, value: JSON, *, item: JSON | NoItem = NO_ITEM) -> JSON:
        doc = {**self.document, "variables": dict(self.store.values)}
        if not isinstance(item, NoItem):
            doc["item"] = item
        return evaluate(value, MappingContext(doc, clock=self.clock.now()))

    def now(self) -> datetime:
        return self.clock.now()

    async def sleep(self, seconds: float) -> None:
        await self.clock.sleep(seconds)

    @property
    def idempotency_key(self) -> str:
        return f"{self.run_id}/{self.action.name}/{self.attempt}"

    @property
    def call_workflow(self) -> WorkflowCaller:
        if self.caller is None:
            raise AssertionError("this test gave the context no workflow caller")
        return self.caller


@dataclass
class Outcome:
    result: ActionResult
    ctx: RunContext

    @property
    def sleeps(self) -> list[float]:
        return self.ctx.clock.sleeps

    @property
    def variables(self) -> dict[str, JSON]:
        return self.ctx.store.values


def action_def(raw: JSONObject, name: str = "Act") -> ActionDef:
    return build_definition({"actions": {name: raw}}).all_actions[name]


RunAction = Callable[..., Outcome]


def execute(
    raw: JSONObject,
    *,
    name: str = "Act",
    variables: dict[str, tuple[str, JSON]] | None = None,
    document: JSONObject | None = None,
    caller: WorkflowCaller | None = None,
    clock: VirtualClock | None = None,
) -> Outcome:
    """Run one action's executor: execute(raw_action, variables={name: (type, value)}, document=…)."""
    store = MemoryVariables()
    for var, (type_name, value) in (variables or {}).items():
        store.declare(var, type_name, value)

    async def go() -> Outcome:
        async with httpx.AsyncClient() as client:
            ctx = RunContext(
                run_id="run-1",
                action=action_def(raw, name),
                variables=store,
                store=store,
                http=client,
                clock=clock or VirtualClock(),
                document=document or {},
                caller=caller,
            )
            result = await EXECUTORS[ctx.action.type](ctx)
            return Outcome(result, ctx)

    return asyncio.run(go())


@pytest.fixture
def run_action() -> RunAction:
    return execute


# --- a scripted HTTP server -------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    body: Any = b""  # bytes, str, or a JSON value (sent as application/json)
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds the server waits before answering (for timeouts)


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class ScriptedServer:
    """Answers each path with its scripted replies in turn; the last reply repeats."""

    def __init__(self) -> None:
        self.scripts: dict[str, list[Reply]] = {}
        self.requests: list[Seen] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?", 1)[0]
                with server.lock:
                    server.requests.append(Seen(self.command, self.path, dict(self.headers.items()), body))
                    replies = server.scripts.get(path) or [Reply(500, "unscripted path")]
                    reply = replies.pop(0) if len(replies) > 1 else replies[0]
                if reply.delay:
                    threading.Event().wait(reply.delay)
                payload, content_type = _payload(reply.body)
                try:
                    self.send_response(reply.status)
                    headers = {"Content-Length": str(len(payload)), **reply.headers}
                    if content_type and not any(k.lower() == "content-type" for k in headers):
                        headers["Content-Type"] = content_type
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            def do_GET(self) -> None:
                self._handle()

            def do_POST(self) -> None:
                self._handle()

            def do_PUT(self) -> None:
                self._handle()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    def url(self, path: str) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}{path}"

    def script(self, path: str, *replies: Reply) -> None:
        with self.lock:
            self.scripts[path] = list(replies)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


def _payload(body: Any) -> tuple[bytes, str | None]:
    if isinstance(body, bytes):
        return body, None
    if isinstance(body, str):
        return body.encode(), "text/plain; charset=utf-8"
    return json.dumps(body).encode(), "application/json; charset=utf-8"


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    scripted = ScriptedServer()
    yield scripted
    scripted.close()
