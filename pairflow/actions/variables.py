"""The variable actions: InitializeVariable, SetVariable, Increment/DecrementVariable and the two
Append actions.

Types and checks follow Logic Apps: a variable keeps its declared type, a value of another type is
refused with Logic Apps' message, and numbers only grow or shrink by numbers. Changes go through
`ctx.variables`, which the engine commits with the action's record.
"""

from __future__ import annotations

from pairflow.actions.base import ActionContext, ActionResult, executor
from pairflow.actions.common import (
    ExecutorFailure,
    evaluate,
    guarded,
    json_type,
    require_object,
    succeeded,
    template_failure,
    to_text,
)
from pairflow.jsontypes import JSON, JSONObject

# Declared type (lower case) -> the spelling Logic Apps uses in messages.
VARIABLE_TYPES = {
    "string": "String",
    "integer": "Integer",
    "float": "Float",
    "boolean": "Boolean",
    "array": "Array",
    "object": "Object",
}
# Which JSON types each variable type holds (null is allowed everywhere: a declared, empty variable).
_ACCEPTS = {
    "string": {"String"},
    "integer": {"Integer"},
    "float": {"Float", "Integer"},
    "boolean": {"Boolean"},
    "array": {"Array"},
    "object": {"Object"},
}


def _check_value(action: str, name: str, type_name: str, value: JSON, *, inputs: JSON) -> None:
    kind = json_type(value)
    if kind != "Null" and kind not in _ACCEPTS[type_name]:
        shown = VARIABLE_TYPES[type_name]
        raise template_failure(
            action,
            f"The variable '{name}' of type '{shown}' cannot be initialized or updated with value of type "
            f"'{kind}'. The variable '{name}' only supports values of types '{shown}'.",
            inputs=inputs,
        )


def _name(action: str, inputs: JSONObject, where: str = "inputs") -> str:
    name = inputs.get("name")
    if not isinstance(name, str) or not name:
        raise template_failure(
            action, f"The 'name' property of the action {where} must be a non-empty string."
        )
    return name


def _declared_type(ctx: ActionContext, name: str, inputs: JSON) -> str:
    if not ctx.variables.has(name):
        raise template_failure(
            ctx.action.name,
            f"The variable '{name}' has not been initialized; use an InitializeVariable action first.",
            inputs=inputs,
        )
    return ctx.variables.type_of(name).lower()


@executor("InitializeVariable")
@guarded
async def initialize_variable(ctx: ActionContext) -> ActionResult:
    action = ctx.action.name
    inputs = require_object(evaluate(ctx, ctx.action.inputs), "inputs", action)
    declarations = inputs.get("variables")
    if not isinstance(declarations, list) or not declarations:
        raise template_failure(action, "The 'variables' property must be a non-empty array.", inputs=inputs)
    checked: list[tuple[str, str, JSON]] = []
    for index, declaration in enumerate(declarations):
        where = f"variables[{index}]"
        entry = require_object(declaration, f"'{where}' value", action)
        name = _name(action, entry, where)
        raw_type = entry.get("type")
        type_name = raw_type.lower() if isinstance(raw_type, str) else ""
        if type_name not in VARIABLE_TYPES:
            raise template_failure(
                action,
                f"The variable '{name}' has type '{raw_type}'; the type must be one of "
                "'String, Integer, Float, Boolean, Array, Object'.",
                inputs=inputs,
            )
        if ctx.variables.has(name) or any(seen == name for seen, _, _ in checked):
            raise template_failure(
                action, f"The variable '{name}' has already been initialized.", inputs=inputs
            )
        value = entry.get("value")
        _check_value(action, name, type_name, value, inputs=inputs)
        checked.append((name, type_name, value))
    # Declare only once every entry is valid, so a failed action leaves no variable behind.
    for name, type_name, value in checked:
        ctx.variables.declare(name, type_name, value)
    return succeeded(inputs=inputs)


@executor("SetVariable")
@guarded
async def set_variable(ctx: ActionContext) -> ActionResult:
    action = ctx.action.name
    inputs = require_object(evaluate(ctx, ctx.action.inputs), "inputs", action)
    name = _name(action, inputs)
    type_name = _declared_type(ctx, name, inputs)
    value = inputs.get("value")
    _check_value(action, name, type_name, value, inputs=inputs)
    ctx.variables.set(name, value)
    return succeeded(inputs=inputs, outputs={"body": {"name": name, "value": value}})


async def _step(ctx: ActionContext, sign: int, type_label: str) -> ActionResult:
    action = ctx.action.name
    inputs = require_object(evaluate(ctx, ctx.action.inputs), "inputs", action)
    name = _name(action, inputs)
    type_name = _declared_type(ctx, name, inputs)
    if type_name not in ("integer", "float"):
        raise template_failure(
            action,
            f"The variable '{name}' of type '{VARIABLE_TYPES[type_name]}' cannot be changed by the "
            f"action type '{type_label}'. The action type '{type_label}' only supports variables "
            "of types 'Float, Integer'.",
            inputs=inputs,
        )
    amount = inputs.get("value", 1)
    if amount is None:
        amount = 1
    _check_value(action, name, type_name, amount, inputs=inputs)
    current = ctx.variables.get(name)
    if current is None:
        current = 0
    value = current + sign * amount
    if type_name == "float":
        value = float(value)
    ctx.variables.set(name, value)
    return succeeded(inputs=inputs, outputs={"body": {"name": name, "value": value}})


@executor("IncrementVariable")
@guarded
async def increment_variable(ctx: ActionContext) -> ActionResult:
    return await _step(ctx, 1, "IncrementVariable")


@executor("DecrementVariable")
@guarded
async def decrement_variable(ctx: ActionContext) -> ActionResult:
    return await _step(ctx, -1, "DecrementVariable")


@executor("AppendToArrayVariable")
@guarded
async def append_to_array_variable(ctx: ActionContext) -> ActionResult:
    action = ctx.action.name
    inputs = require_object(evaluate(ctx, ctx.action.inputs), "inputs", action)
    name = _name(action, inputs)
    type_name = _declared_type(ctx, name, inputs)
    value = inputs.get("value")
    if type_name != "array" or isinstance(value, list):
        raise ExecutorFailure(
            f"The input value is of type '{json_type(value)}' which cannot be appended to the variable "
            f"'{name}' of type '{VARIABLE_TYPES[type_name]}'. The action type 'AppendToArrayVariable' only "
            "supports values of types 'Float, Integer, String, Boolean, Object'.",
            "BadRequest",
            inputs=inputs,
        )
    current = ctx.variables.get(name)
    updated = [*(current if isinstance(current, list) else []), value]
    ctx.variables.set(name, updated)
    return succeeded(inputs=inputs, outputs={"body": {"name": name, "value": updated}})


@executor("AppendToStringVariable")
@guarded
async def append_to_string_variable(ctx: ActionContext) -> ActionResult:
    action = ctx.action.name
    inputs = require_object(evaluate(ctx, ctx.action.inputs), "inputs", action)
    name = _name(action, inputs)
    type_name = _declared_type(ctx, name, inputs)
    value = inputs.get("value")
    if type_name != "string":
        raise ExecutorFailure(
            f"The input value is of type '{json_type(value)}' which cannot be appended to the variable "
            f"'{name}' of type '{VARIABLE_TYPES[type_name]}'. The action type 'AppendToStringVariable' only "
            "supports variables of type 'String'.",
            "BadRequest",
            inputs=inputs,
        )
    current = ctx.variables.get(name)
    updated = (current if isinstance(current, str) else "") + to_text(value)
    ctx.variables.set(name, updated)
    return succeeded(inputs=inputs, outputs={"body": {"name": name, "value": updated}})
