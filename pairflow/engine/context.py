"""What expressions read during a run: `WorkflowContext` over the run's state, plus the variables.

One `RunScope` exists per run; a `RunContext` is a cheap view of it at one repetition (inside a loop
iteration `body('Sibling')` is the sibling of the same iteration) with an optional bound `item()`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pairflow.engine.decide import CONTAINER_TYPES, RunState, iteration_key, parent_key, parse_repetition
from pairflow.errors import ExpressionEvaluationError
from pairflow.jsontypes import JSON, JSONObject
from pairflow.store.records import ActionRecord

if TYPE_CHECKING:
    from pairflow.engine.clock import Clock
    from pairflow.engine.decide import Plan


class _Unbound:
    """Marker: no item bound."""


UNBOUND = _Unbound()


def iso(moment: datetime | None) -> str | None:
    """Logic Apps' spelling of a time: ISO 8601 UTC with a Z."""
    if moment is None:
        return None
    if moment.tzinfo is UTC:
        return moment.isoformat()[:-6] + "Z"
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def action_result(record: ActionRecord) -> JSONObject:
    """An action's result as `actions('X')` and `result('Scope')` show it."""
    return {
        "name": record.name,
        "inputs": record.inputs,
        "outputs": record.outputs,
        "startTime": iso(record.start_time),
        "endTime": iso(record.end_time),
        "status": record.status,
        "code": record.code,
        "error": record.error,
        "trackedProperties": record.tracked_properties,
        "clientTrackingId": record.run_id,
    }


class RunVariables:
    """The run's variables (name -> {type, value}); `changed` tells the runner to commit the map."""

    def __init__(self, initial: JSONObject) -> None:
        self.values: JSONObject = {name: dict(entry) for name, entry in initial.items()}
        self.changed = False

    def declare(self, name: str, type_name: str, value: JSON) -> None:
        self.values[name] = {"type": type_name, "value": value}
        self.changed = True

    def has(self, name: str) -> bool:
        return name in self.values

    def get(self, name: str) -> JSON:
        entry = self.values.get(name)
        if entry is None:
            raise ExpressionEvaluationError(f"The variable '{name}' does not exist")
        return entry.get("value")

    def type_of(self, name: str) -> str:
        entry = self.values.get(name)
        if entry is None:
            raise ExpressionEvaluationError(f"The variable '{name}' does not exist")
        return str(entry.get("type", ""))

    def set(self, name: str, value: JSON) -> None:
        entry = self.values.get(name)
        if entry is None:
            raise ExpressionEvaluationError(f"The variable '{name}' does not exist")
        self.values[name] = {"type": entry.get("type"), "value": value}
        self.changed = True

    def snapshot(self) -> JSONObject:
        return {name: dict(entry) for name, entry in self.values.items()}


class RunScope:
    """Everything a run's expressions can see, shared by all its `RunContext`s."""

    def __init__(
        self,
        *,
        run_id: str,
        workflow: str,
        trigger: JSONObject,
        parameters: JSONObject,
        plan: Plan,
        state: RunState,
        variables: RunVariables,
        clock: Clock,
        app_settings: Mapping[str, str] | None = None,
    ) -> None:
        self.run_id = run_id
        self.workflow = workflow
        self.trigger = trigger
        self.parameters = parameters
        self.plan = plan
        self.state = state
        self.variables = variables
        self.clock = clock
        self.app_settings: Mapping[str, str] = app_settings or {}


class RunContext:
    """`WorkflowContext` for one action at one repetition."""

    __slots__ = ("_current", "_item", "_repetition", "_scope")

    def __init__(
        self,
        scope: RunScope,
        repetition: str,
        item: JSON | _Unbound = UNBOUND,
        current: JSONObject | None = None,
    ) -> None:
        self._scope = scope
        self._repetition = repetition
        self._item = item
        self._current = current

    def with_item(self, item: JSON) -> RunContext:
        return RunContext(self._scope, self._repetition, item, self._current)

    def trigger_result(self) -> JSON:
        return self._scope.trigger

    def _record(self, name: str) -> ActionRecord | None:
        records = self._scope.state.records
        repetition = self._repetition
        while True:
            record = records.get((name, repetition))
            if record is not None:
                return record
            if not repetition:
                return self._scope.state.latest.get(name)
            repetition = parent_key(repetition)

    def action_result(self, name: str) -> JSON:
        record = self._record(name)
        if record is None:
            if name not in self._scope.plan.definition.all_actions:
                raise ExpressionEvaluationError(f"The action '{name}' is not defined in the workflow")
            raise ExpressionEvaluationError(f"The action '{name}' has not run yet")
        return action_result(record)

    def current_action(self) -> JSON:
        if self._current is None:
            raise ExpressionEvaluationError("action() can only be used inside an action's outputs")
        return self._current

    def variable(self, name: str) -> JSON:
        return self._scope.variables.get(name)

    def parameter(self, name: str) -> JSON:
        if name not in self._scope.parameters:
            raise ExpressionEvaluationError(f"The workflow parameter '{name}' is not found")
        return self._scope.parameters[name]

    def _loop_item(self, loop: str, repetition: str, index: int) -> JSON:
        record = self._scope.state.records.get((loop, repetition))
        items = record.inputs if record is not None else None
        if not isinstance(items, list) or index >= len(items):
            raise ExpressionEvaluationError(f"The loop '{loop}' has no item {index}")
        return items[index]

    def item(self) -> JSON:
        if not isinstance(self._item, _Unbound):
            return self._item
        segments = parse_repetition(self._repetition)
        for depth in range(len(segments) - 1, -1, -1):
            loop, index = segments[depth]
            action = self._scope.plan.definition.all_actions.get(loop)
            if action is not None and action.type == "Foreach":
                return self._loop_item(loop, _prefix(segments[:depth]), index)
        raise ExpressionEvaluationError("item() can only be used inside a Foreach, Select or Query")

    def items(self, loop_name: str) -> JSON:
        segments = parse_repetition(self._repetition)
        for depth, (loop, index) in enumerate(segments):
            if loop == loop_name:
                action = self._scope.plan.definition.all_actions.get(loop)
                if action is not None and action.type == "Foreach":
                    return self._loop_item(loop, _prefix(segments[:depth]), index)
        raise ExpressionEvaluationError(f"The loop '{loop_name}' is not an enclosing Foreach")

    def iteration_indexes(self, loop_name: str) -> JSON:
        for loop, index in parse_repetition(self._repetition):
            if loop == loop_name:
                return index
        raise ExpressionEvaluationError(f"The loop '{loop_name}' is not an enclosing Until or Foreach")

    def workflow(self) -> JSON:
        name = self._scope.workflow
        run_id = self._scope.run_id
        return {
            "id": f"/workflows/{name}",
            "name": name,
            "type": "Microsoft.Logic/workflows",
            "run": {
                "id": f"/workflows/{name}/runs/{run_id}",
                "name": run_id,
                "type": "Microsoft.Logic/workflows/runs",
            },
        }

    def result(self, scope_name: str) -> JSON:
        action = self._scope.plan.definition.all_actions.get(scope_name)
        if action is None or action.type not in CONTAINER_TYPES:
            raise ExpressionEvaluationError(f"The action '{scope_name}' is not a scope, condition or loop")
        own = self._record(scope_name)
        repetition = own.repetition if own is not None else self._repetition
        records = self._scope.state.records
        results: list[JSON] = []
        if action.type in ("Foreach", "Until"):
            count = self._scope.state.admitted.get((scope_name, repetition), 0)
            if action.type == "Until" and own is not None:
                count = int(own.state.get("iteration", 0)) + 1
            repetitions = [iteration_key(repetition, scope_name, i) for i in range(count)]
        else:
            repetitions = [repetition]
        for _, children in action.child_lists():
            for inner in repetitions:
                for child in children:
                    record = records.get((child, inner))
                    if record is not None:
                        results.append(action_result(record))
        return results

    def now(self) -> datetime:
        return self._scope.clock.now()

    def app_setting(self, name: str) -> JSON:
        if name not in self._scope.app_settings:
            raise ExpressionEvaluationError(f"The app setting '{name}' is not defined for this location")
        return self._scope.app_settings[name]


def _prefix(segments: list[tuple[str, int]]) -> str:
    return "/".join(f"{loop}={index:06d}" for loop, index in segments)
