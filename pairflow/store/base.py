"""The store interface. Every backend (SQLite now, PostgreSQL next) passes one conformance suite.

Storing is storing: no method here emits events or starts work. Every write method is one
transaction; `commit` takes several `RunUpdate`s so that a backend can group the commits of
concurrent runs (group commit) without weakening what each caller was promised.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import replace
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
    # Whether a write waits for the disk or the network long enough that the engine should run it on
    # a worker thread (one flush in flight, the next batch gathering meanwhile) instead of blocking
    # the event loop. Backends whose writes are that slow say so.
    offload_writes: bool = False

    @abstractmethod
    def close(self) -> None: ...

    def begin_serving(self) -> None:
        """Called by long-running processes (`pairflow serve`): start whatever upkeep the backend
        does in the background rather than inside commits. Stopped by `close`."""
        return  # most backends have none

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

    def renew_run_leases(self, owner: str, run_ids: Sequence[str], lease_until: datetime) -> set[str]:
        """`renew_leases`, telling which of `run_ids` `owner` still holds: a run missing from the
        answer was taken over (its lease had lapsed) or ended, and its driver must stop. This default
        renews, then reads each run back; a backend does it in one statement."""
        self.renew_leases(owner, lease_until)
        held: set[str] = set()
        for run_id in run_ids:
            run = self.get_run(run_id)
            if run is not None and run.owner == owner:
                held.add(run_id)
        return held

    @abstractmethod
    def release_run(self, run_id: str, owner: str) -> None: ...

    def claim_runs(
        self,
        owner: str,
        now: datetime,
        lease_until: datetime,
        limit: int,
        dead_owners: Sequence[str] = (),
    ) -> list[RunRecord]:
        """Take up to `limit` unfinished runs nobody executes (no owner, a lease expired before `now`,
        or an owner among `dead_owners`), oldest first; each is taken by one atomic change, so of
        several processes claiming at once each run goes to one. Returns them as taken (leased to
        `owner`). This default takes them one by one with `acquire_run`; a backend shared between
        processes does it in one statement."""
        dead = frozenset(dead_owners)
        claimed: list[RunRecord] = []
        for run in self.unfinished_runs():
            if len(claimed) >= limit:
                break
            free = run.owner is None or run.lease_until is None or run.lease_until < now or run.owner in dead
            if free and self.acquire_run(run.id, owner, now, lease_until, tuple(dead)):
                claimed.append(replace(run, owner=owner, lease_until=lease_until))
        return claimed

    # -- telling other processes that a run's reply is committed -----------------------------------
    # True when `announce_runs` reaches the `watch_runs` of other processes (PostgreSQL's
    # LISTEN/NOTIFY); False for the defaults below: a process waiting for another's run reads the
    # store again from time to time instead.
    announces: bool = False

    def announce_runs(self, run_ids: Sequence[str]) -> None:
        """Tell the processes sharing this store that these runs committed a reply (a Response or
        their end). The default tells no one: they poll."""
        return

    async def watch_runs(self, on_run: Callable[[str], None]) -> None:
        """Call `on_run(run_id)` for every run announced by any process, until cancelled. The default
        returns at once (nothing is announced)."""
        return

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
        """Atomically: claim `fire.occurrence_key` (if any), create `fire.runs` with `fire.actions`,
        replace the trigger state (if given) and append the history event. False, with nothing
        written, when the occurrence key was claimed before."""

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
