"""The Response action: computes the HTTP response of a request-triggered run; the engine sends it."""

from __future__ import annotations

from pairflow.actions.base import ActionContext, ActionResult, executor
from pairflow.actions.common import (
    evaluate,
    guarded,
    json_type,
    require_object,
    succeeded,
    template_failure,
    to_text,
)
from pairflow.jsontypes import JSON, JSONObject


@executor("Response")
@guarded
async def response(ctx: ActionContext) -> ActionResult:
    action = ctx.action.name
    inputs = require_object(evaluate(ctx, ctx.action.inputs), "inputs", action)
    status = _status_code(action, inputs.get("statusCode", 200))
    raw_headers = inputs.get("headers") or {}
    headers = require_object(raw_headers, "'headers' value", action)
    outputs: JSONObject = {"statusCode": status, "headers": {k: to_text(v) for k, v in headers.items()}}
    if inputs.get("body") is not None:
        outputs["body"] = inputs["body"]
    return succeeded(inputs=inputs, outputs=outputs)


def _status_code(action: str, value: JSON) -> int:
    code: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        code = value
    elif isinstance(value, str) and value.strip().isdigit():
        code = int(value.strip())
    if code is None or not 100 <= code <= 599:
        shown = value if isinstance(value, str | int) else json_type(value)
        raise template_failure(
            action, f"The response status code '{shown}' is not an integer from 100 to 599."
        )
    return code
