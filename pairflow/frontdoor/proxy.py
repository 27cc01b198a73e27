"""The front door's ASGI app: forwards `/workflows/...` calls (Request triggers, HttpWebhook
callbacks) to a location chosen by `router.candidates`, and answers its own health and status.

Path and query are forwarded unchanged, so the signed callback URL a caller holds is valid at every
location that has the workflow with the same access key. The request body is read into memory up to
`max_body_bytes` (413 beyond): a retry needs the body again, and the locations hold the same bound.
The answer is streamed back as it comes, with `x-pairflow-frontdoor-location` naming the location
that gave it. Every forwarded call carries `x-pairflow-epoch`, the highest epoch the front door has
seen from any location, so a stale active location learns it was fenced and steps down; a caller's
own `x-pairflow-epoch` is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from pairflow.frontdoor import router
from pairflow.frontdoor.config import FrontDoorConfig
from pairflow.frontdoor.probe import Monitor, Prober
from pairflow.jsontypes import JSONObject

LOCATION_HEADER = "x-pairflow-frontdoor-location"
EPOCH_HEADER = "x-pairflow-epoch"
MAX_DECISION_BODY = 64 * 1024  # bytes of an error answer read to decide on a retry
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
_NOT_FORWARDED = HOP_BY_HOP | {"host", "content-length", EPOCH_HEADER}


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


class _TooLarge(Exception):
    """The request body is larger than the front door forwards."""


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _upstream_headers(request: Request, epoch: int | None) -> list[tuple[str, str]]:
    headers = [(k, v) for k, v in request.headers.items() if k.lower() not in _NOT_FORWARDED]
    client = request.client.host if request.client else ""
    prior = request.headers.get("x-forwarded-for")
    headers = [(k, v) for k, v in headers if k.lower() not in {"x-forwarded-for"}]
    if client:
        headers.append(("x-forwarded-for", f"{prior}, {client}" if prior else client))
    if "x-forwarded-host" not in request.headers and request.headers.get("host"):
        headers.append(("x-forwarded-host", request.headers["host"]))
    if "x-forwarded-proto" not in request.headers:
        headers.append(("x-forwarded-proto", request.url.scheme))
    if epoch is not None:
        headers.append((EPOCH_HEADER, str(epoch)))
    return headers


def _answer_epoch(headers: httpx.Headers) -> int | None:
    text = headers.get(EPOCH_HEADER, "")
    return int(text) if text.isdigit() else None


async def _read_prefix(answer: httpx.Response, limit: int) -> tuple[list[bytes], bool]:
    """Up to `limit` bytes of the answer, and whether that was all of it."""
    chunks: list[bytes] = []
    size = 0
    iterator = answer.aiter_raw()
    async for chunk in iterator:
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return chunks, False
    return chunks, True


def _relay(answer: httpx.Response, prefix: list[bytes], complete: bool, location: str) -> Response:
    """Stream the location's answer to the caller, starting with what was already read."""

    async def body() -> AsyncIterator[bytes]:
        try:
            for chunk in prefix:
                yield chunk
            if not complete:
                async for chunk in answer.aiter_raw():
                    yield chunk
        finally:
            await answer.aclose()

    response = StreamingResponse(body(), status_code=answer.status_code)
    raw = [
        (key, value) for key, value in answer.headers.raw if key.decode("latin-1").lower() not in HOP_BY_HOP
    ]
    raw.append((LOCATION_HEADER.encode(), location.encode()))
    response.raw_headers = raw
    return response


class FrontDoor:
    """The forwarding logic and the turn counters; the health it routes on lives in the `Monitor`."""

    def __init__(self, config: FrontDoorConfig, monitor: Monitor, client: httpx.AsyncClient) -> None:
        self.config = config
        self.monitor = monitor
        self.client = client
        self._turns: dict[str, int] = {}

    def plan(self, workflow: str) -> list[str]:
        mode = self.config.mode_of(workflow)
        turn = 0
        if mode == "active-active":
            turn = self._turns.get(workflow, 0)
            self._turns[workflow] = turn + 1
        return router.candidates(mode, self.monitor.ordered(), workflow, turn)

    async def forward(self, request: Request) -> Response:
        workflow = request.path_params["name"]
        try:
            content = await _read_body(request, self.config.max_body_bytes)
        except _TooLarge:
            return _error(
                413,
                "RequestEntityTooLarge",
                f"The request body is larger than the front door's limit of "
                f"{self.config.max_body_bytes} bytes.",
            )
        except ClientDisconnect:
            return Response(status_code=499)
        order = self.plan(workflow)
        if not order:
            return _error(
                503,
                "NoHealthyLocation",
                f"No location is healthy for the workflow '{workflow}'.",
                {"Retry-After": "1"},
            )
        path = request.scope.get("raw_path") or request.url.path.encode()
        query = request.scope.get("query_string", b"")
        target_path = path.decode("latin-1") + ("?" + query.decode("latin-1") if query else "")
        timeout = httpx.Timeout(self.config.timeout, connect=self.config.connect_timeout)
        refusal: tuple[httpx.Response, list[bytes], str] | None = None
        unreachable: list[str] = []
        for name in order:
            headers = _upstream_headers(request, self.monitor.epoch())
            upstream = self.client.build_request(
                request.method,
                self.monitor.targets[name].url + target_path,
                headers=headers,
                content=content,
                timeout=timeout,
            )
            try:
                answer = await self.client.send(upstream, stream=True)
            except httpx.HTTPError as error:
                if router.may_retry_error(error):
                    if isinstance(error, httpx.ConnectError):
                        self.monitor.refused(name)
                    unreachable.append(f"{name}: {type(error).__name__}")
                    continue
                return self._unsure(name, error)
            if not router.wants_body(answer.status_code):
                return _relay(answer, [], False, name)
            try:
                prefix, complete = await _read_prefix(answer, MAX_DECISION_BODY)
            except httpx.HTTPError as error:
                await answer.aclose()
                return self._unsure(name, error)
            joined = b"".join(prefix)
            if not (complete and router.may_retry_answer(answer.status_code, answer.headers, joined)):
                return _relay(answer, prefix, complete, name)
            await answer.aclose()
            if router.error_code(joined) == "LocationPassive":
                self.monitor.passive(name, workflow, _answer_epoch(answer.headers))
            refusal = (answer, prefix, name)
        if refusal is not None:  # every location refused before creating a run: pass the last refusal on
            answer, prefix, name = refusal
            return _relay(answer, prefix, True, name)
        return _error(
            503,
            "NoLocationReachable",
            f"No location could be reached for the workflow '{workflow}' ({'; '.join(unreachable)}); "
            "no run was started.",
            {"Retry-After": "1"},
        )

    def _unsure(self, name: str, error: httpx.HTTPError) -> Response:
        """The request reached `name` and then the answer was lost: a run may exist, so no retry."""
        headers = {LOCATION_HEADER: name}
        if isinstance(error, httpx.TimeoutException):
            return _error(
                504,
                "LocationTimeout",
                f"The location '{name}' did not answer within {self.config.timeout:g} seconds. A run may "
                "have started there; the call was not retried elsewhere.",
                headers,
            )
        return _error(
            502,
            "LocationConnectionLost",
            f"The connection to the location '{name}' failed after the request was sent "
            f"({type(error).__name__}). A run may have started there; the call was not retried elsewhere.",
            headers,
        )

    def status(self) -> JSONObject:
        return {
            "locations": [health.view() for health in self.monitor.ordered()],
            "epoch": self.monitor.epoch(),
            "defaultMode": self.config.default_mode,
            "modes": dict(self.config.modes),
            "ready": self.monitor.any_up(),
        }


def create_app(
    config: FrontDoorConfig,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    on_ready: Callable[[FrontDoor], None] | None = None,
) -> Starlette:
    """The front door app; its lifespan probes every location once before the first call is taken."""
    holder: dict[str, FrontDoor] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        limits = httpx.Limits(max_connections=1000, max_keepalive_connections=100)
        async with httpx.AsyncClient(transport=transport, limits=limits, follow_redirects=False) as client:
            monitor = Monitor(config, Prober(config, client))
            await monitor.probe_all()
            door = FrontDoor(config, monitor, client)
            holder["door"] = door
            task = asyncio.create_task(monitor.run())
            try:
                if on_ready is not None:
                    on_ready(door)
                yield
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def forward(request: Request) -> Response:
        return await holder["door"].forward(request)

    async def live(request: Request) -> Response:
        return JSONResponse({"status": "live"})

    async def ready(request: Request) -> Response:
        door = holder["door"]
        status = door.status()
        status["status"] = "ready" if status["ready"] else "not ready"
        return JSONResponse(status, status_code=200 if status["ready"] else 503)

    async def status(request: Request) -> Response:
        return JSONResponse(holder["door"].status())

    async def not_found(request: Request, exc: Any) -> Response:
        return _error(404, "NotFound", "The front door forwards only /workflows/... calls.")

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
    return Starlette(
        routes=[
            Route("/health/live", live, methods=["GET"]),
            Route("/health/ready", ready, methods=["GET"]),
            Route("/frontdoor/status", status, methods=["GET"]),
            Route("/workflows/{name}/{rest:path}", forward, methods=methods),
        ],
        lifespan=lifespan,
        exception_handlers={404: not_found},
    )
