"""The management API's handlers: parse the request, call the `Location`, render JSON.

Authentication and error rendering are applied around every handler by the route table (routes.py).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from pairflow.continuity.controller import Continuity
from pairflow.continuity.replication_setup import Replication
from pairflow.jsontypes import JSON, JSONObject
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
    what_if = request.query_params.get("whatIf", "").lower() in ("true", "1")
    summary, created = await _location(request).deploy(request.path_params["name"], document, what_if=what_if)
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


async def put_access_key(request: Request) -> Response:
    document = await _json_body(request)
    if not isinstance(document, dict) or "key" not in document:
        raise bad_request("InvalidRequestContent", 'The request body must be {"key": "..."}.')
    await _location(request).set_access_key(request.path_params["name"], document["key"])
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


# -- continuity ------------------------------------------------------------------------------------
def _continuity(request: Request) -> Continuity:
    continuity = _location(request).continuity
    if continuity is None:
        raise ApiError(404, "ContinuityNotConfigured", "This location has no continuity.")
    return continuity


async def _optional_body(request: Request) -> JSONObject:
    raw = await read_limited(request, request.app.state.settings.max_body_bytes)
    if not raw.strip():
        return {}
    body = await _json_body_of(raw)
    if not isinstance(body, dict):
        raise bad_request("InvalidRequestContent", "The request body must be a JSON object.")
    return body


async def _json_body_of(raw: bytes) -> JSON:
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise bad_request(
            "InvalidRequestContent", f"The request content is not valid JSON: {error}"
        ) from None


async def continuity_status(request: Request) -> Response:
    return JSONResponse(_continuity(request).status())


async def continuity_lease(request: Request) -> Response:
    return JSONResponse(await _continuity(request).answer_lease(await _json_body(request)))


async def continuity_activate(request: Request) -> Response:
    body = await _optional_body(request)
    reason, after, detail = body.get("reason"), body.get("afterEpoch", 0), body.get("detail")
    if not isinstance(after, int) or isinstance(after, bool):
        raise bad_request("InvalidRequestContent", "/afterEpoch: expected an integer")
    status = await _continuity(request).activate(
        reason if isinstance(reason, str) and reason else "activated over the API",
        force=body.get("force") is True,
        after_epoch=after,
        detail={"detail": detail} if detail is not None else None,
    )
    return JSONResponse(status)


async def continuity_failover(request: Request) -> Response:
    body = await _optional_body(request)
    force = body.get("force") is True
    status = await _continuity(request).activate("failover", force=force)
    return JSONResponse(status)


async def continuity_deactivate(request: Request) -> Response:
    body = await _optional_body(request)
    reason = body.get("reason")
    return JSONResponse(
        await _continuity(request).deactivate(reason if isinstance(reason, str) and reason else "deactivated")
    )


async def continuity_failback(request: Request) -> Response:
    body = await _optional_body(request)
    to = body.get("to")
    if not isinstance(to, str) or not to:
        raise bad_request("InvalidRequestContent", "/to: expected the peer's name or URL")
    _continuity(request)
    return JSONResponse(await _location(request).failback(to))


async def continuity_handover(request: Request) -> Response:
    body = await _optional_body(request)
    location = _location(request)
    continuity = _continuity(request)
    if continuity.acting():
        raise ApiError(409, "LocationActive", "An active location does not take a handover.")
    epoch = body.get("epoch")
    if isinstance(epoch, int) and not isinstance(epoch, bool):
        await continuity.observe_epoch(epoch, f"the handover from {body.get('from')}")
    count = await location.import_handover(body.get("states", []))
    return JSONResponse({"imported": count, "epoch": continuity.epoch})


async def continuity_events(request: Request) -> Response:
    return JSONResponse({"value": _continuity(request).events(_limit(request))})


def _replication(request: Request) -> Replication:
    replication: Replication | None = getattr(request.app.state, "replication", None)
    if replication is None:
        raise ApiError(404, "ReplicationNotConfigured", "This location has no replication.")
    return replication


async def continuity_replicate(request: Request) -> Response:
    status, answer = await _replication(request).receiver.receive(await _json_body(request))
    return JSONResponse(answer, status_code=status)


async def continuity_replication(request: Request) -> Response:
    return JSONResponse(_replication(request).status())
