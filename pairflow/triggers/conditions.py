"""Trigger `conditions` and `splitOn`: deciding from a trigger's outputs whether and how it fires.

Pure: both read the trigger outputs through an expression context built by the caller. A trigger's
conditions are a list of {"expression": "@…"}; all must be true for the trigger to fire. `splitOn`
names an array in the outputs; each item becomes one run whose trigger body is the item.
"""

from __future__ import annotations

from pairflow.errors import InputError
from pairflow.expressions import WorkflowContext, evaluate
from pairflow.jsontypes import JSON, JSONObject


def conditions_hold(trigger: JSONObject, context: WorkflowContext, pointer: str) -> bool:
    """Whether every condition of the trigger holds; raises InputError for a malformed one."""
    conditions = trigger.get("conditions")
    if conditions is None:
        return True
    if not isinstance(conditions, list):
        raise InputError(f"{pointer}/conditions: expected an array of {{expression}} objects")
    for index, condition in enumerate(conditions):
        where = f"{pointer}/conditions/{index}"
        expression = condition.get("expression") if isinstance(condition, dict) else None
        if expression is None:
            raise InputError(f"{where}: expected an object with an 'expression'")
        value = evaluate(expression, context)
        if not isinstance(value, bool):
            raise InputError(f"{where}/expression: the result must be a boolean, got {_kind(value)}")
        if not value:
            return False
    return True


def split_items(trigger: JSONObject, context: WorkflowContext, pointer: str) -> list[JSON] | None:
    """The items `splitOn` selects, or None when the trigger has no splitOn."""
    split_on = trigger.get("splitOn")
    if split_on is None:
        return None
    value = evaluate(split_on, context)
    if not isinstance(value, list):
        raise InputError(f"{pointer}/splitOn: the result must be an array, got {_kind(value)}")
    return value


def _kind(value: JSON) -> str:
    if value is None:
        return "null"
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "array"}.get(
        type(value), "object"
    )
