"""What every executor shares: evaluating inputs the way Logic Apps reports failures, JSON type names,
text conversion and ISO 8601 durations.

Executors raise `ExecutorFailure` for anything wrong with their inputs or their outcome; `guarded` turns
it (and any `ExpressionError` that escaped) into the failed `ActionResult` the engine records.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Awaitable, Callable
from http import HTTPStatus

from pairflow.actions.base import NO_ITEM, ActionContext, ActionResult, Executor, NoItem
from pairflow.definition.model import Status
from pairflow.errors import ActionFailure, ExpressionError
from pairflow.expressions.values import type_name
from pairflow.jsontypes import JSON, JSONObject

TEMPLATE_MESSAGE = (
    "Unable to process template language expressions in action '{action}' inputs "
    "at line '{line}' and column '{column}': '{cause}'."
)


class ExecutorFailure(ActionFailure):
    """The action failed; carries what its record shows besides the error."""

    def __init__(
        self,
        message: str,
        code: str = "ActionFailed",
        *,
        inputs: JSON = None,
        outputs: JSON = None,
        status_code: str | None = None,
    ) -> None:
        super().__init__(message, code)
        self.inputs = inputs
        self.outputs = outputs
        # Logic Apps sometimes shows a status code that differs from the error code
        # (a ParseJson with empty content: code BadRequest, error InvalidTemplate).
        self.status_code = status_code or code

    def result(self) -> ActionResult:
        return ActionResult(
            status=Status.FAILED,
            inputs=self.inputs,
            outputs=self.outputs,
            error={"code": self.code, "message": self.message},
            code=self.status_code,
        )


def template_failure(
    action: str, cause: str, column: int | None = None, *, inputs: JSON = None
) -> ExecutorFailure:
    """The `InvalidTemplate` failure Logic Apps records for inputs it cannot evaluate or accept.

    An expression error names the column inside the expression (line 1); an error found in the
    evaluated inputs has no position, which Logic Apps shows as line 0, column 0."""
    line = 1 if column is not None else 0
    message = TEMPLATE_MESSAGE.format(action=action, line=line, column=column or 0, cause=cause)
    return ExecutorFailure(message, "InvalidTemplate", inputs=inputs)


def evaluate(ctx: ActionContext, value: JSON, *, item: JSON | NoItem = NO_ITEM) -> JSON:
    """`ctx.evaluate`, with an expression error turned into the action's `InvalidTemplate` failure."""
    try:
        return ctx.evaluate(value, item=item)
    except ExpressionError as err:
        raise template_failure(ctx.action.name, _cause(err), err.column) from err


def _cause(err: ExpressionError) -> str:
    cause = err.cause or err.message
    return f"{cause} in '{err.expression}'" if err.expression else cause


def guarded(fn: Callable[[ActionContext], Awaitable[ActionResult]]) -> Executor:
    """Wrap an executor so its deliberate failures become failed results, never exceptions."""

    @functools.wraps(fn)
    async def run(ctx: ActionContext) -> ActionResult:
        try:
            return await fn(ctx)
        except ExecutorFailure as failure:
            return failure.result()
        except ExpressionError as err:
            return template_failure(ctx.action.name, _cause(err), err.column).result()

    return run


def succeeded(inputs: JSON = None, outputs: JSON = None, code: str = "OK") -> ActionResult:
    return ActionResult(status=Status.SUCCEEDED, inputs=inputs, outputs=outputs, code=code)


def json_type(value: JSON) -> str:
    """The type name Logic Apps uses in messages ('Integer', 'Float', 'String', …)."""
    return type_name(value)


def to_text(value: JSON) -> str:
    """A value as text, as Logic Apps writes it into strings (`string()`): null is empty, booleans are
    'True'/'False', objects and arrays are compact JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, int | float):
        return json.dumps(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def require_object(value: JSON, what: str, action: str) -> JSONObject:
    if not isinstance(value, dict):
        raise template_failure(action, f"The {what} must be an object but was of type '{json_type(value)}'.")
    return value


_DURATION = re.compile(
    r"^P(?!$)(?:(?P<years>\d+(?:\.\d+)?)Y)?(?:(?P<months>\d+(?:\.\d+)?)M)?(?:(?P<weeks>\d+(?:\.\d+)?)W)?"
    r"(?:(?P<days>\d+(?:\.\d+)?)D)?(?:T(?=\d)(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$",
    re.IGNORECASE,
)
_DURATION_SECONDS = {
    "years": 365 * 86400.0,
    "months": 30 * 86400.0,
    "weeks": 7 * 86400.0,
    "days": 86400.0,
    "hours": 3600.0,
    "minutes": 60.0,
    "seconds": 1.0,
}


def parse_duration(text: JSON) -> float:
    """Seconds in an ISO 8601 duration such as 'PT30S' or 'P1DT2H' (a month counts 30 days, a year 365).

    Raises ValueError naming the bad value."""
    match = _DURATION.match(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"'{text}' is not an ISO 8601 duration such as 'PT30S'")
    return sum(float(part) * _DURATION_SECONDS[name] for name, part in match.groupdict().items() if part)


def status_name(status: int) -> str:
    """The status code as Logic Apps names it: 404 -> 'NotFound', 200 -> 'OK'."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        return str(status)
    words = re.sub(r"[^A-Za-z0-9 ]", "", phrase).split()
    return "".join(w[:1].upper() + w[1:] for w in words)
