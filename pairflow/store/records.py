"""The records the store keeps: workflow versions, runs and action records.

Times are timezone-aware UTC datetimes in Python and ISO-8601 strings (`...Z`, 7 fractional digits as
Logic Apps prints them are not required) in JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pairflow.jsontypes import JSON, JSONObject


@dataclass(frozen=True, slots=True)
class WorkflowVersion:
    name: str
    version: int  # 1, 2, …; a new version is stored only when definition or parameters change
    definition: JSONObject
    parameters: JSONObject  # parameter values by name (secure values included; never shown in history)
    created_at: datetime
    enabled: bool = True


@dataclass(slots=True)
class RunRecord:
    id: str
    workflow: str
    version: int
    status: str  # "Running", "Succeeded", "Failed", "Cancelled"
    trigger: (
        JSONObject  # the trigger result: {name, inputs, outputs: {headers, body}, startTime, endTime, status}
    )
    created_at: datetime
    variables: JSONObject = field(default_factory=dict)  # name -> {"type": t, "value": v}
    outputs: JSONObject | None = None
    error: JSONObject | None = None
    response: JSONObject | None = None  # {statusCode, headers, body} from a Response action
    ended_at: datetime | None = None
    owner: str | None = None  # the process executing it (lease holder)
    lease_until: datetime | None = None
    parent_run: str | None = None  # set for runs started by a Workflow action
    epoch: int = 0  # the location epoch the run was started under (fencing)

    def copy(self) -> RunRecord:
        """A shallow copy, built directly: `dataclasses.replace` costs several times more, and a
        Request run is copied a few times on its way to the store."""
        return RunRecord(
            self.id,
            self.workflow,
            self.version,
            self.status,
            self.trigger,
            self.created_at,
            self.variables,
            self.outputs,
            self.error,
            self.response,
            self.ended_at,
            self.owner,
            self.lease_until,
            self.parent_run,
            self.epoch,
        )


@dataclass(slots=True)
class ActionRecord:
    run_id: str
    name: str
    repetition: str  # "" at the top level; inside loops e.g. "For_each=000003" or "Outer=000001/Inner=000002"
    status: str
    attempts: int = 0
    inputs: JSON = None
    outputs: JSON = None
    error: JSONObject | None = None
    code: str | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    tracked_properties: JSONObject | None = None
    state: JSONObject = field(
        default_factory=dict
    )  # the engine's private bookkeeping (loop progress, branch)

    @property
    def key(self) -> tuple[str, str]:
        return (self.name, self.repetition)


@dataclass(slots=True)
class RunUpdate:
    """One atomic change to a run: action records upserted, variables replaced, completion recorded."""

    run_id: str
    actions: list[ActionRecord] = field(default_factory=list)
    variables: JSONObject | None = None  # the whole variables map, when it changed
    status: str | None = None  # set to end the run
    outputs: JSONObject | None = None
    error: JSONObject | None = None
    response: JSONObject | None = None
    ended_at: datetime | None = None
    # Clear the lease this owner holds on the run in the same transaction (a run's last commit), so
    # ending a run costs no separate release; a lease held by another owner is left alone.
    release_owner: str | None = None

    def applied_to(self, run: RunRecord) -> RunRecord:
        """The run row as `Store.commit` of this update leaves it (the action records aside): lets a
        run not yet written be created in the state its first steps put it in."""
        changed = run.copy()
        if self.variables is not None:
            changed.variables = self.variables
        if self.status is not None:
            changed.status = self.status
            changed.outputs, changed.error, changed.response = self.outputs, self.error, self.response
            changed.ended_at = self.ended_at
        if self.release_owner is not None and self.release_owner == run.owner:
            changed.owner, changed.lease_until = None, None
        return changed


@dataclass(frozen=True, slots=True)
class TriggerEvent:
    """One entry of a trigger's history: it fired (and started runs), was skipped, or failed."""

    id: str
    workflow: str
    trigger: str
    status: str  # "Succeeded" (fired), "Skipped" (conditions false, nothing new), "Failed"
    fired_at: datetime
    run_ids: tuple[str, ...] = ()
    occurrence: str | None = None  # the scheduled instant or window it stands for, when it has one
    outputs: JSON = None
    error: JSONObject | None = None


@dataclass(slots=True)
class TriggerFire:
    """Everything one firing of a trigger writes, in one transaction.

    A second fire with the same `occurrence_key` for the same (workflow, trigger) writes nothing, so
    a recurrence occurrence or sliding window fires once however often it is attempted.
    """

    event: TriggerEvent
    runs: list[RunRecord] = field(default_factory=list)
    occurrence_key: str | None = None
    state: JSONObject | None = None  # the trigger's new state (polling cursor, window, last fire)
    # Action records of these runs, written with them: the steps a Request run took before anything
    # was durable (`Engine` runs instant actions first), so one transaction holds the run and them.
    actions: list[ActionRecord] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class LocationEvent:
    """One entry of a location's continuity history: activation, step-down, failover, failback…

    Every transition is recorded with the epoch it happened under, so both locations' histories
    can be read side by side."""

    id: str
    kind: str  # e.g. "activated", "deactivated", "stepped-down", "failover", "failback", "watchdog-alert"
    epoch: int
    at: datetime
    location: str  # the location that recorded it
    detail: JSONObject = field(default_factory=dict)
