"""The Logic Apps `@` expression language: lexer → parser → frozen AST → compiled closures.

Public API (others depend on these names):
- `evaluate(value, context)`: a new JSON structure with every template string evaluated.
- `evaluate_template(text, context)`: one string exactly as written in a definition.
- `evaluate_expression(expr, context)`: a bare expression without the leading `@`.
- `is_template(text)`: whether a string contains an expression.
- `check_templates(value, pointer)`: (JSON pointer, message) for each template that does not parse.
- `referenced_actions(value)`: action names used with literal arguments in actions()/body()/….
Every failure raises `pairflow.errors.ExpressionError` (syntax or evaluation) with a column.
"""

from __future__ import annotations

from collections.abc import Iterator

import pairflow.expressions.functions  # noqa: F401  (registers the function library)
from pairflow.errors import ExpressionError, ExpressionLimitError
from pairflow.expressions.ast import Access, Call, Interpolation, Literal, Node, Text, Whole
from pairflow.expressions.context import MappingContext, WorkflowContext
from pairflow.expressions.limits import start_budget
from pairflow.expressions.template import compiled_expression, compiled_template, parsed_template
from pairflow.jsontypes import JSON

__all__ = [
    "MappingContext",
    "WorkflowContext",
    "check_templates",
    "evaluate",
    "evaluate_expression",
    "evaluate_template",
    "is_template",
    "referenced_actions",
]

_MAX_VALUE_DEPTH = 200  # nesting of the JSON structure walked by evaluate()


def evaluate_template(text: str, context: WorkflowContext | None = None) -> JSON:
    """Evaluate one string as written in a definition (`"@add(1,2)"`, `"Hi @{x}"`, plain text)."""
    start_budget()
    try:
        return compiled_template(text)(context)
    except RecursionError:
        raise ExpressionLimitError("The expression is nested too deeply", text) from None


def evaluate_expression(expr: str, context: WorkflowContext | None = None) -> JSON:
    """Evaluate a bare expression without the leading `@` (`"add(1,2)"`)."""
    start_budget()
    try:
        return compiled_expression(expr)(context)
    except RecursionError:
        raise ExpressionLimitError("The expression is nested too deeply", expr) from None


def is_template(text: str) -> bool:
    """Whether `text` holds an expression (`@…` not escaped as `@@`, or an `@{…}` part)."""
    if text.startswith("@"):
        return not text.startswith("@@")
    if "@{" not in text:
        return False
    try:
        return not isinstance(parsed_template(text), Text)
    except ExpressionError:
        return True


def evaluate(value: JSON, context: WorkflowContext | None = None) -> JSON:
    """A new structure in which every template string of `value` is evaluated (keys are not)."""
    return _evaluate(value, context, 0)


def _evaluate(value: JSON, context: WorkflowContext | None, depth: int) -> JSON:
    if isinstance(value, str):
        if "@" not in value:
            return value
        return evaluate_template(value, context)
    if depth > _MAX_VALUE_DEPTH:
        raise ExpressionLimitError(f"The value is nested more than {_MAX_VALUE_DEPTH} levels deep")
    if isinstance(value, dict):
        return {key: _evaluate(item, context, depth + 1) for key, item in value.items()}
    if isinstance(value, list):
        return [_evaluate(item, context, depth + 1) for item in value]
    return value


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _strings(value: JSON, pointer: str, depth: int = 0) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield pointer, value
    elif depth > _MAX_VALUE_DEPTH:
        return
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{pointer}/{_escape(str(key))}", depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{pointer}/{index}", depth + 1)


def check_templates(value: JSON, pointer: str = "") -> list[tuple[str, str]]:
    """Parse (not evaluate) every template string in `value`; report each that fails to parse or
    names an unknown function, as (JSON pointer of the string, message with column)."""
    issues: list[tuple[str, str]] = []
    for where, text in _strings(value, pointer):
        if "@" not in text:
            continue
        try:
            parsed_template(text)
        except ExpressionError as error:
            issues.append((where, error.message))
        except RecursionError:
            issues.append((where, "The expression is nested too deeply"))
    return issues


# Workflow functions whose first argument names an action (or scope).
_ACTION_FUNCTIONS = frozenset(
    {
        "actions",
        "body",
        "outputs",
        "result",
        "actionbody",
        "actionoutputs",
        "formdatavalue",
        "formdatamultivalues",
        "multipartbody",
    }
)


def referenced_actions(value: JSON) -> set[str]:
    """Names passed as literal strings to actions()/body()/outputs()/result() and their kin."""
    names: set[str] = set()
    for _, text in _strings(value, ""):
        if "@" not in text:
            continue
        try:
            template = parsed_template(text)
        except (ExpressionError, RecursionError):
            continue
        if isinstance(template, Whole):
            _collect(template.expression, names)
        elif isinstance(template, Interpolation):
            for part in template.parts:
                if not isinstance(part, str):
                    _collect(part, names)
    return names


def _collect(node: Node, names: set[str]) -> None:
    stack: list[Node] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, Call):
            if (
                current.name.lower() in _ACTION_FUNCTIONS
                and current.args
                and isinstance(current.args[0], Literal)
                and isinstance(current.args[0].value, str)
            ):
                names.add(current.args[0].value)
            stack.extend(current.args)
        elif isinstance(current, Access):
            stack.append(current.target)
            stack.append(current.key)
