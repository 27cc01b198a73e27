"""Replication, the receiving half: a peer's batches stored as replicas, and the replicas adopted when
this location is activated (pairflow.continuity.replication sends; docs/continuity.md).

Receiving (`Receiver.receive`, behind `POST /api/continuity/replicate`):

- a batch from a location whose epoch is lower than this one's is refused (409 with this epoch: the
  sender steps down); a higher epoch is adopted first, as anywhere else;
- the workflow versions the runs ran are mapped by content, since version numbers differ between
  locations: an equal stored version is used, else the content is stored as a new version that is
  not made the deployed one (the deployed content is stored again on top, or the workflow is
  deleted again when it is not deployed here). The mapping is kept in `replication:versions:<origin>`;
- a run new here is created owned by `replica:<origin>` with a lease that never ends, so the
  dispatcher never takes it; its action records, variables and end are committed with
  `Store.commit`. A replica already here is brought up to date; a run that ended here is final; a
  run of this location's own is replaced only when the engine's fence stops it here (it was
  adopted by the sender, which holds a newer epoch);
- trigger states (active-passive workflows' polling cursors, windows, last fires) are kept in the
  document `replication:triggers` until an activation imports them.

Adopting (`Receiver.activated`, on every change of the location's role): once per epoch at which
this location is active, the kept trigger states are imported (a Recurrence state only when its
`lastFire` is later than this location's own), the lease of every unfinished replica is released
and the dispatcher claims them at once (its claim is the atomic `acquire_run`, so with several
processes on one store each run goes to one), and "adopted-runs" is recorded when anything was
adopted. The dispatcher resumes them like runs after a crash: actions recorded Succeeded are not
run again, an action recorded Running runs again with attempts + 1.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pairflow.continuity.replica_codec import (
    action_of,
    origin_of,
    replica_owner,
    run_of,
    version_key,
    version_of,
)
from pairflow.engine.clock import Clock
from pairflow.errors import InputError, StoreError
from pairflow.jsontypes import JSON, JSONObject
from pairflow.server.problems import bad_request
from pairflow.store.base import Store
from pairflow.store.records import ActionRecord, RunRecord, RunUpdate

if TYPE_CHECKING:
    from pairflow.continuity.controller import Continuity
    from pairflow.server.location import Location

_log = logging.getLogger(__name__)

RUNNING = "Running"
NEVER = datetime(2999, 1, 1, tzinfo=UTC)  # a replica's lease: the dispatcher never takes it
TRIGGERS_KEY = "replication:triggers"


def versions_key(origin: str) -> str:
    return f"replication:versions:{origin}"


def _epoch_of(body: JSONObject) -> int:
    epoch = body.get("epoch")
    if not isinstance(epoch, int) or isinstance(epoch, bool) or epoch < 0:
        raise bad_request("InvalidReplication", "/epoch: expected the sender's epoch, a non-negative integer")
    return epoch


class Receiver:
    """Stores a peer's runs as replicas; adopts them when this location is activated."""

    def __init__(self, store: Store, *, name: str, continuity: Continuity, clock: Clock) -> None:
        self.store = store
        self.name = name
        self.continuity = continuity
        self.clock = clock
        self.received = 0  # runs stored from peers (created or brought up to date)
        self.adopted = 0
        self._mappings: dict[str, dict[str, int]] = {}
        self._adopted_epoch: int | None = None

    # -- receiving -----------------------------------------------------------------------------------
    async def receive(self, body: JSON) -> tuple[int, JSONObject]:
        """The HTTP status and answer to one batch (see the module docstring)."""
        if not isinstance(body, dict):
            raise bad_request("InvalidReplication", "The replication batch must be a JSON object.")
        origin = body.get("location")
        if not isinstance(origin, str) or not origin or origin == self.name:
            raise bad_request("InvalidReplication", "/location: expected the sending peer's name")
        epoch = _epoch_of(body)
        continuity = self.continuity
        if epoch > continuity.epoch:
            await continuity.observe_epoch(epoch, f"replication from {origin}")
        if epoch < continuity.epoch:
            return 409, {
                "accepted": False,
                "reason": f"epoch {epoch} of {origin} is older than {continuity.epoch} here",
                "location": self.name,
                "epoch": continuity.epoch,
            }
        try:
            mapping = self._map_versions(origin, body.get("versions") or {})
            imported, skipped, need = self._import_runs(origin, body.get("runs") or [], mapping)
            states = self._keep_states(origin, epoch, body.get("triggers") or [])
        except InputError as error:
            raise bad_request("InvalidReplication", error.message) from None
        return 200, {
            "accepted": True,
            "location": self.name,
            "epoch": continuity.epoch,
            "imported": imported,
            "skipped": skipped,
            "triggerStates": states,
            "needVersions": sorted(need),
        }

    def _mapping(self, origin: str) -> dict[str, int]:
        mapping = self._mappings.get(origin)
        if mapping is None:
            found = self.store.get_meta(versions_key(origin))
            stored = found[0] if found is not None else {}
            mapping = {str(k): v for k, v in stored.items() if isinstance(v, int)}
            self._mappings[origin] = mapping
        return mapping

    def _map_versions(self, origin: str, versions: JSON) -> dict[str, int]:
        if not isinstance(versions, dict):
            raise InputError("/versions: expected an object of workflow versions")
        mapping = self._mapping(origin)
        learned = False
        for key, item in versions.items():
            if key in mapping:
                continue
            workflow, number, definition, parameters = version_of(item, f"/versions/{key}")
            mapping[version_key(workflow, number)] = self._local_version(workflow, definition, parameters)
            learned = True
        if learned:
            self.store.put_meta(versions_key(origin), dict(mapping))
        return mapping

    def _local_version(self, workflow: str, definition: JSONObject, parameters: JSONObject) -> int:
        """This store's number for a version with this content; stored when none has it."""
        latest = self.store.get_workflow(workflow)
        top = latest.version if latest is not None else self._highest(workflow)
        for number in range(top, 0, -1):
            found = self.store.get_workflow(workflow, number)
            if found is not None and found.definition == definition and found.parameters == parameters:
                return number
        now = self.clock.now()
        stored = self.store.put_workflow(workflow, definition, parameters, now)
        if latest is None:
            self.store.delete_workflow(workflow)  # kept for the run history only: not deployed here
        else:
            self.store.put_workflow(workflow, latest.definition, latest.parameters, now)
        return stored.version

    def _highest(self, workflow: str) -> int:
        number = 0
        while self.store.get_workflow(workflow, number + 1) is not None:
            number += 1
        return number

    def _import_runs(self, origin: str, runs: JSON, mapping: dict[str, int]) -> tuple[int, int, set[str]]:
        if not isinstance(runs, list):
            raise InputError("/runs: expected an array of runs")
        updates: list[RunUpdate] = []
        imported = skipped = 0
        need: set[str] = set()
        for index, item in enumerate(runs):
            where = f"/runs/{index}"
            if not isinstance(item, dict):
                raise InputError(f"{where}: expected {{run, actions}}")
            run = run_of(item.get("run"), f"{where}/run")
            raw_actions = item.get("actions") or []
            if not isinstance(raw_actions, list):
                raise InputError(f"{where}/actions: expected an array")
            actions = [action_of(run.id, a, f"{where}/actions/{i}") for i, a in enumerate(raw_actions)]
            key = version_key(run.workflow, run.version)
            if key not in mapping:
                need.add(key)
                continue
            if self._import(origin, replace(run, version=mapping[key]), actions, updates):
                imported += 1
            else:
                skipped += 1
        if updates:
            self.store.commit(updates)
        self.received += imported
        return imported, skipped, need

    def _import(
        self, origin: str, run: RunRecord, actions: list[ActionRecord], updates: list[RunUpdate]
    ) -> bool:
        """Store one run as a replica (its action records queued in `updates`); False when skipped."""
        owner = replica_owner(origin)
        local = self.store.get_run(run.id)
        if local is None:
            self.store.create_run(replace(run, owner=owner, lease_until=NEVER))
            if actions:
                updates.append(RunUpdate(run.id, actions=actions))
            return True
        if local.status != RUNNING:
            return False  # it ended here: final
        if origin_of(local.owner) is None and self.continuity.allows(local):
            return False  # this location's own run, and it may go on here
        if local.owner != owner and not self.store.acquire_run(
            run.id, owner, self.clock.now(), NEVER, [local.owner] if local.owner else []
        ):
            return False
        ending = run.status != RUNNING
        updates.append(
            RunUpdate(
                run.id,
                actions=actions,
                variables=run.variables,
                status=run.status if ending else None,
                outputs=run.outputs if ending else None,
                error=run.error if ending else None,
                response=run.response if ending else None,
                ended_at=run.ended_at if ending else None,
            )
        )
        return True

    def _keep_states(self, origin: str, epoch: int, states: JSON) -> int:
        if not isinstance(states, list):
            raise InputError("/triggers: expected an array of trigger states")
        if not states:
            return 0
        found = self.store.get_meta(TRIGGERS_KEY)
        kept = dict(found[0]) if found is not None else {}
        for index, item in enumerate(states):
            if not isinstance(item, dict) or not isinstance(item.get("state"), dict):
                raise InputError(f"/triggers/{index}: expected {{workflow, trigger, state}}")
            workflow, trigger = str(item.get("workflow")), str(item.get("trigger"))
            kept[f"{workflow}/{trigger}"] = {
                "workflow": workflow,
                "trigger": trigger,
                "state": item["state"],
                "from": origin,
                "epoch": epoch,
            }
        self.store.put_meta(TRIGGERS_KEY, kept)
        return len(states)

    # -- adopting ------------------------------------------------------------------------------------
    async def activated(self, location: Location) -> None:
        """Called on every role change: the first time at an epoch this location is active, import
        the kept trigger states and adopt the unfinished replicas (see the module docstring)."""
        continuity = self.continuity
        if not (continuity.doc.active and continuity.acting()) or self._adopted_epoch == continuity.epoch:
            return
        self._adopted_epoch = continuity.epoch
        try:
            states = await self._import_states(location)
            adopted = self.adopt()
        except StoreError as error:
            _log.error("location %s: replicas not adopted: %s", self.name, error.message)
            self._adopted_epoch = None
            return
        if not adopted and not states:
            return
        origins: dict[str, JSON] = {}
        for run in adopted:
            origin = origin_of(run.owner) or "?"
            count = origins.get(origin, 0)
            origins[origin] = (count if isinstance(count, int) else 0) + 1
        detail: JSONObject = {"count": len(adopted), "from": origins, "triggerStates": states}
        try:
            async with continuity.lock:
                continuity.commit(continuity.doc, "adopted-runs", detail)
        except StoreError as error:
            _log.error("location %s: adopted-runs not recorded: %s", self.name, error.message)
        _log.warning(
            "location %s adopted %d replicated runs at epoch %d", self.name, len(adopted), continuity.epoch
        )
        _resume(location)

    def adopt(self) -> list[RunRecord]:
        """Make every unfinished replica a run of this location: its replica lease is released, so
        the dispatcher claims it (`acquire_run`, atomic: with several processes sharing the store,
        each adopted run goes to one). The replicas adopted, as they were."""
        adopted: list[RunRecord] = []
        for run in self.store.unfinished_runs():
            if run.owner is not None and origin_of(run.owner) is not None:
                self.store.release_run(run.id, run.owner)
                adopted.append(run)
        self.adopted += len(adopted)
        return adopted

    async def _import_states(self, location: Location) -> int:
        found = self.store.get_meta(TRIGGERS_KEY)
        if found is None or not found[0]:
            return 0
        count = 0
        for item in found[0].values():
            if not isinstance(item, dict) or not isinstance(item.get("state"), dict):
                continue
            workflow, trigger, state = str(item.get("workflow")), str(item.get("trigger")), item["state"]
            version = self.store.get_workflow(workflow)
            if version is None or trigger not in _triggers(version.definition):
                continue
            if not _newer(state, self.store.get_trigger_state(workflow, trigger)):
                continue
            try:
                await location.import_trigger_state(workflow, trigger, state)
            except InputError as error:
                _log.error("%s/%s: replicated state not imported: %s", workflow, trigger, error.message)
                continue
            count += 1
        self.store.put_meta(TRIGGERS_KEY, {})  # consumed: a later activation does not go back to them
        return count

    def status(self) -> JSONObject:
        return {"receivedRuns": self.received, "adoptedRuns": self.adopted}


def _resume(location: Location) -> None:
    """Have the dispatcher take the runs nobody executes now (the adopted ones among them), rather
    than at its next sweep; a dispatcher without sweeps resumes them when started again."""
    sweep = getattr(location.dispatcher, "sweep", None)
    if callable(sweep):
        sweep()
    else:
        task = asyncio.get_running_loop().create_task(location.dispatcher.start())
        task.add_done_callback(_report)


def _report(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and (error := task.exception()) is not None:
        _log.error("resuming adopted runs failed: %s", error, exc_info=error)


def _triggers(definition: JSONObject) -> Sequence[str]:
    triggers = definition.get("triggers")
    return list(triggers) if isinstance(triggers, dict) else []


def _newer(state: JSONObject, local: JSONObject | None) -> bool:
    """Whether a replicated trigger state should replace this location's: a Recurrence's only when
    its last fire is later (each location of a split schedule keeps its own)."""
    theirs, ours = state.get("lastFire"), (local or {}).get("lastFire")
    if isinstance(theirs, str) and isinstance(ours, str):
        return _instant(theirs) > _instant(ours)
    return state != local


def _instant(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
