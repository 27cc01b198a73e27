"""The ASGI application of one location: `create_app(settings)`.

Its lifespan opens the store and builds the `Location` (engine, dispatcher, trigger service) on the
server's event loop; startup resumes every unfinished run before the first request is accepted, and
shutdown (uvicorn calls it on SIGTERM/SIGINT) stops accepting, stops the triggers, gives runs
`shutdown_grace` seconds, and closes the store.

Continuity (docs/continuity.md) is wired here: the location's `Continuity` takes up its role before
the triggers are armed, is the engine's fence and the trigger service's `is_active`, re-arms the
triggers whenever the role changes (adopting replicated runs first, pairflow.continuity.replica),
and a request carrying a higher `x-pairflow-epoch` (front door,
watchdog) makes the location step down. With `watch` set, a watchdog runs in this location.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response

from pairflow.continuity.controller import Continuity
from pairflow.continuity.lease import EPOCH_HEADER
from pairflow.continuity.replication_setup import wire as wire_replication
from pairflow.continuity.watchdog import Watchdog, WatchdogSettings
from pairflow.engine.clock import Clock, SystemClock
from pairflow.engine.runner import Engine
from pairflow.server.config import Settings
from pairflow.server.location import DispatcherLike, Location, TriggerServiceLike
from pairflow.server.problems import ApiError
from pairflow.server.routes import error_response, starlette_routes
from pairflow.store import open_store
from pairflow.store.base import Store


@dataclass(frozen=True, slots=True)
class Parts:
    """What the lifespan builds around the engine; replaceable so tests can inject stand-ins."""

    dispatcher: DispatcherLike
    triggers: TriggerServiceLike | None


PartsFactory = Callable[
    [Store, Engine, Settings, Clock, httpx.AsyncClient, Callable[[str, str], str], Continuity | None], Parts
]


def default_parts(
    store: Store,
    engine: Engine,
    settings: Settings,
    clock: Clock,
    http: httpx.AsyncClient,
    callback_url: Callable[[str, str], str],
    continuity: Continuity | None = None,
) -> Parts:
    from pairflow.engine.dispatcher import Dispatcher
    from pairflow.triggers.service import TriggerService

    dispatcher = Dispatcher(engine, max_concurrent_runs=settings.max_concurrent_runs)
    triggers = TriggerService(
        store,
        engine,
        dispatcher,
        clock=clock,
        http=http,
        callback_url=callback_url,
        location=settings.location,
        missed=settings.missed_occurrences,
        is_active=continuity.is_active if continuity is not None else _always,
        recurrence_share=continuity.recurrence_share if continuity is not None else _whole,
    )
    return Parts(dispatcher=dispatcher, triggers=triggers)


def _always(workflow: str) -> bool:
    return True


def _whole(workflow: str) -> tuple[int, int] | None:
    return None


async def _http_exception(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    code = {404: "NotFound", 405: "MethodNotAllowed"}.get(status, "Error")
    detail = exc.detail if isinstance(exc, HTTPException) else "Internal error."
    headers = dict(exc.headers or {}) if isinstance(exc, HTTPException) else {}
    return error_response(ApiError(status, code, str(detail), headers=headers))


class EpochHeader:
    """ASGI middleware: a request carrying a higher `x-pairflow-epoch` makes the location step down."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope.get("type") == "http":
            for name, value in scope.get("headers", ()):
                if name == EPOCH_HEADER.encode() and value.strip().isdigit():
                    location: Location | None = getattr(scope["app"].state, "location", None)
                    continuity = location.continuity if location is not None else None
                    if continuity is not None:
                        await continuity.observe_epoch(int(value), "a request header")
        await self.app(scope, receive, send)


def _continuity(
    settings: Settings, store: Store, clock: Clock, http: httpx.AsyncClient, url: str
) -> Continuity:
    return Continuity(
        store,
        name=settings.location,
        url=url,
        clock=clock,
        http=http,
        peers=dict(settings.peers),
        witnesses=settings.witnesses,
        lease_seconds=settings.lease_seconds,
        api_key=settings.api_keys[0] if settings.api_keys else None,
    )


def create_app(
    settings: Settings,
    *,
    base_url: str | None = None,
    parts: PartsFactory | None = None,
    clock: Clock | None = None,
    on_ready: Callable[[Location], None] | None = None,
) -> Starlette:
    """The location's app; `base_url` is where callers reach it (for callback and status URLs)."""
    make_parts = parts or default_parts
    chosen_clock = clock or SystemClock()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        store = open_store(settings.store)
        store.begin_serving()
        http = httpx.AsyncClient()
        engine = Engine(store, clock=chosen_clock, http_client=http, lease_seconds=settings.run_lease_seconds)
        holder: dict[str, Location] = {}
        url = base_url or settings.base_url()
        continuity = _continuity(settings, store, chosen_clock, http, url)
        engine.fence = continuity

        def callback_url(workflow: str, trigger: str) -> str:
            return holder["location"].callback_url(workflow, trigger)

        built = make_parts(store, engine, settings, chosen_clock, http, callback_url, continuity)
        location = Location(
            settings.location,
            store,
            engine,
            built.dispatcher,
            built.triggers,
            base_url=url,
            clock=chosen_clock,
            continuity=continuity,
        )
        continuity.on_change = location.rearm
        replication = wire_replication(location, continuity, mode=settings.replication, http=http)
        holder["location"] = location
        app.state.location = location
        app.state.replication = replication
        watching: asyncio.Task[None] | None = None
        try:
            await continuity.start(settings.role)
            await location.start()
            await replication.start()
            if settings.watch:
                watchdog = Watchdog(
                    WatchdogSettings(
                        watch=settings.watch,
                        activate=url,
                        interval=settings.probe_interval,
                        failures=settings.failures,
                        alert_url=settings.alert_url,
                        api_key=continuity.api_key,
                    ),
                    http,
                    chosen_clock,
                    record=continuity.record,
                )
                watching = asyncio.get_running_loop().create_task(watchdog.run(), name="watchdog")
            if on_ready is not None:
                on_ready(location)
            yield
        finally:
            try:
                if watching is not None:
                    watching.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await watching
                await continuity.stop()
                await replication.stop()
                await location.stop(settings.shutdown_grace)
            finally:
                await http.aclose()
                store.close()

    app = Starlette(
        routes=starlette_routes(),
        lifespan=lifespan,
        exception_handlers={HTTPException: _http_exception},
        middleware=[Middleware(EpochHeader)],
    )
    app.state.settings = settings
    return app
