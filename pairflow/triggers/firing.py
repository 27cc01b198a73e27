"""What every trigger loop shares: the armed trigger, its expression context, and firing it.

A trigger only turns an outside event into committed runs (DESIGN.md): `Firer.fire` builds the runs
with `Engine.prepare_run`, commits them with the trigger's new state and its history event in one
`Store.fire_trigger`, and only then hands them to the dispatcher. `Firer.note` records a history
event without runs (Skipped, Failed), also atomically with the state.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from pairflow.definition.model import TriggerDef, WorkflowDefinition, build_definition
from pairflow.engine.clock import Clock
from pairflow.engine.dispatcher import Dispatcher
from pairflow.engine.runner import Engine
from pairflow.expressions import MappingContext
from pairflow.jsontypes import JSON, JSONObject
from pairflow.store.base import Store
from pairflow.store.records import TriggerEvent, TriggerFire, WorkflowVersion

_log = logging.getLogger(__name__)
_T = TypeVar("_T")

SUCCEEDED = "Succeeded"
SKIPPED = "Skipped"
FAILED = "Failed"


def iso(moment: datetime) -> str:
    """UTC ISO 8601 with a Z, as trigger outputs and state show instants."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_iso(value: JSON) -> datetime | None:
    """An instant from trigger state; None when absent or unreadable (the state is then ignored)."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Target:
    """One armed trigger: the workflow version it belongs to and its definition."""

    version: WorkflowVersion
    definition: WorkflowDefinition
    trigger: TriggerDef

    @classmethod
    def of(cls, version: WorkflowVersion) -> Target | None:
        definition = build_definition(version.definition)
        trigger = definition.trigger
        return None if trigger is None else cls(version, definition, trigger)

    @property
    def workflow(self) -> str:
        return self.version.name

    @property
    def name(self) -> str:
        return self.trigger.name

    @property
    def raw(self) -> JSONObject:
        return self.trigger.raw

    def parameters(self) -> JSONObject:
        values = dict(self.version.parameters)
        for name, parameter in self.definition.parameters.items():
            if name not in values and parameter.has_default:
                values[name] = parameter.default
        return values

    def context(
        self,
        now: datetime,
        *,
        outputs: JSONObject | None = None,
        callback_url: str | None = None,
        action: JSONObject | None = None,
    ) -> MappingContext:
        """What the trigger's own expressions see: parameters, workflow(), its outputs so far."""
        workflow: JSONObject = {
            "id": f"/workflows/{self.workflow}",
            "name": self.workflow,
            "type": "Microsoft.Logic/workflows",
        }
        document: JSONObject = {"workflow": workflow, "parameters": self.parameters()}
        if callback_url is not None:
            workflow["callbackUrl"] = callback_url
            document["action"] = {"name": self.name, "callbackUrl": callback_url, **(action or {})}
        if outputs is not None:
            document["trigger"] = {
                "name": self.name,
                "inputs": self.trigger.inputs,
                "outputs": outputs,
                "startTime": iso(now),
                "status": SUCCEEDED,
            }
        return MappingContext(document, clock=now)


class Firer:
    """Commits a trigger's firings and history; hands the new runs to the dispatcher."""

    def __init__(
        self,
        store: Store,
        engine: Engine,
        dispatcher: Dispatcher,
        clock: Clock,
        is_active: Callable[[str], bool],
    ) -> None:
        self.store = store
        self.engine = engine
        self.dispatcher = dispatcher
        self.clock = clock
        self.is_active = is_active

    def fire(
        self,
        target: Target,
        outputs: list[JSONObject],
        *,
        fired_at: datetime | None = None,
        occurrence: str | None = None,
        key: str | None = None,
        state: JSONObject | None = None,
        event_outputs: JSON = None,
    ) -> bool:
        """Create one run per outputs object, all in one transaction; False if `key` fired before."""
        runs = [
            self.engine.prepare_run(
                target.workflow,
                trigger_outputs=item,
                trigger_name=target.name,
                version=target.version.version,
            )
            for item in outputs
        ]
        event = TriggerEvent(
            id=uuid.uuid4().hex,
            workflow=target.workflow,
            trigger=target.name,
            status=SUCCEEDED,
            fired_at=fired_at or self.clock.now(),
            run_ids=tuple(run.id for run in runs),
            occurrence=occurrence,
            outputs=event_outputs,
        )
        if not self.store.fire_trigger(TriggerFire(event, runs=runs, occurrence_key=key, state=state)):
            return False
        self.engine.committed([run.id for run in runs])  # replication ships them
        for run in runs:
            self.dispatcher.submit(run)
        return True

    def note(
        self,
        target: Target,
        status: str,
        *,
        error: JSONObject | None = None,
        outputs: JSON = None,
        occurrence: str | None = None,
        key: str | None = None,
        state: JSONObject | None = None,
    ) -> bool:
        """Record a history event without runs (Skipped or Failed), with the new state if given."""
        event = TriggerEvent(
            id=uuid.uuid4().hex,
            workflow=target.workflow,
            trigger=target.name,
            status=status,
            fired_at=self.clock.now(),
            occurrence=occurrence,
            outputs=outputs,
            error=error,
        )
        return self.store.fire_trigger(TriggerFire(event, occurrence_key=key, state=state))


def error_of(message: str, code: str = "TriggerFailed") -> JSONObject:
    return {"code": code, "message": message}


class Inflight:
    """Runs a loop's I/O step (a poll, a subscription) so that disarming can let it finish.

    Cancelling the loop does not cut the step: its answer is still committed (a cursor moved, a
    subscription recorded), and `settle` waits for it, so nothing is read or subscribed twice.
    """

    def __init__(self) -> None:
        self._step: asyncio.Task[Any] | None = None

    async def run(self, step: Coroutine[Any, Any, _T]) -> _T:
        task: asyncio.Task[_T] = asyncio.get_running_loop().create_task(step)
        task.add_done_callback(_log_failure)
        self._step = task
        return await asyncio.shield(task)

    async def settle(self) -> None:
        step = self._step
        if step is not None and not step.done():
            await asyncio.wait([step])


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and (error := task.exception()) is not None:
        _log.error("trigger step failed: %s", error, exc_info=error)
