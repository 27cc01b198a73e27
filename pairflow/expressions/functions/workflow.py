"""Workflow functions: what a run has seen so far, read through the `WorkflowContext` protocol.

`body('X')` is `actions('X').outputs.body`, `outputs('X')` is `actions('X').outputs`,
`triggerBody()` is `trigger().outputs.body`, and so on, exactly as documented. Form data is read
from a body's "$formdata" list ([{key, value}]) or form-encoded content; multipart parts from
"$multipart" ([{headers, body}]).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from pairflow.errors import ExpressionEvaluationError
from pairflow.expressions.context import WorkflowContext
from pairflow.expressions.functions import args
from pairflow.expressions.registry import function
from pairflow.expressions.values import content_text, is_content
from pairflow.jsontypes import JSON


def _context(ctx: WorkflowContext | None, name: str) -> WorkflowContext:
    if ctx is None:
        raise ExpressionEvaluationError(
            f"The template language function '{name}' cannot be evaluated because there is no "
            "workflow context"
        )
    return ctx


def _field(value: JSON, key: str) -> JSON:
    return value.get(key) if isinstance(value, dict) else None


def _action(ctx: WorkflowContext | None, name: str, function_name: str) -> JSON:
    return _context(ctx, function_name).action_result(args.text(name, function_name, 0))


@function("actions", 1, context=True)
def actions(ctx: WorkflowContext | None, name: JSON) -> JSON:
    return _action(ctx, name, "actions")


@function("action", 0, context=True)
def action(ctx: WorkflowContext | None) -> JSON:
    return _context(ctx, "action").current_action()


@function("outputs", 1, context=True)
def outputs(ctx: WorkflowContext | None, name: JSON) -> JSON:
    return _field(_action(ctx, name, "outputs"), "outputs")


@function("actionOutputs", 1, context=True)
def action_outputs(ctx: WorkflowContext | None, name: JSON) -> JSON:
    return _field(_action(ctx, name, "actionOutputs"), "outputs")


@function("body", 1, context=True)
def body(ctx: WorkflowContext | None, name: JSON) -> JSON:
    return _field(_field(_action(ctx, name, "body"), "outputs"), "body")


@function("actionBody", 1, context=True)
def action_body(ctx: WorkflowContext | None, name: JSON) -> JSON:
    return _field(_field(_action(ctx, name, "actionBody"), "outputs"), "body")


@function("trigger", 0, context=True)
def trigger(ctx: WorkflowContext | None) -> JSON:
    return _context(ctx, "trigger").trigger_result()


@function("triggerOutputs", 0, context=True)
def trigger_outputs(ctx: WorkflowContext | None) -> JSON:
    return _field(_context(ctx, "triggerOutputs").trigger_result(), "outputs")


@function("triggerBody", 0, context=True)
def trigger_body(ctx: WorkflowContext | None) -> JSON:
    return _field(_field(_context(ctx, "triggerBody").trigger_result(), "outputs"), "body")


@function("variables", 1, context=True)
def variables(ctx: WorkflowContext | None, name: JSON) -> JSON:
    return _context(ctx, "variables").variable(args.text(name, "variables", 0))


@function("parameters", 1, context=True)
def parameters(ctx: WorkflowContext | None, name: JSON) -> JSON:
    return _context(ctx, "parameters").parameter(args.text(name, "parameters", 0))


@function("appsetting", 1, context=True)
def appsetting(ctx: WorkflowContext | None, name: JSON) -> JSON:
    return _context(ctx, "appsetting").app_setting(args.text(name, "appsetting", 0))


@function("item", 0, context=True)
def item(ctx: WorkflowContext | None) -> JSON:
    return _context(ctx, "item").item()


@function("items", 1, context=True)
def items(ctx: WorkflowContext | None, name: JSON) -> JSON:
    return _context(ctx, "items").items(args.text(name, "items", 0))


@function("iterationIndexes", 1, context=True)
def iteration_indexes(ctx: WorkflowContext | None, name: JSON) -> JSON:
    return _context(ctx, "iterationIndexes").iteration_indexes(args.text(name, "iterationIndexes", 0))


@function("result", 1, context=True)
def result(ctx: WorkflowContext | None, name: JSON) -> JSON:
    return _context(ctx, "result").result(args.text(name, "result", 0))


@function("workflow", 0, context=True)
def workflow(ctx: WorkflowContext | None) -> JSON:
    return _context(ctx, "workflow").workflow()


@function("listCallbackUrl", 0, context=True)
def list_callback_url(ctx: WorkflowContext | None) -> JSON:
    """The current action's "callbackUrl" (set by the engine for webhooks), else workflow()'s."""
    context = _context(ctx, "listCallbackUrl")
    try:
        url = _field(context.current_action(), "callbackUrl")
    except ExpressionEvaluationError:
        url = None
    if not isinstance(url, str):
        url = _field(context.workflow(), "callbackUrl")
    if not isinstance(url, str):
        raise ExpressionEvaluationError(
            "The template language function 'listCallbackUrl' is not available here: "
            "no callback URL in this context"
        )
    return url


def _form_pairs(body_value: JSON, where: str) -> list[tuple[str, JSON]]:
    form = _field(body_value, "$formdata")
    if isinstance(form, list):
        return [
            (str(_field(entry, "key")), _field(entry, "value")) for entry in form if isinstance(entry, dict)
        ]
    text: str | None = None
    if isinstance(body_value, dict) and is_content(body_value):
        text = content_text(body_value)
    elif isinstance(body_value, str):
        text = body_value
    if text is None:
        raise ExpressionEvaluationError(f"The outputs of {where} are not form-data or form-encoded")
    return [(key, value) for key, value in parse_qsl(text, keep_blank_values=True)]


def _single(pairs: list[tuple[str, JSON]], key: str, name: str) -> JSON:
    matches = [value for k, value in pairs if k == key]
    if len(matches) > 1:
        raise ExpressionEvaluationError(
            f"The template language function '{name}' found more than one value for the key '{key}'"
        )
    return matches[0] if matches else None


def _multipart(body_value: JSON, index: JSON, name: str, where: str) -> JSON:
    position = args.integer(index, name, 1 if name == "multipartBody" else 0)
    parts = _field(body_value, "$multipart")
    if not isinstance(parts, list):
        raise ExpressionEvaluationError(f"The outputs of {where} are not multipart")
    if not 0 <= position < len(parts):
        raise ExpressionEvaluationError(
            f"The template language function '{name}' index {position} is outside bounds "
            f"(0, {len(parts) - 1})"
        )
    return _field(parts[position], "body")


def _action_body(ctx: WorkflowContext | None, name: JSON, function_name: str) -> Any:
    return _field(_field(_action(ctx, name, function_name), "outputs"), "body")


def _trigger_body(ctx: WorkflowContext | None, function_name: str) -> Any:
    return _field(_field(_context(ctx, function_name).trigger_result(), "outputs"), "body")


@function("formDataValue", 2, context=True)
def form_data_value(ctx: WorkflowContext | None, name: JSON, key: JSON) -> JSON:
    pairs = _form_pairs(_action_body(ctx, name, "formDataValue"), f"action '{name}'")
    return _single(pairs, args.text(key, "formDataValue", 1), "formDataValue")


@function("formDataMultiValues", 2, context=True)
def form_data_multi_values(ctx: WorkflowContext | None, name: JSON, key: JSON) -> JSON:
    pairs = _form_pairs(_action_body(ctx, name, "formDataMultiValues"), f"action '{name}'")
    wanted = args.text(key, "formDataMultiValues", 1)
    return [value for k, value in pairs if k == wanted]


@function("triggerFormDataValue", 1, context=True)
def trigger_form_data_value(ctx: WorkflowContext | None, key: JSON) -> JSON:
    pairs = _form_pairs(_trigger_body(ctx, "triggerFormDataValue"), "the trigger")
    return _single(pairs, args.text(key, "triggerFormDataValue", 0), "triggerFormDataValue")


@function("triggerFormDataMultiValues", 1, context=True)
def trigger_form_data_multi_values(ctx: WorkflowContext | None, key: JSON) -> JSON:
    pairs = _form_pairs(_trigger_body(ctx, "triggerFormDataMultiValues"), "the trigger")
    wanted = args.text(key, "triggerFormDataMultiValues", 0)
    return [value for k, value in pairs if k == wanted]


@function("multipartBody", 2, context=True)
def multipart_body(ctx: WorkflowContext | None, name: JSON, index: JSON) -> JSON:
    return _multipart(_action_body(ctx, name, "multipartBody"), index, "multipartBody", f"action '{name}'")


@function("triggerMultipartBody", 1, context=True)
def trigger_multipart_body(ctx: WorkflowContext | None, index: JSON) -> JSON:
    return _multipart(
        _trigger_body(ctx, "triggerMultipartBody"), index, "triggerMultipartBody", "the trigger"
    )
