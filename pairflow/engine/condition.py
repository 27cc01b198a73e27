"""Conditions of If and Until, and case matching of Switch.

A condition is an expression string (`"@equals(1, 1)"`) or the designer's object form
(`{"and": [{"greater": ["@variables('n')", 5]}]}`) whose keys name expression functions.
"""

from __future__ import annotations

from pairflow.errors import ExpressionEvaluationError
from pairflow.expressions import evaluate
from pairflow.expressions.context import WorkflowContext
from pairflow.expressions.registry import lookup
from pairflow.jsontypes import JSON


def condition_holds(condition: JSON, context: WorkflowContext) -> bool:
    """True or False, or `ExpressionEvaluationError` when the condition is not a boolean."""
    if isinstance(condition, dict) and len(condition) == 1:
        ((name, args),) = condition.items()
        key = name.lower()
        if key in ("and", "or"):
            if not isinstance(args, list):
                raise ExpressionEvaluationError(f"The '{name}' condition needs a list of conditions")
            results = (condition_holds(arg, context) for arg in args)
            return all(results) if key == "and" else any(results)
        if key == "not":
            return not condition_holds(args, context)
        spec = lookup(name)
        if spec is None:
            raise ExpressionEvaluationError(f"The condition uses the unknown function '{name}'")
        values = evaluate(args, context)
        values = values if isinstance(values, list) else [values]
        spec.check_arity(len(values))
        result = spec.impl(context, *values) if spec.context else spec.impl(*values)
        return _boolean(result, name)
    return _boolean(evaluate(condition, context), "expression")


def _boolean(value: JSON, what: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ExpressionEvaluationError(
        f"The {what} must evaluate to a boolean, not a value of type '{type(value).__name__}'"
    )


def case_matches(value: JSON, case: JSON) -> bool:
    """Switch: the case equals the expression's value. Logic Apps cases are strings or integers; a
    number and its decimal text match each other, strings match exactly."""
    if isinstance(value, bool) or isinstance(case, bool):
        return value is case
    if isinstance(value, int | float) and isinstance(case, int | float):
        return value == case
    if isinstance(value, str) and isinstance(case, str):
        return value == case
    if isinstance(value, str) and isinstance(case, int | float):
        return value == str(case)
    if isinstance(value, int | float) and isinstance(case, str):
        return str(value) == case
    return bool(value == case)
