"""The store interface. Every backend (SQLite now, PostgreSQL next) passes one conformance suite.

Storing is storing: no method here emits events or starts work. Every write method is one
transaction; `commit` takes several `RunUpdate`s so that a backend can group the commits of
concurrent runs (group commit) without weakening what each caller was promised.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime

from pairflow.jsontypes import JSONObject
from pairflow.store.records import (
    ActionRecord,
    LocationEvent,
    RunRecord,
    RunUpdate,
    TriggerEvent,
    TriggerFire,
    WorkflowVersion,
)


class Store(ABC):
    @abstractmethod
    def close(self) -> None: ...

    # -- workflows -----------------------------------------------------------------------------------
    @abstractmethod
    def put_workflow(
        self, name: str, definition: JSONObject, parameters: JSONObject, now: datetime
    ) -> WorkflowVersion:
        """Store a new version when definition or parameters changed; else return the latest."""

    @abstractmethod
    def get_workflow(self, name: str, version: int | None = None) -> WorkflowVersion | None:
        """The given version, or the latest when `version` is None."""

    @abstractmethod
    def list_workflows(self) -> list[WorkflowVersion]:
        """The latest version of every workflow, by name."""

    # -- runs ----------------------------------------------------------------------------------------
    @abstractmethod
    def create_run(self, run: RunRecord) -> None:
        """Insert a run. Raises `DuplicateRunError` if the id exists (exactly-once records on the way in)."""

    @abstractmethod
    def get_run(self, run_id: str) -> RunRecord | None: ...

    @abstractmethod
    def list_runs(
        self,
        workflow: str | None = None,
        status: str | None = None,
        limit: int = 100,
    ) -> list[RunRecord]:
        """Newest first."""

    @abstractmethod
    def load_actions(self, run_id: str) -> list[ActionRecord]:
        """Every action record of the run, in the order they were first written."""

    @abstractmethod
    def commit(self, updates: Sequence[RunUpdate]) -> None:
        """Apply all updates in one transaction: upsert action records by (run_id, name, repetition),
        replace variables, end runs whose update sets `status`, and clear the lease of runs whose
        update names their owner in `release_owner`."""

    @abstractmethod
    def unfinished_runs(self) -> list[RunRecord]:
        """Runs whose status is Running, oldest first."""

    # -- leases: which process executes a run ------------------------------------------------------
    @abstractmethod
    def acquire_run(
        self,
        run_id: str,
        owner: str,
        now: datetime,
        lease_until: datetime,
        dead_owners: Sequence[str] = (),
    ) -> bool:
        """Atomically take the run if it has no owner, its lease expired before `now`, it is already
        ours, or its owner is one of `dead_owners` (processes known to be gone). True when taken."""

    @abstractmethod
    def renew_leases(self, owner: str, lease_until: datetime) -> int:
        """Extend every lease held by `owner`; returns how many."""

    @abstractmethod
    def release_run(self, run_id: str, owner: str) -> None: ...

    # -- serving a location: workflow state, access keys, triggers ----------------------------------
    @abstractmethod
    def set_workflow_enabled(self, name: str, enabled: bool) -> bool:
        """Enable or disable the latest version; False when there is no such workflow."""

    @abstractmethod
    def delete_workflow(self, name: str) -> bool:
        """Remove the workflow from `list_workflows` and `get_workflow(name)`; its versions stay
        readable by number for run history, and a later deploy continues the numbering."""

    @abstractmethod
    def get_access_key(self, name: str) -> str | None:
        """The secret that signs the workflow's callback URLs."""

    @abstractmethod
    def set_access_key(self, name: str, key: str) -> None: ...

    @abstractmethod
    def get_trigger_state(self, workflow: str, trigger: str) -> JSONObject | None: ...

    @abstractmethod
    def put_trigger_state(self, workflow: str, trigger: str, state: JSONObject) -> None: ...

    @abstractmethod
    def fire_trigger(self, fire: TriggerFire) -> bool:
        """Atomically: claim `fire.occurrence_key` (if any), create `fire.runs`, replace the trigger
        state (if given) and append the history event. False, with nothing written, when the
        occurrence key was claimed before."""

    # True when `fire_triggers` writes a batch in one transaction (and so writes none of it when a
    # fire is refused); False for the default below, which writes each fire in its own transaction.
    batches_fires: bool = False

    def fire_triggers(self, fires: Sequence[TriggerFire]) -> list[bool]:
        """`fire_trigger` for each fire, in order; each result is what it would have returned.

        A fire whose occurrence key was claimed before (by an earlier fire of the batch too) writes
        nothing and is False; the other fires are not affected. A backend that `batches_fires`
        writes them in one transaction, so concurrent callers share one commit, and raises
        StoreError writing none of the batch when a fire is refused. This default writes each fire
        in its own transaction: the fires before a refused one stay written.
        """
        return [self.fire_trigger(fire) for fire in fires]

    @abstractmethod
    def list_trigger_history(
        self, workflow: str, trigger: str | None = None, limit: int = 100
    ) -> list[TriggerEvent]:
        """Newest first."""

    @abstractmethod
    def list_runs_filtered(
        self,
        workflow: str | None = None,
        status: str | None = None,
        trigger: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
    ) -> list[RunRecord]:
        """Newest first; `since`/`until` bound the run's creation time."""

    # -- continuity: versioned documents and the location's history ---------------------------------
    @abstractmethod
    def get_meta(self, key: str) -> tuple[JSONObject, int] | None:
        """The document stored under `key` and its version (1, 2, …), or None."""

    @abstractmethod
    def put_meta(
        self,
        key: str,
        value: JSONObject,
        *,
        expected_version: int | None = None,
        event: LocationEvent | None = None,
    ) -> int:
        """Replace the document (compare-and-set when `expected_version` is given: 0 means "must not
        exist yet") and append `event` in the same transaction; returns the new version. Raises
        `MetaConflictError`, writing nothing, when the stored version is not the expected one."""

    @abstractmethod
    def list_location_events(self, limit: int = 100) -> list[LocationEvent]:
        """The location's continuity history, newest first."""
