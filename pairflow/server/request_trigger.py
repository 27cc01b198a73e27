"""The trigger endpoint: `/workflows/{name}/triggers/{trigger}/invoke[/{relativePath}]`.

One request becomes one committed run, or nothing at all. The checks run in this order, and every
refusal happens before anything is written: workflow and trigger exist (404), signature (401),
workflow active in this location (503 LocationPassive, naming the active one), workflow enabled
(409), HTTP method (405), relative path (404), body size (413), body syntax and schema (400),
waiting-run admission (429). Then the run and its trigger-history event are committed
in one transaction, handed to the dispatcher, and the caller gets either the run's Response action
reply or 202 Accepted with the run's status URL. Request triggers and HttpWebhook callbacks share it.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import functools
import json
from typing import cast
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from pairflow.continuity.state import active_location_hint
from pairflow.engine.dispatcher import Dispatcher, FiredRun
from pairflow.engine.runner import ordered_id
from pairflow.errors import InputError
from pairflow.jsontypes import JSON, JSONObject
from pairflow.server.body import decode_body, read_limited
from pairflow.server.location import (
    DispatcherLike,
    Endpoint,
    Location,
    RunReplyLike,
    match_relative_path,
)
from pairflow.server.problems import ApiError, not_found
from pairflow.store.codec import encode_json
from pairflow.store.records import RunRecord, TriggerEvent, TriggerFire

CALLBACK_TYPES = frozenset({"Request", "HttpWebhook"})


@functools.lru_cache(maxsize=1024)
def _query(raw: bytes) -> dict[str, str]:
    """A callback URL's query, parsed once per distinct URL: callers send the same one each time."""
    return dict(parse_qsl(raw.decode("latin-1"), keep_blank_values=True))


def _query_of(request: Request) -> dict[str, str]:
    """The request's query parameters (the last of a repeated name, as Starlette's `.get`); a copy."""
    return dict(_query(request.scope.get("query_string", b"")))


def _check_signature(endpoint: Endpoint, workflow: str, trigger: str, query: dict[str, str]) -> None:
    sp, sv, sig = query.get("sp"), query.get("sv"), query.get("sig")
    if not sp or not sv or not sig:
        raise ApiError(
            401,
            "DirectApiAuthorizationRequired",
            "The request must be authenticated by the Shared Access scheme: "
            "the permission ('sp'), version ('sv') and signature ('sig') query parameters are required.",
        )
    if not endpoint.signature_matches(workflow, trigger, sp, sv, sig):
        raise ApiError(
            401,
            "DirectApiInvalidAuthorizationSignature",
            "The provided shared access signature is not valid for this trigger.",
        )


def _check_schema(endpoint: Endpoint, trigger: str, body: JSON) -> None:
    validator = endpoint.schemas.get(trigger)
    if validator is None:
        return
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    if not errors:
        return
    details = [
        ("/" + "/".join(str(part) for part in error.absolute_path), error.message) for error in errors[:50]
    ]
    raise ApiError(
        400,
        "TriggerInputSchemaMismatch",
        f"The input body for trigger '{trigger}' of type 'Request' did not match its schema definition: "
        f"{details[0][0]}: {details[0][1]}",
        details,
    )


def _check_active(location: Location, workflow: str, endpoint: Endpoint) -> None:
    """Refuse a call to a workflow that is passive in this location, pointing at the active one.

    Whether it is active is the location's role and the workflow's deployment mode
    (`pairflow.continuity.roles`), the mode as cached with the endpoint. 503
    rather than 409: a front door or load balancer takes 503 as "try another backend", which is what
    the caller should do. Checked after the signature, so only holders of a valid callback URL learn
    which location is active.
    """
    if location.workflow_is_active(workflow, endpoint):
        return
    hint = active_location_hint(location.store)
    pointer = f"the active location is '{hint[0]}' ({hint[1]})" if hint else "the active location is unknown"
    headers: dict[str, str] = {}
    if hint:
        headers = {"x-pairflow-active-location": hint[0], "x-pairflow-active-location-url": hint[1]}
    raise ApiError(
        503,
        "LocationPassive",
        f"workflow '{workflow}' is passive in location '{location.name}'; {pointer}",
        headers=headers,
    )


async def _fire(
    location: Location, workflow: str, trigger: str, outputs: JSONObject, endpoint: Endpoint
) -> tuple[RunRecord, FiredRun | None]:
    """`Location.fire` on the hot path; returns once the run is durable.

    The run is created leased to the engine, which executes it at once when its workflow has room
    (`Dispatcher.start_fired`): its first commit writes the fire, so a Compose → Response run is one
    transaction, shared with the other calls of the same event-loop turn; it counts as executing
    from then on. Otherwise the fire is written (shared the same way, `Engine.fire`) and the run
    queued, its place held against the waiting-run limit while the commit awaits."""
    location.refuse_if_passive(workflow, endpoint)
    engine = location.engine
    try:
        run = engine.prepare_run(
            workflow,
            trigger_outputs=outputs,
            trigger_name=trigger,
            version=endpoint.version.version,
            lease=True,
        )
    except InputError as error:
        raise not_found("WorkflowNotFound", error.message) from None
    event = TriggerEvent(
        id=ordered_id(),
        workflow=workflow,
        trigger=trigger,
        status="Succeeded",
        fired_at=run.created_at,
        run_ids=(run.id,),
    )
    fire = TriggerFire(event=event, runs=[run])
    dispatcher = location.dispatcher
    if isinstance(dispatcher, Dispatcher):
        fired = dispatcher.start_fired(fire, want_reply=endpoint.has_response)
        if fired is not None:
            try:
                await fired.durable
            except BaseException:
                dispatcher.forget_fired(fired)
                raise
            return run, fired
    with _admitting(dispatcher, workflow):
        await engine.fire(fire)
        dispatcher.submit(run)
    return run, None


def _admitting(dispatcher: DispatcherLike, workflow: str) -> contextlib.AbstractContextManager[None]:
    """The dispatcher's hold on an admitted run's place while its commit awaits."""
    if isinstance(dispatcher, Dispatcher):
        return dispatcher.admitting(workflow)
    return contextlib.nullcontext()


def _status_url(location: Location, run_id: str) -> str:
    return f"{location.base_url}/api/runs/{run_id}"


async def invoke(request: Request) -> Response:
    location: Location = request.app.state.location
    settings = request.app.state.settings
    if not location.accepting:
        raise ApiError(
            503, "ServiceUnavailable", f"The location '{location.name}' is not accepting requests."
        )
    workflow = request.path_params["name"]
    trigger = request.path_params["trigger"]
    relative = request.path_params.get("relative", "")

    endpoint, trigger_def = location.trigger_of(workflow, trigger)
    if trigger_def.type not in CALLBACK_TYPES:
        raise ApiError(
            400,
            "InvalidTriggerType",
            f"The trigger '{trigger}' of type '{trigger_def.type}' cannot be invoked over HTTP.",
        )
    query = _query_of(request)
    _check_signature(endpoint, workflow, trigger, query)
    _check_active(location, workflow, endpoint)
    if not endpoint.version.enabled:
        raise ApiError(
            409, "WorkflowDisabled", f"The workflow '{workflow}' is disabled and cannot be triggered."
        )
    inputs = trigger_def.inputs if isinstance(trigger_def.inputs, dict) else {}
    method = inputs.get("method") if trigger_def.type == "Request" else None
    if isinstance(method, str) and method and request.method.upper() != method.upper():
        raise ApiError(
            405,
            "TriggerRequestMethodNotValid",
            f"The HTTP method for this request is not valid: expected '{method.upper()}' and actual "
            f"'{request.method.upper()}'.",
            headers={"Allow": method.upper()},
        )
    template = inputs.get("relativePath") if trigger_def.type == "Request" else None
    parameters: dict[str, str] = {}
    if isinstance(template, str) and template.strip("/"):
        matched = match_relative_path(template, relative)
        if matched is None:
            raise ApiError(
                404,
                "WorkflowTriggerPathNotFound",
                f"The path '{relative}' does not match the trigger's relative path '{template}'.",
            )
        parameters = matched
    elif relative.strip("/"):
        raise ApiError(
            404, "WorkflowTriggerPathNotFound", f"The trigger '{trigger}' has no relative path '{relative}'."
        )

    raw = await read_limited(request, settings.max_body_bytes)
    body = decode_body(raw, request.headers.get("content-type", ""))
    _check_schema(endpoint, trigger, body)
    location.admit(workflow)

    outputs: JSONObject = {
        "headers": dict(request.headers),
        "body": body,
        "queries": {key: value for key, value in query.items() if key != "sig"},
        "relativePathParameters": parameters,
    }
    run, fired = await _fire(location, workflow, trigger, outputs, endpoint)  # durable first
    try:
        return await _answer(location, endpoint, run, fired, settings.response_timeout)
    finally:
        if fired is not None:
            cast(Dispatcher, location.dispatcher).forget_fired(fired)


async def _answer(
    location: Location, endpoint: Endpoint, run: RunRecord, fired: FiredRun | None, timeout: float
) -> Response:
    """The caller's answer for a durable run: its Response, or 202 Accepted without one."""
    if location.acknowledge is not None:  # synchronous replication: a peer holds the run too
        await location.acknowledge(run.id)
    status_url = _status_url(location, run.id)
    if not endpoint.has_response:
        return JSONResponse(
            {"runId": run.id, "status": "Running"},
            status_code=202,
            headers={"x-ms-workflow-run-id": run.id, "Location": status_url},
        )
    reply: RunReplyLike | None
    if fired is not None:
        reply = await cast(Dispatcher, location.dispatcher).fired_reply(fired, timeout)
    else:
        reply = await location.dispatcher.wait_reply(run.id, timeout)
    if reply is None:
        raise ApiError(
            504,
            "ActionResponseTimedOut",
            "The workflow did not reach its Response action within the allotted "
            f"{timeout:g} seconds; the run goes on: see {status_url}.",
            headers={"x-ms-workflow-run-id": run.id, "Location": status_url},
        )
    if reply.response is None:
        raise ApiError(
            502,
            "NoResponse",
            f"The workflow run ended {reply.status} without running its Response action.",
            headers={"x-ms-workflow-run-id": run.id, "Location": status_url},
        )
    return render_reply(reply.response, run.id)


def render_reply(response: JSONObject, run_id: str) -> Response:
    """A Response action's {statusCode, headers, body} as an HTTP response."""
    status = response.get("statusCode", 200)
    try:
        code = int(status)
    except (TypeError, ValueError):
        code = 200
    headers = {str(k): _header_value(v) for k, v in (response.get("headers") or {}).items()}
    headers["x-ms-workflow-run-id"] = run_id
    has_type = any(k.lower() == "content-type" for k in headers)
    body = response.get("body")
    content: bytes
    if body is None:
        content = b""
    elif isinstance(body, str):
        content = body.encode("utf-8")
        if not has_type:
            headers["content-type"] = "text/plain; charset=utf-8"
    elif isinstance(body, dict) and "$content" in body and isinstance(body.get("$content"), str):
        try:
            content = base64.b64decode(body["$content"], validate=True)
        except (binascii.Error, ValueError):
            content = body["$content"].encode("utf-8")
        if not has_type and isinstance(body.get("$content-type"), str):
            headers["content-type"] = body["$content-type"]
    else:
        content = encode_json(body).encode("utf-8")
        if not has_type:
            headers["content-type"] = "application/json; charset=utf-8"
    return Response(content, status_code=code, headers=headers)


def _header_value(value: JSON) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))
