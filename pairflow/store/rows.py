"""Records ↔ statement parameters and rows, for every SQL backend.

The backends differ only in how a column holds a time (SQLite: fixed-width UTC text; PostgreSQL:
timestamptz) and whether JSON comes back decoded (PostgreSQL's `json` columns) or as text (SQLite);
a `RowCodec` is made with those three conversions and does the rest once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pairflow.errors import StoreError
from pairflow.jsontypes import JSON
from pairflow.store.codec import dump_json, dump_optional_json
from pairflow.store.records import (
    ActionRecord,
    LocationEvent,
    RunRecord,
    RunUpdate,
    TriggerEvent,
    TriggerFire,
    WorkflowVersion,
)

Row = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class PreparedFire:
    """A `TriggerFire` encoded into statement parameters."""

    place: str
    runs: list[dict[str, Any]]
    event: dict[str, Any]
    claim: dict[str, Any] | None
    state: dict[str, Any] | None
    actions: list[dict[str, Any]]


class RowCodec:
    """Encodes records into statement parameters and decodes rows, given a backend's conversions."""

    def __init__(
        self,
        *,
        time_out: Callable[[datetime, str, str], Any],
        time_in: Callable[[Any], datetime],
        json_in: Callable[[Any], JSON],
    ) -> None:
        self.time_out = time_out  # (value, place, field) -> the column value; refuses naive times
        self.time_in = time_in
        self.json_in = json_in

    def optional_time_out(self, value: datetime | None, place: str, field: str) -> Any:
        return None if value is None else self.time_out(value, place, field)

    def optional_time_in(self, value: Any) -> datetime | None:
        return None if value is None else self.time_in(value)

    def updates(
        self, updates: Sequence[RunUpdate]
    ) -> tuple[list[tuple[str, dict[str, Any]]], list[str], list[dict[str, Any]]]:
        """A commit's statements: (run-row steps, ids of runs only checked to exist, action rows)."""
        run_steps: list[tuple[str, dict[str, Any]]] = []
        unchanged: list[str] = []  # runs whose row the update leaves alone
        action_rows: list[dict[str, Any]] = []
        for update in updates:
            step = self.run_step(update)
            if step is None:
                unchanged.append(update.run_id)
            else:
                run_steps.append(step)
            action_rows.extend(self.action_params(update.run_id, action) for action in update.actions)
        return run_steps, unchanged, action_rows

    def workflow(self, row: Row) -> WorkflowVersion:
        return WorkflowVersion(
            name=row[0],
            version=row[1],
            definition=self.json_in(row[2]),
            parameters=self.json_in(row[3]),
            created_at=self.time_in(row[5]),
            enabled=bool(row[6]),
        )

    def run_params(self, run: RunRecord) -> dict[str, Any]:
        place = f"run {run.id}"
        trigger_name = run.trigger.get("name")
        return {
            "id": run.id,
            "workflow": run.workflow,
            "version": run.version,
            "status": run.status,
            "trigger": dump_json(run.trigger, place, "trigger"),
            "trigger_name": trigger_name if isinstance(trigger_name, str) else None,
            "created_at": self.time_out(run.created_at, place, "created_at"),
            "variables": dump_json(run.variables, place, "variables"),
            "outputs": dump_optional_json(run.outputs, place, "outputs"),
            "error": dump_optional_json(run.error, place, "error"),
            "response": dump_optional_json(run.response, place, "response"),
            "ended_at": self.optional_time_out(run.ended_at, place, "ended_at"),
            "owner": run.owner,
            "lease_until": self.optional_time_out(run.lease_until, place, "lease_until"),
            "parent_run": run.parent_run,
            "epoch": run.epoch,
        }

    def run(self, row: Row) -> RunRecord:
        return RunRecord(
            id=row[0],
            workflow=row[1],
            version=row[2],
            status=row[3],
            trigger=self.json_in(row[4]),
            created_at=self.time_in(row[5]),
            variables=self.json_in(row[6]),
            outputs=self.json_in(row[7]),
            error=self.json_in(row[8]),
            response=self.json_in(row[9]),
            ended_at=self.optional_time_in(row[10]),
            owner=row[11],
            lease_until=self.optional_time_in(row[12]),
            parent_run=row[13],
            epoch=row[14],
        )

    def event_params(self, event: TriggerEvent) -> dict[str, Any]:
        place = f"trigger event {event.id}"
        return {
            "id": event.id,
            "workflow": event.workflow,
            "trigger": event.trigger,
            "status": event.status,
            "fired_at": self.time_out(event.fired_at, place, "fired_at"),
            "run_ids": dump_json(list(event.run_ids), place, "run_ids"),
            "occurrence": event.occurrence,
            "outputs": dump_optional_json(event.outputs, place, "outputs"),
            "error": dump_optional_json(event.error, place, "error"),
        }

    def location_event_params(self, event: LocationEvent) -> dict[str, Any]:
        place = f"location event {event.id}"
        return {
            "id": event.id,
            "kind": event.kind,
            "epoch": event.epoch,
            "at": self.time_out(event.at, place, "at"),
            "location": event.location,
            "detail": dump_json(event.detail, place, "detail"),
        }

    def prepared_fire(self, fire: TriggerFire) -> PreparedFire:
        event = fire.event
        place = f"trigger {event.workflow}/{event.trigger}"
        runs = []
        for run in fire.runs:
            if run.workflow != event.workflow:
                raise StoreError(f"{place}: run {run.id} belongs to workflow {run.workflow}")
            runs.append(self.run_params(run))
        run_ids = {run.id for run in fire.runs}
        actions = []
        for action in fire.actions:
            if action.run_id not in run_ids:
                raise StoreError(f"{place}: action {action.name} belongs to run {action.run_id}, not fired")
            actions.append(self.action_params(action.run_id, action))
        claim = None
        if fire.occurrence_key is not None:
            claim = {
                "workflow": event.workflow,
                "trigger": event.trigger,
                "key": fire.occurrence_key,
                "event_id": event.id,
                "run_ids": dump_json([run.id for run in fire.runs], place, "run ids"),
            }
        state = None
        if fire.state is not None:
            text = dump_json(fire.state, place, "state")
            state = {"workflow": event.workflow, "trigger": event.trigger, "state": text}
        return PreparedFire(place, runs, self.event_params(event), claim, state, actions)

    def event(self, row: Row) -> TriggerEvent:
        return TriggerEvent(
            id=row[0],
            workflow=row[1],
            trigger=row[2],
            status=row[3],
            fired_at=self.time_in(row[4]),
            run_ids=tuple(self.json_in(row[5])),
            occurrence=row[6],
            outputs=self.json_in(row[7]),
            error=self.json_in(row[8]),
        )

    def run_step(self, update: RunUpdate) -> tuple[str, dict[str, Any]] | None:
        """The statement an update makes to its run row, or None when it leaves the row alone."""
        place = f"run {update.run_id}"
        variables = dump_optional_json(update.variables, place, "variables")
        if update.status is not None:
            return "end_run", {
                "id": update.run_id,
                "variables": variables,
                "status": update.status,
                "outputs": dump_optional_json(update.outputs, place, "outputs"),
                "error": dump_optional_json(update.error, place, "error"),
                "response": dump_optional_json(update.response, place, "response"),
                "ended_at": self.optional_time_out(update.ended_at, place, "ended_at"),
                "release_owner": update.release_owner,
            }
        if variables is not None or update.release_owner is not None:
            return "update_run", {
                "id": update.run_id,
                "variables": variables,
                "release_owner": update.release_owner,
            }
        return None

    def action_params(self, run_id: str, action: ActionRecord) -> dict[str, Any]:
        place = f"run {run_id}: action {action.name}[{action.repetition}]"
        if action.run_id != run_id:
            raise StoreError(f"{place}: the record belongs to run {action.run_id}")
        return {
            "run_id": run_id,
            "name": action.name,
            "repetition": action.repetition,
            "status": action.status,
            "attempts": action.attempts,
            "inputs": dump_optional_json(action.inputs, place, "inputs"),
            "outputs": dump_optional_json(action.outputs, place, "outputs"),
            "error": dump_optional_json(action.error, place, "error"),
            "code": action.code,
            "start_time": self.optional_time_out(action.start_time, place, "start_time"),
            "end_time": self.optional_time_out(action.end_time, place, "end_time"),
            "tracked_properties": dump_optional_json(action.tracked_properties, place, "tracked_properties"),
            "state": dump_json(action.state, place, "state"),
        }

    def action(self, row: Row) -> ActionRecord:
        return ActionRecord(
            run_id=row[0],
            name=row[1],
            repetition=row[2],
            status=row[3],
            attempts=row[4],
            inputs=self.json_in(row[5]),
            outputs=self.json_in(row[6]),
            error=self.json_in(row[7]),
            code=row[8],
            start_time=self.optional_time_in(row[9]),
            end_time=self.optional_time_in(row[10]),
            tracked_properties=self.json_in(row[11]),
            state=self.json_in(row[12]),
        )
