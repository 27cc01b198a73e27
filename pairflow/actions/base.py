"""The contract between the engine and action executors.

An executor computes or does I/O for one action attempt; it never decides control flow (that is the
engine's). It reads its own inputs through `ActionContext.evaluate` (so Select and Query can evaluate
per item), touches variables only through `ActionContext.variables` (the engine commits the changes
with the action's record), and returns an `ActionResult` in Logic Apps' shapes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import httpx

from pairflow.definition.model import ActionDef, Status
from pairflow.jsontypes import JSON, JSONObject


class NoItem:
    """Marker: evaluate without binding `item()`."""


NO_ITEM = NoItem()


@dataclass(frozen=True, slots=True)
class ActionResult:
    status: Status  # Succeeded, Failed or TimedOut
    inputs: JSON = None  # the evaluated inputs, as recorded in history
    outputs: JSON = (
        None  # e.g. {"body": …} for Compose-like actions, {"statusCode", "headers", "body"} for Http
    )
    error: JSONObject | None = None  # {"code": …, "message": …} when not Succeeded
    code: str | None = None  # Logic Apps' status code of the action: "OK", "BadRequest", "ActionFailed", …
    retry_history: tuple[JSONObject, ...] = ()  # one entry per failed attempt inside a retry policy

    @staticmethod
    def failed(
        message: str, code: str = "ActionFailed", inputs: JSON = None, outputs: JSON = None
    ) -> ActionResult:
        return ActionResult(
            status=Status.FAILED,
            inputs=inputs,
            outputs=outputs,
            error={"code": code, "message": message},
            code=code,
        )


class Variables(Protocol):
    """The run's variables; changes are committed with the record of the action that made them."""

    def declare(self, name: str, type_name: str, value: JSON) -> None: ...

    def has(self, name: str) -> bool: ...

    def get(self, name: str) -> JSON: ...

    def type_of(self, name: str) -> str: ...

    def set(self, name: str, value: JSON) -> None: ...


class WorkflowCaller(Protocol):
    async def __call__(self, workflow: str, trigger: str, body: JSON, headers: JSONObject) -> JSONObject:
        """Run the workflow `workflow` synchronously; return {statusCode, headers, body} of its Response
        (or of its completion when it has no Response action)."""


class ActionContext(Protocol):
    run_id: str
    action: ActionDef
    attempt: int  # 1 for the first attempt of this action in this run (re-executions after a crash count up)
    variables: Variables
    http: httpx.AsyncClient

    def evaluate(self, value: JSON, *, item: JSON | NoItem = NO_ITEM) -> JSON:
        """Evaluate every `@` expression in `value` against the run (binding `item()` when given).

        Raises `pairflow.errors.ExpressionError`; executors turn it into a failed result with code
        `InvalidTemplate` (what Logic Apps records)."""

    def now(self) -> datetime: ...

    async def sleep(self, seconds: float) -> None:
        """Wait on the injected clock."""

    @property
    def idempotency_key(self) -> str:
        """Stable across retries of the same attempt: '{run_id}/{action}/{attempt}'."""

    @property
    def call_workflow(self) -> WorkflowCaller: ...


Executor = Callable[[ActionContext], Awaitable[ActionResult]]

EXECUTORS: dict[str, Executor] = {}


def executor(type_name: str) -> Callable[[Executor], Executor]:
    """Register the executor for a canonical action type ("Compose", "Http", …)."""

    def register(fn: Executor) -> Executor:
        EXECUTORS[type_name] = fn
        return fn

    return register
