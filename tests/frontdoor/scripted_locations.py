"""Stand-in locations for the front door's tests: real HTTP servers (uvicorn on 127.0.0.1, port 0)
whose trigger endpoint answers as told — a run, a LocationPassive refusal, a hang — and which record
every call they get."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


@dataclass
class FakeLocation:
    name: str
    behaviour: str = "run"  # run | passive | hang | store-down | lost-reply
    ready: int = 200
    continuity: dict[str, Any] | None = None
    calls: list[dict[str, Any]] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def _ready(self, request: Request) -> Response:
        body: dict[str, Any] = {"status": "ready", "location": self.name}
        if self.continuity is not None:
            body["continuity"] = {"location": self.name, **self.continuity}
        return JSONResponse(body, status_code=self.ready)

    async def _invoke(self, request: Request) -> Response:
        self.calls.append(
            {
                "method": request.method,
                "path": request.scope["raw_path"].decode(),
                "query": request.scope["query_string"].decode(),
                "headers": dict(request.headers),
                "body": await request.body(),
            }
        )
        if self.behaviour == "passive":
            return JSONResponse(
                {"error": {"code": "LocationPassive", "message": f"passive in {self.name}"}}, status_code=503
            )
        if self.behaviour == "store-down":
            return JSONResponse({"error": {"code": "StoreUnavailable", "message": "db"}}, status_code=503)
        if self.behaviour == "lost-reply":
            return JSONResponse(
                {"error": {"code": "NoResponse", "message": "ended"}},
                status_code=502,
                headers={"x-ms-workflow-run-id": f"{self.name}-run"},
            )
        if self.behaviour == "hang":
            await self.release.wait()
        return JSONResponse(
            {"servedBy": self.name, "n": len(self.calls)},
            headers={"x-ms-workflow-run-id": f"{self.name}-{len(self.calls)}", "set-cookie": "a=1"},
        )

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/health/ready", self._ready),
                Route("/workflows/{rest:path}", self._invoke, methods=["GET", "POST", "PUT"]),
            ]
        )


@contextlib.asynccontextmanager
async def serving(fake: FakeLocation) -> AsyncIterator[str]:
    """Serve `fake` until the block ends; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        fake.app(), lifespan="off", log_level="critical", ws="none", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        fake.release.set()
        server.should_exit = True
        await task
        sock.close()
