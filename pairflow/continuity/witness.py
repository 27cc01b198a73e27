"""A witness: a lease voter that never becomes active, so that two locations plus a witness have a
majority without each other (`pairflow witness`, or `--witness URL` pointing at any location).

It answers POST /api/continuity/lease with the same rules as a location (`state.decide_grant`),
keeps its document in its own store, and shows GET /api/continuity/status and /health/live.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from pairflow.continuity.controller import Voter, request_of
from pairflow.continuity.state import iso
from pairflow.engine.clock import SystemClock
from pairflow.errors import InputError, StoreError
from pairflow.server.auth import require_api_key
from pairflow.server.problems import ApiError
from pairflow.store import open_store


def create_witness_app(store_url: str, name: str, api_keys: Sequence[str]) -> Starlette:
    async def _guard(request: Request) -> Voter:
        require_api_key(request.headers, tuple(api_keys))
        voter: Voter = request.app.state.voter
        return voter

    async def answer_lease(request: Request) -> Response:
        try:
            voter = await _guard(request)
            try:
                body = await request.json()
            except ValueError:
                raise ApiError(400, "InvalidLeaseRequest", "The body is not JSON.") from None
            request_ = request_of(body)
            async with voter.lock:
                answer, _ = voter.grant(request_)
            return JSONResponse(answer)
        except ApiError as error:
            return JSONResponse(error.body(), status_code=error.status)
        except (InputError, StoreError) as error:
            return JSONResponse({"error": {"code": "Failed", "message": error.message}}, status_code=503)

    async def status(request: Request) -> Response:
        try:
            voter = await _guard(request)
        except ApiError as error:
            return JSONResponse(error.body(), status_code=error.status)
        doc, now = voter.doc, voter.clock.now()
        held = doc.grant_open(now)
        return JSONResponse(
            {
                "location": voter.name,
                "witness": True,
                "epoch": doc.epoch,
                "active": False,
                "acting": False,
                "granted": held.json() if held is not None else None,
                "leader": doc.leader.json() if doc.leader is not None else None,
                "at": iso(now),
            }
        )

    async def live(request: Request) -> Response:
        return JSONResponse({"status": "live"})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        store = open_store(store_url)
        app.state.voter = Voter(store, name=name, clock=SystemClock())
        try:
            yield
        finally:
            store.close()

    return Starlette(
        routes=[
            Route("/api/continuity/lease", answer_lease, methods=["POST"]),
            Route("/api/continuity/status", status, methods=["GET"]),
            Route("/health/live", live, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
