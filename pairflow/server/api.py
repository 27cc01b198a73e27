"""The management API's handlers: parse the request, call the `Location`, render JSON.

Authentication and error rendering are applied around every handler by the route table (routes.py).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from pairflow.jsontypes import JSON
from pairflow.server.body import read_limited
from pairflow.server.location import RUN_STATUSES, Location
from pairflow.server.problems import ApiError, bad_request

MAX_LIST_LIMIT = 1000


def _location(request: Request) -> Location:
    location: Location = request.app.state.location
    return location


async def _json_body(request: Request) -> JSON:
    raw = await read_limited(request, request.app.state.settings.max_body_bytes)
    if not raw.strip():
        raise bad_request("InvalidRequestContent", "The request body is empty; expected JSON.")
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise bad_request(
            "InvalidRequestContent",
            f"The request content is not valid and could not be deserialized: {error}",
        ) from None
    except RecursionError:
        raise bad_request("InvalidRequestContent", "The request content is nested too deeply.") from None


def _limit(request: Request, default: int = 100) -> int:
    text = request.query_params.get("limit")
    if text is None:
        return default
    if not text.isdigit() or not 1 <= int(text) <= MAX_LIST_LIMIT:
        raise bad_request(
            "InvalidQueryParameter", f"limit: expected an integer 1-{MAX_LIST_LIMIT}, got '{text}'"
        )
    return int(text)


def _instant(request: Request, name: str) -> datetime | None:
    text = request.query_params.get(name)
    if text is None or text == "":
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise bad_request(
            "InvalidQueryParameter", f"{name}: expected an ISO 8601 time, got '{text}'"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# -- workflows -------------------------------------------------------------------------------------
async def put_workflow(request: Request) -> Response:
    document = await _json_body(request)
    summary, created = await _location(request).deploy(request.path_params["name"], document)
    return JSONResponse(summary, status_code=201 if created else 200)


async def list_workflows(request: Request) -> Response:
    return JSONResponse({"value": _location(request).list_workflows()})


async def get_workflow(request: Request) -> Response:
    return JSONResponse(_location(request).get_workflow(request.path_params["name"]))


async def list_versions(request: Request) -> Response:
    return JSONResponse({"value": _location(request).list_versions(request.path_params["name"])})


async def enable_workflow(request: Request) -> Response:
    return JSONResponse(await _location(request).set_enabled(request.path_params["name"], True))


async def disable_workflow(request: Request) -> Response:
    return JSONResponse(await _location(request).set_enabled(request.path_params["name"], False))


async def delete_workflow(request: Request) -> Response:
    await _location(request).delete(request.path_params["name"])
    return Response(status_code=204)


async def regenerate_access_key(request: Request) -> Response:
    await _location(request).regenerate_access_key(request.path_params["name"])
    return JSONResponse({})


# -- triggers --------------------------------------------------------------------------------------
async def list_callback_url(request: Request) -> Response:
    params = request.path_params
    return JSONResponse(_location(request).list_callback_url(params["name"], params["trigger"]))


async def trigger_history(request: Request) -> Response:
    params = request.path_params
    events = _location(request).trigger_history(params["name"], params["trigger"], _limit(request))
    return JSONResponse({"value": events})


async def get_trigger_state(request: Request) -> Response:
    params = request.path_params
    return JSONResponse(_location(request).export_trigger_state(params["name"], params["trigger"]))


async def put_trigger_state(request: Request) -> Response:
    params = request.path_params
    state = await _json_body(request)
    location = _location(request)
    await location.import_trigger_state(params["name"], params["trigger"], state)
    return JSONResponse(location.export_trigger_state(params["name"], params["trigger"]))


# -- runs ------------------------------------------------------------------------------------------
async def list_runs(request: Request) -> Response:
    query = request.query_params
    status = query.get("status") or None
    if status is not None:
        canonical = {s.lower(): s for s in RUN_STATUSES}.get(status.lower())
        if canonical is None:
            raise bad_request(
                "InvalidQueryParameter", f"status: expected one of {', '.join(RUN_STATUSES)}, got '{status}'"
            )
        status = canonical
    runs = _location(request).list_runs(
        workflow=query.get("workflow") or None,
        status=status,
        trigger=query.get("trigger") or None,
        since=_instant(request, "since"),
        until=_instant(request, "until"),
        limit=_limit(request),
    )
    return JSONResponse({"value": runs})


async def get_run(request: Request) -> Response:
    return JSONResponse(_location(request).get_run(request.path_params["id"]))


async def cancel_run(request: Request) -> Response:
    return JSONResponse(await _location(request).cancel(request.path_params["id"]))


async def resubmit_run(request: Request) -> Response:
    location = _location(request)
    run = location.resubmit(request.path_params["id"])
    status_url = f"{location.base_url}/api/runs/{run.id}"
    return JSONResponse(
        {"runId": run.id, "status": run.status},
        status_code=202,
        headers={"x-ms-workflow-run-id": run.id, "Location": status_url},
    )


def unknown_route() -> ApiError:
    return ApiError(404, "NotFound", "No such route.")
