"""The Http action: one outbound HTTP call with Logic Apps' retry policies, action timeout and
asynchronous (202 + Location) polling pattern, recorded as {statusCode, headers, body}.

Every wait (between retries, between polls) goes through `ctx.sleep`, the engine's injected clock.
Each request carries the run id and the attempt's idempotency key, so a receiver can drop the
duplicates that at-least-once execution may send.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import random
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

import httpx

from pairflow.actions.base import ActionContext, ActionResult, executor
from pairflow.actions.common import (
    ExecutorFailure,
    evaluate,
    guarded,
    json_type,
    parse_duration,
    require_object,
    status_name,
    template_failure,
    to_text,
)
from pairflow.actions.retry import RetryPolicy, is_retryable, parse_retry_policy
from pairflow.definition.model import Status
from pairflow.jsontypes import JSON, JSONObject

DEFAULT_REQUEST_TIMEOUT = 120.0  # seconds; Logic Apps' limit on one outbound request
DEFAULT_POLL_INTERVAL = 10.0  # seconds between status polls when the service sends no Retry-After
SANITIZED = "*sanitized*"
_TEXT_TYPES = ("application/xml", "application/javascript", "application/x-www-form-urlencoded")


@dataclass(frozen=True, slots=True)
class _Request:
    method: str
    url: httpx.URL
    headers: dict[str, str]
    content: bytes | None


class _TimedOutError(Exception):
    """The action's time limit ran out (internal signal, never leaves this module)."""


@dataclass
class _Budget:
    """Time spent by the action: wall time of requests plus the time slept on the injected clock."""

    limit: float | None  # seconds
    spent: float = 0.0

    def remaining(self) -> float | None:
        return None if self.limit is None else self.limit - self.spent


@dataclass
class _Call:
    ctx: ActionContext
    policy: RetryPolicy
    budget: _Budget
    rng: random.Random
    history: list[JSONObject] = field(default_factory=list)

    async def sleep(self, seconds: float) -> None:
        remaining = self.budget.remaining()
        if remaining is not None and seconds >= remaining:
            raise _TimedOutError
        await self.ctx.sleep(seconds)
        self.budget.spent += seconds

    async def send_once(self, request: _Request) -> httpx.Response:
        remaining = self.budget.remaining()
        if remaining is not None and remaining <= 0:
            raise _TimedOutError
        limited = remaining is not None and remaining < DEFAULT_REQUEST_TIMEOUT
        timeout = remaining if remaining is not None and limited else DEFAULT_REQUEST_TIMEOUT
        started = time.monotonic()
        try:
            async with asyncio.timeout(timeout):
                return await self.ctx.http.request(
                    request.method,
                    request.url,
                    headers=request.headers,
                    content=request.content,
                    timeout=httpx.Timeout(timeout),
                    follow_redirects=False,
                )
        except (TimeoutError, httpx.TimeoutException):
            if limited:
                raise _TimedOutError from None
            raise
        finally:
            self.budget.spent += time.monotonic() - started

    async def exchange(self, request: _Request) -> httpx.Response:
        """Send `request`, retrying per policy on 408, 429, 5xx and transport errors."""
        retry = 0
        while True:
            started = self.ctx.now()
            response: httpx.Response | None = None
            try:
                response = await self.send_once(request)
                failure_code, failure_message = status_name(response.status_code), ""
                if not is_retryable(response.status_code):
                    return response
            except httpx.TimeoutException:
                failure_code = "GatewayTimeout"
                failure_message = (
                    "Http request failed: the server did not respond "
                    f"within {DEFAULT_REQUEST_TIMEOUT:g} seconds."
                )
            except httpx.TransportError as err:
                failure_code = "BadRequest"
                failure_message = f"Http request failed as there is an error: '{err or type(err).__name__}'."
            if retry >= self.policy.count:
                if response is not None:
                    return response
                raise ExecutorFailure(failure_message, failure_code)
            retry += 1
            entry: JSONObject = {
                "startTime": started.isoformat(),
                "endTime": self.ctx.now().isoformat(),
                "code": failure_code,
            }
            if response is None:
                entry["error"] = {"code": failure_code, "message": failure_message}
            self.history.append(entry)
            after = _retry_after(response, self.ctx) if response is not None else None
            await self.sleep(after if after is not None else self.policy.delay(retry, self.rng))


def _retry_after(response: httpx.Response, ctx: ActionContext) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (moment - ctx.now()).total_seconds())


@executor("Http")
@guarded
async def http(ctx: ActionContext) -> ActionResult:
    action = ctx.action.name
    inputs = require_object(evaluate(ctx, ctx.action.inputs), "inputs", action)
    recorded = _recorded_inputs(inputs)
    try:
        request, auth_headers = _build_request(ctx, inputs)
        policy = parse_retry_policy(inputs.get("retryPolicy"))
        limit_text, limit = _time_limit(ctx)
    except ValueError as err:
        raise template_failure(action, str(err), inputs=recorded) from err
    call = _Call(ctx, policy, _Budget(limit), random.Random(ctx.idempotency_key))
    try:
        response = await call.exchange(request)
        if response.status_code == 202 and "disableasyncpattern" not in ctx.action.operation_options:
            response = await _poll(call, request, response, auth_headers)
    except _TimedOutError:
        return ActionResult(
            status=Status.TIMED_OUT,
            inputs=recorded,
            error={
                "code": "ActionTimedOut",
                "message": f"The action '{action}' has timed out after '{limit_text}'.",
            },
            code="ActionTimedOut",
            retry_history=tuple(call.history),
        )
    except ExecutorFailure as failure:
        failure.inputs = recorded
        return dataclasses.replace(failure.result(), retry_history=tuple(call.history))
    outputs = _outputs(response)
    code = status_name(response.status_code)
    if 200 <= response.status_code < 300:
        return ActionResult(
            status=Status.SUCCEEDED,
            inputs=recorded,
            outputs=outputs,
            code=code,
            retry_history=tuple(call.history),
        )
    return ActionResult(
        status=Status.FAILED,
        inputs=recorded,
        outputs=outputs,
        error={
            "code": code,
            "message": f"The HTTP request to '{request.url}' returned status code "
            f"{response.status_code} ({code}).",
        },
        code=code,
        retry_history=tuple(call.history),
    )


async def _poll(
    call: _Call, request: _Request, response: httpx.Response, headers: dict[str, str]
) -> httpx.Response:
    """The asynchronous pattern: while the service answers 202 with a Location, wait and GET it."""
    url = request.url
    while response.status_code == 202 and "location" in response.headers:
        url = url.join(response.headers["location"])
        after = _retry_after(response, call.ctx)
        await call.sleep(after if after is not None else DEFAULT_POLL_INTERVAL)
        response = await call.exchange(_Request("GET", url, dict(headers), None))
    return response


def _time_limit(ctx: ActionContext) -> tuple[str, float | None]:
    limit = evaluate(ctx, ctx.action.raw.get("limit"))
    timeout = limit.get("timeout") if isinstance(limit, dict) else None
    if timeout is None:
        return "", None
    return str(timeout), parse_duration(timeout)


def _build_request(ctx: ActionContext, inputs: JSONObject) -> tuple[_Request, dict[str, str]]:
    """The request to send, and the headers that polling requests repeat (tracking and credentials)."""
    method = inputs.get("method")
    if not isinstance(method, str) or not method.strip():
        raise ValueError("The 'method' property of the Http action inputs must be a string such as 'GET'")
    uri = inputs.get("uri")
    try:
        url = httpx.URL(uri) if isinstance(uri, str) else None
    except httpx.InvalidURL:
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"The 'uri' property value '{uri}' is not an absolute http or https URI")
    queries = inputs.get("queries") or {}
    if not isinstance(queries, dict):
        raise ValueError(
            f"The 'queries' property must be an object, not a value of type '{json_type(queries)}'"
        )
    if queries:
        url = url.copy_merge_params({k: to_text(v) for k, v in queries.items()})
    raw_headers = inputs.get("headers") or {}
    if not isinstance(raw_headers, dict):
        raise ValueError(
            f"The 'headers' property must be an object, not a value of type '{json_type(raw_headers)}'"
        )
    fixed = {"x-ms-workflow-run-id": ctx.run_id, "Idempotency-Key": ctx.idempotency_key}
    fixed.update(_auth_headers(inputs.get("authentication")))
    headers = {**fixed, **{k: to_text(v) for k, v in raw_headers.items()}}
    if isinstance(inputs.get("cookie"), str):
        headers["Cookie"] = inputs["cookie"]
    content, content_type = _body(inputs.get("body"))
    if content_type and not any(k.lower() == "content-type" for k in headers):
        headers["Content-Type"] = content_type
    polling = {k: v for k, v in headers.items() if k.lower() not in ("content-type", "content-length")}
    return _Request(method.strip().upper(), url, headers, content), polling


def _auth_headers(auth: JSON) -> dict[str, str]:
    if auth is None:
        return {}
    if not isinstance(auth, dict):
        raise ValueError("The 'authentication' property must be an object")
    kind = str(auth.get("type", "")).lower()
    if kind == "basic":
        pair = f"{to_text(auth.get('username'))}:{to_text(auth.get('password'))}"
        return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}
    if kind == "raw":
        return {"Authorization": to_text(auth.get("value"))}
    if kind == "none":
        return {}
    raise ValueError(
        f"The authentication type '{auth.get('type')}' is not supported by pairflow; use 'Basic' or 'Raw'"
    )


def _body(body: JSON) -> tuple[bytes | None, str | None]:
    if body is None:
        return None, None
    if isinstance(body, str):
        return body.encode(), "text/plain; charset=utf-8"
    if isinstance(body, dict) and "$content" in body:
        try:
            data = base64.b64decode(str(body["$content"]), validate=True)
        except ValueError as err:
            raise ValueError("The body '$content' property is not valid base64") from err
        return data, str(body.get("$content-type", "application/octet-stream"))
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode(), "application/json"


def _recorded_inputs(inputs: JSONObject) -> JSONObject:
    """The inputs as history shows them, with credentials sanitized as Logic Apps does."""
    auth = inputs.get("authentication")
    if not isinstance(auth, dict):
        return inputs
    hidden = {
        k: (SANITIZED if k.lower() in ("password", "value", "secret", "pfx") else v) for k, v in auth.items()
    }
    return {**inputs, "authentication": hidden}


def _outputs(response: httpx.Response) -> JSONObject:
    headers: dict[str, str] = {}
    for raw_name, raw_value in response.headers.raw:
        name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    outputs: JSONObject = {"statusCode": response.status_code, "headers": headers}
    if response.content:
        outputs["body"] = _parse_body(response)
    return outputs


def _parse_body(response: httpx.Response) -> JSON:
    """JSON for JSON content types, text for textual ones, else Logic Apps' binary shape."""
    content_type = response.headers.get("content-type", "")
    mime = content_type.split(";")[0].strip().lower()
    if mime in ("application/json", "text/json") or mime.endswith("+json"):
        try:
            return json.loads(response.text)
        except json.JSONDecodeError:
            return response.text
    if mime.startswith("text/") or mime in _TEXT_TYPES or mime.endswith("+xml"):
        return response.text
    return {
        "$content-type": content_type or "application/octet-stream",
        "$content": base64.b64encode(response.content).decode(),
    }
