"""The one route table: every HTTP route of a location, from which both the Starlette routes and the
OpenAPI 3.1 document are built, so the two cannot drift apart.

Each handler is wrapped to check the API key (for `/api` routes) and to render `ApiError`s and the
errors pairflow raises on purpose in Logic Apps' `{"error": {"code", "message"}}` shape.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from pairflow import __version__
from pairflow.errors import InputError, StoreError
from pairflow.jsontypes import JSONObject
from pairflow.server import api, health, request_trigger
from pairflow.server.auth import require_api_key
from pairflow.server.problems import ApiError

Handler = Callable[[Request], Awaitable[Response]]
INVOKE_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True, slots=True)
class RouteSpec:
    path: str  # Starlette syntax: {name} or {name:path}
    methods: tuple[str, ...]
    handler: Handler
    summary: str
    tag: str
    auth: bool = True  # the management API key is required
    body: str | None = None  # what the JSON request body is, when there is one
    ok: int = 200


async def openapi_json(request: Request) -> Response:
    return JSONResponse(openapi_document())


WF = "/api/workflows/{name}"
TR = WF + "/triggers/{trigger}"
INVOKE = "/workflows/{name}/triggers/{trigger}/invoke"
CONT = "/api/continuity"

ROUTES: tuple[RouteSpec, ...] = (
    RouteSpec(
        "/api/workflows",
        ("GET",),
        api.list_workflows,
        "List deployed workflows (latest versions).",
        "workflows",
    ),
    RouteSpec(
        WF,
        ("PUT",),
        api.put_workflow,
        "Deploy or update a workflow; a changed definition or parameters makes a new version.",
        "workflows",
        body="workflow",
        ok=201,
    ),
    RouteSpec(
        WF,
        ("GET",),
        api.get_workflow,
        "A workflow's latest version, state, triggers, definition and parameters (secure values redacted).",
        "workflows",
    ),
    RouteSpec(
        WF,
        ("DELETE",),
        api.delete_workflow,
        "Delete a workflow; its runs stay readable.",
        "workflows",
        ok=204,
    ),
    RouteSpec(
        WF + "/versions", ("GET",), api.list_versions, "Every stored version, newest first.", "workflows"
    ),
    RouteSpec(
        WF + "/enable",
        ("POST",),
        api.enable_workflow,
        "Enable the workflow: its triggers fire again.",
        "workflows",
    ),
    RouteSpec(
        WF + "/disable",
        ("POST",),
        api.disable_workflow,
        "Disable the workflow: triggers stop firing and callback URLs answer 409.",
        "workflows",
    ),
    RouteSpec(
        WF + "/regenerateAccessKey",
        ("POST",),
        api.regenerate_access_key,
        "Replace the key that signs callback URLs; old URLs stop working.",
        "workflows",
    ),
    RouteSpec(
        WF + "/accessKey",
        ("PUT",),
        api.put_access_key,
        "Set the key that signs callback URLs (the same in every location behind a front door).",
        "workflows",
        body="accessKey",
    ),
    RouteSpec(
        TR + "/listCallbackUrl",
        ("POST",),
        api.list_callback_url,
        "The signed callback URL of a Request or HttpWebhook trigger.",
        "triggers",
    ),
    RouteSpec(
        TR + "/history", ("GET",), api.trigger_history, "The trigger's history, newest first.", "triggers"
    ),
    RouteSpec(
        TR + "/state", ("GET",), api.get_trigger_state, "Export the trigger's state as JSON.", "triggers"
    ),
    RouteSpec(
        TR + "/state",
        ("PUT",),
        api.put_trigger_state,
        "Import a trigger state exported elsewhere.",
        "triggers",
        body="state",
    ),
    RouteSpec(
        "/api/runs",
        ("GET",),
        api.list_runs,
        "Runs, newest first; filter by workflow, status, trigger, since, until; limit.",
        "runs",
    ),
    RouteSpec(
        "/api/runs/{id}",
        ("GET",),
        api.get_run,
        "One run: every action's inputs, outputs, status, timing and attempts, secrets redacted.",
        "runs",
    ),
    RouteSpec("/api/runs/{id}/cancel", ("POST",), api.cancel_run, "Cancel a running run.", "runs"),
    RouteSpec(
        "/api/runs/{id}/resubmit",
        ("POST",),
        api.resubmit_run,
        "Start a new run of the workflow's latest version with the same trigger outputs.",
        "runs",
        ok=202,
    ),
    RouteSpec(
        INVOKE,
        INVOKE_METHODS,
        request_trigger.invoke,
        "Run a Request trigger (or an HttpWebhook callback); signed with sp, sv and sig.",
        "invoke",
        auth=False,
        body="any",
    ),
    RouteSpec(
        INVOKE + "/{relative:path}",
        INVOKE_METHODS,
        request_trigger.invoke,
        "Run a Request trigger with a relative path such as customers/{id}.",
        "invoke",
        auth=False,
        body="any",
    ),
    RouteSpec(
        CONT + "/status", ("GET",), api.continuity_status, "Epoch, role, lease and peers.", "continuity"
    ),
    RouteSpec(
        CONT + "/lease",
        ("POST",),
        api.continuity_lease,
        "A peer asks this location to confirm (or release) its lease at an epoch.",
        "continuity",
        body="lease",
    ),
    RouteSpec(
        CONT + "/activate",
        ("POST",),
        api.continuity_activate,
        "Activate this location under a new epoch (refused while a lease it confirmed runs).",
        "continuity",
        body="any",
    ),
    RouteSpec(
        CONT + "/deactivate",
        ("POST",),
        api.continuity_deactivate,
        "Stop acting as active and release the lease.",
        "continuity",
        body="any",
    ),
    RouteSpec(
        CONT + "/failover",
        ("POST",),
        api.continuity_failover,
        "Activate this location; with force, alone and after waiting out the lease it confirmed.",
        "continuity",
        body="any",
    ),
    RouteSpec(
        CONT + "/failback",
        ("POST",),
        api.continuity_failback,
        "Planned: stop new work here, hand trigger state to the peer `to`, then activate it.",
        "continuity",
        body="any",
    ),
    RouteSpec(
        CONT + "/handover",
        ("POST",),
        api.continuity_handover,
        "Import the trigger states a location hands over (passive locations only).",
        "continuity",
        body="any",
    ),
    RouteSpec(
        CONT + "/replicate",
        ("POST",),
        api.continuity_replicate,
        "A peer ships runs and trigger state to store as replicas (refused from an older epoch).",
        "continuity",
        body="replication",
    ),
    RouteSpec(
        CONT + "/replication",
        ("GET",),
        api.continuity_replication,
        "Replication to and from the peers: pending runs, watermarks, replicas received and adopted.",
        "continuity",
    ),
    RouteSpec(
        CONT + "/events",
        ("GET",),
        api.continuity_events,
        "The location's continuity history, newest first.",
        "continuity",
    ),
    RouteSpec("/openapi.json", ("GET",), openapi_json, "This OpenAPI 3.1 document.", "meta", auth=False),
    RouteSpec("/health/live", ("GET",), health.live, "The process is up.", "health", auth=False),
    RouteSpec(
        "/health/ready",
        ("GET",),
        health.ready,
        "The location can serve: store, triggers, scheduler.",
        "health",
        auth=False,
    ),
)


def error_response(error: ApiError) -> Response:
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers)


def _wrap(spec: RouteSpec) -> Handler:
    handler = spec.handler

    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        try:
            if spec.auth:
                require_api_key(request.headers, request.app.state.settings.api_keys)
            return await handler(request)
        except ApiError as error:
            return error_response(error)
        except InputError as error:
            return error_response(ApiError(400, "InvalidRequest", error.message))
        except StoreError as error:
            return error_response(ApiError(503, "StoreUnavailable", error.message))

    return endpoint


def starlette_routes() -> list[Route]:
    """The routes, trigger endpoints first: the router tries them in order, and those take the
    traffic (no other path starts with /workflows/, so the order changes no match)."""
    ordered = sorted(ROUTES, key=lambda spec: not spec.path.startswith("/workflows/"))
    return [Route(spec.path, _wrap(spec), methods=list(spec.methods)) for spec in ordered]


# -- OpenAPI ---------------------------------------------------------------------------------------
_PARAM = re.compile(r"\{([^}:]+)(?::[^}]+)?\}")


def openapi_path(path: str) -> str:
    return _PARAM.sub(r"{\1}", path)


_ERROR_SCHEMA: JSONObject = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"pointer": {"type": "string"}, "message": {"type": "string"}},
                    },
                },
            },
            "required": ["code", "message"],
        }
    },
}

_QUERIES: dict[str, list[tuple[str, str]]] = {
    "/api/runs": [
        ("workflow", "only runs of this workflow"),
        ("status", "Running, Succeeded, Failed or Cancelled"),
        ("trigger", "only runs started by this trigger"),
        ("since", "created at or after (ISO 8601)"),
        ("until", "created before (ISO 8601)"),
        ("limit", "at most this many (1-1000, default 100)"),
    ],
    TR + "/history": [("limit", "at most this many (1-1000, default 100)")],
    CONT + "/events": [("limit", "at most this many (1-1000, default 100)")],
    INVOKE: [
        ("api-version", "2022-05-01"),
        ("sp", "/triggers/{trigger}/run"),
        ("sv", "1.0"),
        ("sig", "signature"),
    ],
}
_QUERIES[INVOKE + "/{relative:path}"] = _QUERIES[INVOKE]


def openapi_document() -> JSONObject:
    paths: dict[str, JSONObject] = {}
    for spec in ROUTES:
        path = openapi_path(spec.path)
        item = paths.setdefault(path, {})
        parameters: list[JSONObject] = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in _PARAM.findall(spec.path)
        ]
        parameters += [
            {
                "name": name,
                "in": "query",
                "required": False,
                "description": text,
                "schema": {"type": "string"},
            }
            for name, text in _QUERIES.get(spec.path, [])
        ]
        for method in spec.methods:
            operation: JSONObject = {
                "operationId": f"{spec.handler.__name__}_{method.lower()}",
                "summary": spec.summary,
                "tags": [spec.tag],
                "parameters": parameters,
                "responses": {
                    str(spec.ok): {"description": "success"},
                    "default": {
                        "description": "error",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                    },
                },
            }
            if spec.auth:
                operation["security"] = [{"bearer": []}, {"apiKey": []}]
            if spec.body is not None and method in ("PUT", "POST", "PATCH"):
                operation["requestBody"] = {
                    "required": spec.body != "any",
                    "content": {
                        "application/json": {"schema": {"type": "object"} if spec.body != "any" else {}}
                    },
                }
            item[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "pairflow location API", "version": __version__},
        "paths": paths,
        "components": {
            "schemas": {"Error": _ERROR_SCHEMA},
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"},
            },
        },
    }
