"""What workflow functions (`trigger()`, `body('X')`, `variables('v')`, `item()`, …) read.

The engine implements `WorkflowContext` over a run's committed state; `MappingContext` implements it
over a plain JSON document (for `pairflow eval --context FILE` and for tests). Every lookup that finds
nothing raises `ExpressionEvaluationError` with the Logic Apps-style cause; the evaluator adds the
expression text and column.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from pairflow.errors import ExpressionEvaluationError
from pairflow.jsontypes import JSON, JSONObject


class WorkflowContext(Protocol):
    def trigger_result(self) -> JSON:
        """`trigger()`: {name, inputs, outputs: {headers, body}, startTime, endTime, status, …}."""

    def action_result(self, name: str) -> JSON:
        """`actions('X')`: {name, inputs, outputs, startTime, endTime, status, code, error, …}."""

    def current_action(self) -> JSON:
        """`action()`: the result of the action whose inputs/outputs are being evaluated."""

    def variable(self, name: str) -> JSON: ...

    def parameter(self, name: str) -> JSON: ...

    def item(self) -> JSON:
        """`item()`: the current item of the innermost Foreach (or Select/Query element)."""

    def items(self, loop_name: str) -> JSON: ...

    def iteration_indexes(self, loop_name: str) -> JSON: ...

    def workflow(self) -> JSON:
        """`workflow()`: {id, name, type, run: {id, name, type}, …}."""

    def result(self, scope_name: str) -> JSON:
        """`result('Scope')`: the results of the scope's top-level actions, as a list."""

    def now(self) -> datetime:
        """The clock used by `utcNow()` and relative date functions (injected, so tests control it)."""

    def app_setting(self, name: str) -> JSON:
        """`appsetting('X')` (Logic Apps Standard): a value from the location's app settings — never
        from the process environment, so a definition cannot read the host's secrets."""


class MappingContext:
    """A `WorkflowContext` read from a JSON document.

    Shape (every key optional): {"trigger": {...}, "actions": {"X": {...}}, "variables": {...},
    "parameters": {...}, "workflow": {...}, "item": ..., "items": {"Loop": ...},
    "iterationIndexes": {"Loop": 0}, "results": {"Scope": [...]}, "action": {...}, "now": "ISO-8601",
    "appSettings": {"Name": "value"}}.
    """

    def __init__(self, document: JSONObject | None = None, clock: datetime | None = None) -> None:
        self._doc: JSONObject = document or {}
        now = self._doc.get("now")
        self._now = clock or (datetime.fromisoformat(now) if isinstance(now, str) else None)

    def _section(self, key: str) -> JSONObject:
        value = self._doc.get(key)
        return value if isinstance(value, dict) else {}

    def trigger_result(self) -> JSON:
        if "trigger" not in self._doc:
            raise ExpressionEvaluationError("The workflow has no trigger outputs in this context")
        return self._doc["trigger"]

    def action_result(self, name: str) -> JSON:
        actions = self._section("actions")
        if name not in actions:
            raise ExpressionEvaluationError(
                f"The action '{name}' is not defined in the template or has not run yet"
            )
        return actions[name]

    def current_action(self) -> JSON:
        if "action" not in self._doc:
            raise ExpressionEvaluationError("action() can only be used inside an action's outputs")
        return self._doc["action"]

    def variable(self, name: str) -> JSON:
        variables = self._section("variables")
        if name not in variables:
            raise ExpressionEvaluationError(f"The variable '{name}' does not exist")
        return variables[name]

    def parameter(self, name: str) -> JSON:
        parameters = self._section("parameters")
        if name not in parameters:
            raise ExpressionEvaluationError(f"The workflow parameter '{name}' is not found")
        return parameters[name]

    def item(self) -> JSON:
        if "item" not in self._doc:
            raise ExpressionEvaluationError("item() can only be used inside a Foreach, Select or Query")
        return self._doc["item"]

    def items(self, loop_name: str) -> JSON:
        items = self._section("items")
        if loop_name not in items:
            raise ExpressionEvaluationError(f"The loop '{loop_name}' is not an enclosing Foreach")
        return items[loop_name]

    def iteration_indexes(self, loop_name: str) -> JSON:
        indexes = self._section("iterationIndexes")
        if loop_name not in indexes:
            raise ExpressionEvaluationError(f"The loop '{loop_name}' is not an enclosing Until")
        return indexes[loop_name]

    def workflow(self) -> JSON:
        return self._doc.get("workflow", {"name": "workflow", "run": {"name": "run"}})

    def result(self, scope_name: str) -> JSON:
        results = self._section("results")
        if scope_name not in results:
            raise ExpressionEvaluationError(f"The scope '{scope_name}' has no results in this context")
        return results[scope_name]

    def now(self) -> datetime:
        return self._now or datetime.now(UTC)

    def app_setting(self, name: str) -> JSON:
        settings = self._section("appSettings")
        if name not in settings:
            raise ExpressionEvaluationError(f"The app setting '{name}' is not defined")
        return settings[name]
