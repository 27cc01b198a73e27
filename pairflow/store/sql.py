"""What the SQL backends share: every read that is the same named query on either database.

A backend supplies its named queries (`_queries`), its row codec (`_rows`) and `_read`, a context
manager that yields a connection whose `execute(query, params)` returns a cursor; the rest of a read
is written once here (STYLE.md: one store class holds the logic, each database overrides hooks).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from contextlib import AbstractContextManager
from datetime import datetime
from functools import cache
from typing import Any

from pairflow.errors import StoreError
from pairflow.jsontypes import JSONObject
from pairflow.store.base import Store
from pairflow.store.records import (
    ActionRecord,
    LocationEvent,
    RunRecord,
    TriggerEvent,
    TriggerFire,
    WorkflowVersion,
)
from pairflow.store.rows import RowCodec


class SqlStore(Store):
    _queries: Mapping[str, Any]
    _rows: RowCodec
    # The optional filters of `list_runs_filtered`, each with its condition in the backend's
    # placeholders (values are bound parameters).
    _run_filters: tuple[tuple[str, str], ...]

    @abstractmethod
    def _read(self, place: str) -> AbstractContextManager[Any]:
        """A connection for one or more reads; database errors become StoreError naming `place`."""

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def get_workflow(self, name: str, version: int | None = None) -> WorkflowVersion | None:
        with self._read(f"workflow {name}") as connection:
            if version is None:
                row = connection.execute(self._queries["latest_workflow"], {"name": name}).fetchone()
                if row is not None and row[7]:
                    return None  # deleted: only its versions by number remain
            else:
                query = self._queries["workflow_version"]
                row = connection.execute(query, {"name": name, "version": version}).fetchone()
        return None if row is None else self._rows.workflow(row)

    def list_workflows(self) -> list[WorkflowVersion]:
        with self._read("workflows") as connection:
            rows = connection.execute(self._queries["latest_workflows"]).fetchall()
        return [self._rows.workflow(row) for row in rows]

    def get_access_key(self, name: str) -> str | None:
        with self._read(f"access key of {name}") as connection:
            row = connection.execute(self._queries["get_access_key"], {"workflow": name}).fetchone()
        return None if row is None else str(row[0])

    def get_run(self, run_id: str) -> RunRecord | None:
        with self._read(f"run {run_id}") as connection:
            row = connection.execute(self._queries["get_run"], {"id": run_id}).fetchone()
        return None if row is None else self._rows.run(row)

    def list_runs(
        self, workflow: str | None = None, status: str | None = None, limit: int = 100
    ) -> list[RunRecord]:
        if workflow is None:
            name = "list_runs" if status is None else "list_runs_with_status"
        else:
            name = "list_runs_of_workflow" if status is None else "list_runs_of_workflow_with_status"
        params = {"workflow": workflow, "status": status, "limit": max(limit, 0)}
        with self._read("runs") as connection:
            rows = connection.execute(self._queries[name], params).fetchall()
        return [self._rows.run(row) for row in rows]

    def load_actions(self, run_id: str) -> list[ActionRecord]:
        with self._read(f"run {run_id}") as connection:
            rows = connection.execute(self._queries["load_actions"], {"run_id": run_id}).fetchall()
        return [self._rows.action(row) for row in rows]

    def unfinished_runs(self) -> list[RunRecord]:
        with self._read("runs") as connection:
            rows = connection.execute(self._queries["unfinished_runs"]).fetchall()
        return [self._rows.run(row) for row in rows]

    def fire_trigger(self, fire: TriggerFire) -> bool:
        return self.fire_triggers([fire])[0]

    def list_trigger_history(
        self, workflow: str, trigger: str | None = None, limit: int = 100
    ) -> list[TriggerEvent]:
        name = "trigger_history_of_workflow" if trigger is None else "trigger_history_of_trigger"
        params = {"workflow": workflow, "trigger": trigger, "limit": max(limit, 0)}
        with self._read(f"history of {workflow}") as connection:
            rows = connection.execute(self._queries[name], params).fetchall()
        return [self._rows.event(row) for row in rows]

    def list_runs_filtered(
        self,
        workflow: str | None = None,
        status: str | None = None,
        trigger: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
    ) -> list[RunRecord]:
        params: dict[str, Any] = {
            "workflow": workflow,
            "status": status,
            "trigger": trigger,
            "since": self._rows.optional_time_out(since, "runs", "since"),
            "until": self._rows.optional_time_out(until, "runs", "until"),
            "limit": max(limit, 0),
        }
        conditions = tuple(condition for name, condition in self._run_filters if params[name] is not None)
        query = _with_conditions(self._queries["runs_filtered"], conditions)
        with self._read("runs") as connection:
            rows = connection.execute(query, params).fetchall()
        return [self._rows.run(row) for row in rows]

    def get_trigger_state(self, workflow: str, trigger: str) -> JSONObject | None:
        place = f"trigger {workflow}/{trigger}"
        params = {"workflow": workflow, "trigger": trigger}
        with self._read(place) as connection:
            row = connection.execute(self._queries["get_trigger_state"], params).fetchone()
        return None if row is None else self._object(row[0], f"{place}: state")

    def get_meta(self, key: str) -> tuple[JSONObject, int] | None:
        with self._read(f"meta {key}") as connection:
            row = connection.execute(self._queries["get_meta"], {"key": key}).fetchone()
        return None if row is None else (self._object(row[0], f"meta {key}"), int(row[1]))

    def list_location_events(self, limit: int = 100) -> list[LocationEvent]:
        with self._read("location events") as connection:
            rows = connection.execute(self._queries["location_events"], {"limit": max(limit, 0)}).fetchall()
        return [
            LocationEvent(
                id=row[0],
                kind=row[1],
                epoch=int(row[2]),
                at=self._rows.time_in(row[3]),
                location=row[4],
                detail=self._object(row[5], f"location event {row[0]}"),
            )
            for row in rows
        ]

    def _object(self, stored: Any, place: str) -> JSONObject:
        """A column that must hold a JSON object (trigger state, meta documents, event details)."""
        value = self._rows.json_in(stored)
        if not isinstance(value, dict):
            raise StoreError(f"{place}: the stored value is not a JSON object: {str(stored)[:80]}")
        return value


@cache
def _with_conditions(template: Any, conditions: tuple[str, ...]) -> Any:
    """The runs query (text, or bytes for psycopg) with a WHERE of the conditions given: one text per
    combination of filters, at most 32, each prepared once by the database."""
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    if isinstance(template, bytes):
        return template.replace(b"{where}", where.encode())
    return template.replace("{where}", where)
