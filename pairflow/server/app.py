"""The ASGI application of one location: `create_app(settings)`.

Its lifespan opens the store and builds the `Location` (engine, dispatcher, trigger service) on the
server's event loop; startup resumes every unfinished run before the first request is accepted, and
shutdown (uvicorn calls it on SIGTERM/SIGINT) stops accepting, stops the triggers, gives runs
`shutdown_grace` seconds, and closes the store.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

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


PartsFactory = Callable[[Store, Engine, Settings, Clock, httpx.AsyncClient, Callable[[str, str], str]], Parts]


def default_parts(
    store: Store,
    engine: Engine,
    settings: Settings,
    clock: Clock,
    http: httpx.AsyncClient,
    callback_url: Callable[[str, str], str],
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
    )
    return Parts(dispatcher=dispatcher, triggers=triggers)


async def _http_exception(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    code = {404: "NotFound", 405: "MethodNotAllowed"}.get(status, "Error")
    detail = exc.detail if isinstance(exc, HTTPException) else "Internal error."
    headers = dict(exc.headers or {}) if isinstance(exc, HTTPException) else {}
    return error_response(ApiError(status, code, str(detail), headers=headers))


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
        http = httpx.AsyncClient()
        engine = Engine(store, clock=chosen_clock, http_client=http)
        holder: dict[str, Location] = {}

        def callback_url(workflow: str, trigger: str) -> str:
            return holder["location"].callback_url(workflow, trigger)

        built = make_parts(store, engine, settings, chosen_clock, http, callback_url)
        location = Location(
            settings.location,
            store,
            engine,
            built.dispatcher,
            built.triggers,
            base_url=base_url or settings.base_url(),
            clock=chosen_clock,
        )
        holder["location"] = location
        app.state.location = location
        try:
            await location.start()
            if on_ready is not None:
                on_ready(location)
            yield
        finally:
            try:
                await location.stop(settings.shutdown_grace)
            finally:
                await http.aclose()
                store.close()

    app = Starlette(
        routes=starlette_routes(),
        lifespan=lifespan,
        exception_handlers={HTTPException: _http_exception},
    )
    app.state.settings = settings
    return app
