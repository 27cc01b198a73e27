"""The Workflow action: runs another workflow synchronously and returns its response."""

from __future__ import annotations

from pairflow.actions.base import ActionContext, ActionResult, executor
from pairflow.actions.common import (
    ExecutorFailure,
    evaluate,
    guarded,
    require_object,
    status_name,
    succeeded,
    template_failure,
    to_text,
)
from pairflow.errors import ActionFailure, InputError
from pairflow.jsontypes import JSON, JSONObject


@executor("Workflow")
@guarded
async def workflow(ctx: ActionContext) -> ActionResult:
    action = ctx.action.name
    inputs = require_object(evaluate(ctx, ctx.action.inputs), "inputs", action)
    host = require_object(inputs.get("host"), "'host' value", action)
    target = require_object(host.get("workflow"), "'host.workflow' value", action)
    workflow_id = target.get("id")
    name = workflow_id.rstrip("/").rsplit("/", 1)[-1] if isinstance(workflow_id, str) else ""
    if not name:
        raise template_failure(
            action, "The 'host.workflow.id' property must name the workflow to call.", inputs=inputs
        )
    trigger = host.get("triggerName", "manual")
    if not isinstance(trigger, str) or not trigger:
        raise template_failure(action, "The 'host.triggerName' property must be a string.", inputs=inputs)
    headers = require_object(inputs.get("headers") or {}, "'headers' value", action)
    try:
        reply = await ctx.call_workflow(
            name, trigger, inputs.get("body"), {k: to_text(v) for k, v in headers.items()}
        )
    except ActionFailure as err:
        raise ExecutorFailure(err.message, err.code, inputs=inputs) from err
    except InputError as err:
        raise ExecutorFailure(err.message, "WorkflowNotFound", inputs=inputs) from err
    status = reply.get("statusCode", 200)
    outputs: JSONObject = {"statusCode": status, "headers": reply.get("headers") or {}}
    if reply.get("body") is not None:
        outputs["body"] = reply["body"]
    code = status_name(status) if isinstance(status, int) else "OK"
    if isinstance(status, int) and status >= 400:
        error_code, message = _child_error(reply.get("body"), code, name, status)
        raise ExecutorFailure(message, error_code, inputs=inputs, outputs=outputs, status_code=code)
    return succeeded(inputs=inputs, outputs=outputs, code=code)


def _child_error(body: JSON, code: str, name: str, status: int) -> tuple[str, str]:
    """The child's own error when its body carries one ({error: {code, message}}), else its status."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("code"), str):
        return error["code"], str(error.get("message") or f"The workflow '{name}' failed.")
    return code, f"The workflow '{name}' responded with status code '{status}'."
