"""Health endpoints: `/health/live` (the process answers) and `/health/ready` (it can do its job:
accepting requests, the store answers a cheap query, the trigger service runs; the seconds since
the scheduler's last tick are reported beside)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from pairflow.server.location import Location


async def live(request: Request) -> Response:
    return JSONResponse({"status": "live"})


async def ready(request: Request) -> Response:
    location: Location = request.app.state.location
    is_ready, checks = location.readiness()
    checks["status"] = "ready" if is_ready else "not ready"
    return JSONResponse(checks, status_code=200 if is_ready else 503)
