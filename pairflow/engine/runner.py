"""The runner: carries out the state machine's commands for runs, durably.

`Engine` creates runs, takes a run's lease, and drives it: it asks `decide` what is next, opens
containers (evaluating If/Switch/Foreach/Until expressions), runs executors, and commits every
action record before anything that depends on it starts. Commits of concurrent runs are grouped
into one store transaction per event-loop turn. A run resumed after a crash continues from its
committed records: actions recorded Succeeded are never executed again, an action recorded Running
is executed again with `attempts + 1`. A run whose lease another process took over (this one stalled
past it) is dropped: its driver starts nothing and commits nothing further (`RunLeaseLostError`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar

import httpx

import pairflow.actions
from pairflow.actions.base import EXECUTORS, NO_ITEM, ActionResult, NoItem, Variables, WorkflowCaller
from pairflow.actions.common import parse_duration
from pairflow.definition.model import ActionDef, Status, WorkflowDefinition, build_definition
from pairflow.engine.clock import Clock, SystemClock, VirtualClock
from pairflow.engine.condition import case_matches, condition_holds
from pairflow.engine.context import RunContext, RunScope, RunVariables, action_result, iso
from pairflow.engine.decide import (
    CANCELLED,
    CONTAINER_TYPES,
    FAILED,
    RUNNING,
    SKIPPED,
    SUCCEEDED,
    TERMINAL,
    Command,
    CompleteAction,
    CompleteIteration,
    CompleteRun,
    EvaluateUntil,
    Plan,
    RunState,
    SkipAction,
    StartAction,
    apply_iteration,
    decide_after,
    decide_after_iteration,
    decide_all,
    iteration_key,
    open_container,
)
from pairflow.errors import ExpressionError, InputError, PairflowError, RunNotFoundError, StoreError
from pairflow.expressions import evaluate
from pairflow.expressions.values import type_name
from pairflow.jsontypes import JSON, JSONObject
from pairflow.store.base import Store
from pairflow.store.records import ActionRecord, RunRecord, RunUpdate, TriggerFire, WorkflowVersion

_ = pairflow.actions  # importing the package registers the built-in executors
_log = logging.getLogger(__name__)

LEASE_SECONDS = 15.0  # how long a run's lease lasts without renewal
DEFAULT_FOREACH_CONCURRENCY = 20  # parallel iterations (Logic Apps' default)
MAX_FOREACH_CONCURRENCY = 50  # Logic Apps' upper bound
UNTIL_DEFAULT_COUNT = 60
UNTIL_DEFAULT_TIMEOUT = "PT1H"
WAITING = "Waiting"

# Executors that compute from the run's state without I/O: a crash while one runs is the same as a
# crash before it started, so their Running state is not committed separately.
INSTANT_TYPES = frozenset(
    {
        "Compose",
        "InitializeVariable",
        "SetVariable",
        "IncrementVariable",
        "DecrementVariable",
        "AppendToArrayVariable",
        "AppendToStringVariable",
        "ParseJson",
        "Query",
        "Select",
        "Join",
        "Table",
        "Response",
    }
)

# Consecutive rounds of instant actions (pure: their results depend on nothing outside the run) are
# committed together with whatever commits next, a non-instant action's start or the run's end: a
# crash before that commit re-runs them with nothing seen outside. Bounded, so a long chain of them
# still commits (and yields the event loop) now and then.
MAX_UNCOMMITTED_ROUNDS = 32
MAX_UNCOMMITTED_RECORDS = 256

WorkflowLoader = Callable[[str, int | None], WorkflowVersion | None]
# Told (run id, Response outputs or None, run status) once a Succeeded Response is committed (status
# "Running" unless the same commit ended the run) and again when the run ends.
ReplyHook = Callable[[str, JSONObject | None, str], None]


class RunLeasedError(PairflowError):
    """Another live process is executing the run."""


class RunLeaseLostError(RunLeasedError):
    """The run's lease lapsed here and another process took the run over: this driver stops without
    committing anything further, so no attempt runs twice."""


class RunFencedError(RunLeasedError):
    """The location stepped down since the run started: its actions stop here (fencing)."""


class RunFence(Protocol):
    """The location's continuity, seen by the engine: the epoch new runs carry, and whether a run
    may start more actions (pairflow.continuity.controller.Continuity)."""

    @property
    def epoch(self) -> int: ...

    def allows(self, run: RunRecord) -> bool: ...


def ordered_id() -> str:
    """A new run or event id: 32 hex digits that sort by creation time (nanoseconds, then 64 random
    bits), so that a new row lands at the end of the store's id indexes rather than on a random
    page: fewer pages written per commit than with random UUIDs. Not secret: a run id grants nothing
    (the run API needs a key), so the fast generator serves (reseeded in a forked child)."""
    return f"{time.time_ns():016x}{random.getrandbits(64):016x}"


def _action_timeout(action: ActionDef) -> float | None:
    """`limit.timeout` of an action (ISO 8601), for executors that do not keep it themselves: Http
    measures it across its retries, so the engine leaves Http alone."""
    if action.type == "Http":
        return None
    limit = action.raw.get("limit")
    timeout = limit.get("timeout") if isinstance(limit, dict) else None
    if not isinstance(timeout, str):
        return None
    try:
        return parse_duration(timeout)
    except (ValueError, PairflowError):
        return None


def _settle(future: asyncio.Future[None], error: BaseException | None) -> None:
    """Tell a waiter how a write ended (once; a waiter that gave up cancelled its future)."""
    if future.done():
        return
    if error is None:
        future.set_result(None)
    elif isinstance(error, asyncio.CancelledError):  # the writer was cancelled, not the waiter
        future.set_exception(StoreError("the run's first commit was interrupted: the location is stopping"))
    else:
        future.set_exception(error)


def default_owner() -> str:
    """This process as a lease owner: 'pid@hostname'."""
    return f"{os.getpid()}@{socket.gethostname()}"


def owner_is_dead(owner: str | None) -> bool:
    """True only for an owner 'pid@hostname' on this host whose process no longer exists."""
    if not owner or "@" not in owner:
        return False
    pid_text, _, host = owner.partition("@")
    if host != socket.gethostname():
        return False
    try:
        pid = int(pid_text)
    except ValueError:
        return False
    if pid == os.getpid() or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


Item = TypeVar("Item")
Result = TypeVar("Result")


class _Batcher(Generic[Item, Result]):
    """Groups the items submitted during one event-loop turn into one store transaction.

    A store whose writes may wait for the disk or the network (`Store.offload_writes`) has them run
    on a worker thread, one at a time, when they are slow: the event loop keeps serving while the
    next batch gathers, so a slow fsync makes batches larger instead of stalling every caller. Fast
    writes stay on the loop, where they cost less than the hand-over (the worker contends for the
    interpreter lock with the loop, and each of its statements may wait for it): the batcher times
    its writes and switches between the two, re-timing one write on the loop every `PROBE_EVERY`
    batches while offloading. Each caller resumes only once its item is durable, whichever way."""

    INLINE_SECONDS = 0.003  # a write the loop may wait for (smoothed over recent writes)
    PROBE_EVERY = 64

    def __init__(self, store: Store, *, offload: bool) -> None:
        self._store = store
        self._may_offload = offload
        self._write_seconds = 0.0  # smoothed duration of writes timed on the loop
        self._offloaded = 0  # batches written on the worker since the last timed one
        self._pending: list[tuple[Item, asyncio.Future[Result]]] = []
        self._scheduled = False
        self._flushing = False

    @property
    def offloading(self) -> bool:
        """Whether writes go to the worker thread now (they were slow when last timed)."""
        return self._may_offload and self._write_seconds > self.INLINE_SECONDS

    async def submit(self, item: Item) -> Result:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Result] = loop.create_future()
        self._pending.append((item, future))
        self._schedule(loop)
        return await future

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        if not self._scheduled and not self._flushing and self._pending:
            self._scheduled = True
            loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._scheduled = False
        batch, self._pending = self._pending, []
        if not batch:
            return
        items = [item for item, _ in batch]
        if not self.offloading or self._offloaded >= self.PROBE_EVERY:
            self._offloaded = 0
            started = time.perf_counter()
            outcomes = self._outcomes(items)
            if self._may_offload:
                # One outlier (a log checkpoint, say) is clamped, so alone it never tips the balance.
                took = min(time.perf_counter() - started, 4 * self.INLINE_SECONDS)
                self._write_seconds = 0.8 * self._write_seconds + 0.2 * took
            self._settle(batch, outcomes)
            return
        self._offloaded += 1
        self._flushing = True
        asyncio.get_running_loop().create_task(self._flush_on_thread(batch, items))

    async def _flush_on_thread(
        self, batch: list[tuple[Item, asyncio.Future[Result]]], items: list[Item]
    ) -> None:
        try:
            outcomes = await asyncio.to_thread(self._outcomes, items)
        finally:
            self._flushing = False
            self._schedule(asyncio.get_running_loop())
        self._settle(batch, outcomes)

    def _outcomes(self, items: list[Item]) -> list[Result | BaseException]:
        """Write the batch; per item, its result or the error that refused it. Never raises."""
        try:
            return list(self._write(items))
        except StoreError:
            # The store wrote none of it: one refused item must not fail the others.
            outcomes: list[Result | BaseException] = []
            for item in items:
                try:
                    outcomes.append(self._write([item])[0])
                except StoreError as error:
                    outcomes.append(error)
            return outcomes
        except Exception as error:  # settled into every future; raised here it would strand them
            return [error] * len(items)

    def _settle(
        self, batch: list[tuple[Item, asyncio.Future[Result]]], outcomes: list[Result | BaseException]
    ) -> None:
        for (item, future), outcome in zip(batch, outcomes, strict=True):
            if future.done():
                continue
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)
                self._written(item)

    def _write(self, items: list[Item]) -> Sequence[Result]:
        raise NotImplementedError

    def _written(self, item: Item) -> None:
        """Called on the event loop for each item once it is durable."""


class _CommitBatcher(_Batcher[RunUpdate, None]):
    """Run updates (action records, variables, run ends) of concurrent runs, committed together."""

    def __init__(
        self, store: Store, *, offload: bool, committed: Callable[[Sequence[str]], None] | None = None
    ) -> None:
        super().__init__(store, offload=offload)
        self._committed = committed  # told the run id of every update committed

    async def commit(self, update: RunUpdate) -> None:
        await self.submit(update)

    def _write(self, items: list[RunUpdate]) -> Sequence[None]:
        self._store.commit(items)
        return [None] * len(items)

    def _written(self, item: RunUpdate) -> None:
        if self._committed is not None:
            self._committed([item.run_id])


class _FireBatcher(_Batcher[TriggerFire, bool]):
    """Trigger fires of concurrent Request calls, written in one `Store.fire_triggers` transaction."""

    async def fire(self, fire: TriggerFire) -> bool:
        return await self.submit(fire)

    def _write(self, items: list[TriggerFire]) -> Sequence[bool]:
        if len(items) == 1:
            return [self._store.fire_trigger(items[0])]
        return self._store.fire_triggers(items)


class Engine:
    """Starts, executes, resumes and cancels runs against one store."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock | None = None,
        owner: str | None = None,
        http_client: httpx.AsyncClient | None = None,
        id_factory: Callable[[], str] | None = None,
        workflow_loader: WorkflowLoader | None = None,
        lease_seconds: float = LEASE_SECONDS,
        app_settings: Mapping[str, str] | None = None,
        group_commit: bool = True,
    ) -> None:
        """`group_commit`: commit the updates (and trigger fires) of concurrent runs made in one
        event-loop turn in one shared transaction. False gives each its own transaction, one disk
        flush each at full durability: the same guarantees, for comparison (bench/bench_scaling.py)."""
        self.store = store
        self.group_commit = group_commit
        self.clock: Clock = clock or SystemClock()
        self.owner = owner or default_owner()
        self._http = http_client
        self._own_http = http_client is None
        self._new_id = id_factory or ordered_id
        self._load_workflow: WorkflowLoader = workflow_loader or store.get_workflow
        self.lease_seconds = lease_seconds
        self.app_settings: Mapping[str, str] = dict(app_settings or {})
        self._plans: dict[tuple[str, int], tuple[WorkflowVersion, Plan]] = {}
        # Writes go to a worker thread when the store's commits wait for the disk, except under a
        # virtual clock: virtual time advances when the loop is idle, and a thread's work is invisible
        # to it, so deterministic tests write inline.
        offload = store.offload_writes and not isinstance(self.clock, VirtualClock)
        self._batcher = _CommitBatcher(store, offload=offload, committed=self.committed)
        self._fires = _FireBatcher(store, offload=offload)
        self._drivers: dict[str, _RunDriver] = {}
        self._renewer: asyncio.Task[None] | None = None
        # The lease every run of this owner had at the last successful renewal (`renew_leases` extends
        # them all, queued runs' too).
        self._renewed_until: datetime | None = None
        self.on_reply: ReplyHook | None = None  # set by whoever answers HTTP callers (the dispatcher)
        self.fence: RunFence | None = None  # set by a location with continuity
        # Told the ids of runs created or committed, after the commit (replication ships them).
        self.on_committed: Callable[[Sequence[str]], None] | None = None

    # -- public API ----------------------------------------------------------------------------------
    @property
    def offloading_writes(self) -> bool:
        """Whether run commits go to a worker thread now: the store may be slow (`offload_writes`)
        and its writes were, when last timed on the event loop."""
        return self._batcher.offloading

    async def start_run(
        self,
        workflow: str,
        *,
        trigger_outputs: JSONObject | None = None,
        trigger_name: str | None = None,
        version: int | None = None,
        run_id: str | None = None,
        parent_run: str | None = None,
        lease: bool = False,
    ) -> RunRecord:
        """Create the run (committed) with its trigger result; nothing executes yet."""
        run = self.prepare_run(
            workflow,
            trigger_outputs=trigger_outputs,
            trigger_name=trigger_name,
            version=version,
            run_id=run_id,
            parent_run=parent_run,
            lease=lease,
        )
        self.store.create_run(run)
        self.committed([run.id])
        return run

    def prepare_run(
        self,
        workflow: str,
        *,
        trigger_outputs: JSONObject | None = None,
        trigger_name: str | None = None,
        version: int | None = None,
        run_id: str | None = None,
        parent_run: str | None = None,
        lease: bool = False,
    ) -> RunRecord:
        """The record of a new run with its trigger result, not yet stored: triggers commit it
        together with their own state (`Store.fire_trigger`).

        `lease`: the run is created already leased to this engine, which is about to execute it
        (`_execute(run, fresh=True)`), so executing it costs no separate `acquire_run`."""
        found, plan = self._plan(workflow, version)
        definition = plan.definition
        now = self.clock.now()
        supplied = dict(trigger_outputs or {})
        outputs: JSONObject = {
            "headers": supplied.pop("headers", None) or {},
            "body": supplied.pop("body", None),
        }
        outputs.update(supplied)
        name = trigger_name or (definition.trigger.name if definition.trigger else "manual")
        trigger_def = definition.triggers.get(name)
        trigger: JSONObject = {
            "name": name,
            "inputs": trigger_def.inputs if trigger_def is not None else None,
            "outputs": outputs,
            "startTime": (now_text := iso(now)),
            "endTime": now_text,
            "status": SUCCEEDED,
        }
        return RunRecord(
            id=run_id or self._new_id(),
            workflow=found.name,
            version=found.version,
            status=RUNNING,
            trigger=trigger,
            created_at=now,
            parent_run=parent_run,
            epoch=self.fence.epoch if self.fence is not None else 0,
            owner=self.owner if lease else None,
            lease_until=now + timedelta(seconds=self.lease_seconds) if lease else None,
        )

    async def execute(self, run_id: str) -> RunRecord:
        """Take the run's lease and drive it to its end; returns the ended run."""
        run = self.store.get_run(run_id)
        if run is None:
            raise RunNotFoundError(f"no run with id '{run_id}'")
        return await self._execute(run, fresh=False)

    async def execute_fired(self, fire: TriggerFire, durable: asyncio.Future[None]) -> RunRecord:
        """Execute the one run of a Request trigger's `fire` before the fire is written: the run's
        first commit writes the fire, the run as its instant actions left it and their records, in
        one transaction (for Compose → Response, the whole run). `durable` settles once the fire is
        written, or with the error that refused it; only then may the caller hear of the run.

        Should the run stop before its first commit, the fire is written as it was prepared (the run
        Running, as `fire` + `_execute` would have left it), so a settled `durable` always means the
        run exists."""
        (run,) = fire.runs
        try:
            return await self._execute(run, fresh=True, first=(fire, durable))
        except BaseException:
            if not durable.done():  # no commit was attempted: write the fire as prepared
                try:
                    await self.fire(fire)
                except BaseException as error:
                    _settle(durable, error)
                    raise
                _settle(durable, None)
            raise

    async def _execute(
        self,
        run: RunRecord,
        *,
        fresh: bool,
        first: tuple[TriggerFire, asyncio.Future[None]] | None = None,
    ) -> RunRecord:
        """`fresh`: the run was just created by this engine, so it has no action records to load.
        `first`: it was not written yet: its first commit writes this fire (`execute_fired`)."""
        run_id = run.id
        if run.status != RUNNING:
            return run
        if run_id in self._drivers:
            raise RunLeasedError(f"run '{run_id}' is already executing in this engine")
        now = self.clock.now()
        # A run this engine created leased to itself is still ours while its lease lasts (the
        # renewer extends every lease of this owner, queued runs' too): nothing to acquire.
        leased = fresh and run.owner == self.owner and run.lease_until is not None and run.lease_until > now
        if leased:
            assert run.lease_until is not None
            until = max(run.lease_until, self._renewed_until or run.lease_until)
        else:
            dead = [run.owner] if run.owner and owner_is_dead(run.owner) else []
            until = now + timedelta(seconds=self.lease_seconds)
            if not self.store.acquire_run(run_id, self.owner, now, until, dead):
                raise RunLeasedError(f"run '{run_id}' is being executed by {run.owner or 'another process'}")
        ended: RunRecord | None = None
        try:
            version, plan = self._plan(run.workflow, run.version)
            records = [] if fresh else self.store.load_actions(run_id)
            driver = _RunDriver(self, run, version, plan, records)
            driver.lease_until = until
            if first is not None:
                driver.fire, driver.durable = first
            self._drivers[run_id] = driver
            self._ensure_renewer()
            try:
                ended = await driver.drive()
            finally:
                self._drivers.pop(run_id, None)
            self.tell_reply(run_id, ended.response, ended.status)
        finally:
            if ended is None:  # the run's last commit, which releases the lease, did not happen
                with contextlib.suppress(StoreError):
                    self.store.release_run(run_id, self.owner)
        return ended

    async def run(self, workflow: str, **start_kwargs: Any) -> RunRecord:
        """Start a run and execute it to its end."""
        record = await self.start_run(workflow, lease=True, **start_kwargs)
        return await self._execute(record, fresh=True)

    async def fire(self, fire: TriggerFire) -> bool:
        """`Store.fire_trigger`, sharing one transaction with the fires of the same event-loop turn;
        returns once the fire is durable."""
        if not self.store.batches_fires or not self.group_commit:
            fired = self.store.fire_trigger(fire)
        else:
            fired = await self._fires.fire(fire)
        if fired and fire.runs:
            self.committed([run.id for run in fire.runs])
        return fired

    async def resume_unfinished(self) -> list[RunRecord]:
        """Execute every unfinished run this engine can take; the ones other live processes hold stay."""

        async def attempt(run: RunRecord) -> RunRecord | None:
            try:
                return await self.execute(run.id)
            except RunLeasedError:
                return None

        results = await asyncio.gather(*(attempt(run) for run in self.store.unfinished_runs()))
        return [record for record in results if record is not None]

    async def cancel(self, run_id: str) -> RunRecord:
        """Cancel a run: actions in progress end Cancelled, nothing else starts."""
        driver = self._drivers.get(run_id)
        if driver is not None:
            driver.request_cancel()
            while run_id in self._drivers:
                await asyncio.sleep(0)
        else:
            run = self.store.get_run(run_id)
            if run is None:
                raise RunNotFoundError(f"no run with id '{run_id}'")
            if run.status == RUNNING:
                now = self.clock.now()
                cancelled = [
                    replace(record, status=CANCELLED, end_time=now)
                    for record in self.store.load_actions(run_id)
                    if record.status not in TERMINAL
                ]
                # a run queued here was created leased to this engine: ending it frees the lease
                ended = RunUpdate(
                    run_id, actions=cancelled, status=CANCELLED, ended_at=now, release_owner=self.owner
                )
                self.store.commit([ended])
        record = self.store.get_run(run_id)
        if record is None:  # pragma: no cover
            raise RunNotFoundError(f"no run with id '{run_id}'")
        return record

    async def aclose(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
            self._renewer = None
        if self._http is not None and self._own_http:
            await self._http.aclose()
            self._http = None

    # -- internals used by drivers -------------------------------------------------------------------
    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient()
        return self._http

    async def commit(self, update: RunUpdate) -> None:
        """Returns once the update is committed: whatever depends on it may start."""
        if self.group_commit:
            await self._batcher.commit(update)
        else:
            self.store.commit([update])
            self.committed([update.run_id])

    def committed(self, run_ids: Sequence[str]) -> None:
        """Call `on_committed` (runs were created or committed); a failing hook is logged, never
        raised into the commit."""
        hook = self.on_committed
        if hook is None or not run_ids:
            return
        try:
            hook(run_ids)
        except Exception:  # a listener's bug must not fail the runs it listens to
            _log.exception("commit hook failed for %d run(s)", len(run_ids))

    def tell_reply(self, run_id: str, response: JSONObject | None, status: str) -> None:
        """Call `on_reply`; a failing hook is logged, never raised into the run."""
        hook = self.on_reply
        if hook is None:
            return
        try:
            hook(run_id, response, status)
        except Exception:  # a listener's bug must not fail the run it listens to
            _log.exception("reply hook failed for run %s", run_id)

    def _plan(self, workflow: str, version: int | None) -> tuple[WorkflowVersion, Plan]:
        if version is not None and (workflow, version) in self._plans:
            return self._plans[(workflow, version)]
        found = self._load_workflow(workflow, version)
        if found is None:
            where = f" version {version}" if version is not None else ""
            raise InputError(f"no workflow named '{workflow}'{where} is deployed")
        key = (found.name, found.version)
        if key not in self._plans:
            self._plans[key] = (found, Plan.build(build_definition(found.definition)))
        return self._plans[key]

    def _ensure_renewer(self) -> None:
        if self._renewer is None or self._renewer.done():
            self._renewer = asyncio.get_running_loop().create_task(self._renew_leases())

    async def _renew_leases(self) -> None:
        while self._drivers:
            await self.clock.sleep(self.lease_seconds / 3)
            if not self._drivers:
                break
            self._renew_now()

    def _renew_now(self) -> None:
        """Extend this owner's leases; a driver whose run is no longer ours (its lease lapsed, say
        after a stall, and another process took it) is stopped. A store that cannot be reached
        leaves the drivers be: they check their lease's expiry themselves before each step."""
        drivers = dict(self._drivers)
        until = self.clock.now() + timedelta(seconds=self.lease_seconds)
        try:
            held = self.store.renew_run_leases(self.owner, list(drivers), until)
        except StoreError as error:
            _log.warning("leases of %s not renewed: %s", self.owner, error.message)
            return
        self._renewed_until = until
        for run_id, driver in drivers.items():
            if run_id in held:
                driver.lease_until = max(driver.lease_until or until, until)
            else:
                driver.lose_lease()

    def confirm_lease(self, run_id: str) -> datetime | None:
        """Renew this owner's leases now; the run's new expiry, or None when it is no longer ours."""
        until = self.clock.now() + timedelta(seconds=self.lease_seconds)
        held = self.store.renew_run_leases(self.owner, [run_id], until)
        if run_id not in held:
            return None
        self._renewed_until = until
        return until

    async def call_workflow(
        self, parent_run: str, workflow: str, trigger: str, body: JSON, headers: JSONObject
    ) -> JSONObject:
        """Run a child workflow to its end; its Response, or a reply made from how it ended."""
        child = await self.start_run(
            workflow,
            trigger_outputs={"headers": headers, "body": body},
            trigger_name=trigger,
            parent_run=parent_run,
        )
        ended = await self.execute(child.id)
        if ended.response is not None:
            return ended.response
        if ended.status == SUCCEEDED:
            return {"statusCode": 200, "headers": {}, "body": ended.outputs}
        error = ended.error or {
            "code": "ActionFailed",
            "message": f"The workflow '{workflow}' ended {ended.status}.",
        }
        return {"statusCode": 502, "headers": {}, "body": {"error": error}}


def _parameters(definition: WorkflowDefinition, version: WorkflowVersion) -> JSONObject:
    values = dict(version.parameters)
    for name, parameter in definition.parameters.items():
        if name not in values and parameter.has_default:
            values[name] = parameter.default
    return values


class _ExecutorContext:
    """`pairflow.actions.base.ActionContext` for one attempt of one action."""

    def __init__(self, driver: _RunDriver, action: ActionDef, repetition: str, attempt: int) -> None:
        self._driver = driver
        self._context = RunContext(driver.scope, repetition)
        self._repetition = repetition
        self.run_id = driver.run.id
        self.action = action
        self.attempt = attempt
        self.variables: Variables = driver.variables
        self._engine = driver.engine
        self.http: httpx.AsyncClient = driver.engine.http

    def evaluate(self, value: JSON, *, item: JSON | NoItem = NO_ITEM) -> JSON:
        context = self._context if isinstance(item, NoItem) else self._context.with_item(item)
        return evaluate(value, context)

    def now(self) -> Any:
        return self._engine.clock.now()

    async def sleep(self, seconds: float) -> None:
        await self._engine.clock.sleep(seconds)

    @property
    def idempotency_key(self) -> str:
        where = f"/{self._repetition}" if self._repetition else ""
        return f"{self.run_id}/{self.action.name}{where}/{self.attempt}"

    @property
    def call_workflow(self) -> WorkflowCaller:
        engine = self._engine
        parent = self.run_id

        async def call(workflow: str, trigger: str, body: JSON, headers: JSONObject) -> JSONObject:
            return await engine.call_workflow(parent, workflow, trigger, body, headers)

        return call


class _Cancel:
    """Queue marker: the run was asked to stop."""


class _LeaseLost:
    """Queue marker: the run's lease was taken over; stop without committing."""


_CANCEL = _Cancel()
_LEASE_LOST = _LeaseLost()
_Finished = tuple[str, str, ActionRecord, ActionResult]


class _RunDriver:
    """Drives one run: applies commands, executes actions, commits before dependents start."""

    def __init__(
        self,
        engine: Engine,
        run: RunRecord,
        version: WorkflowVersion,
        plan: Plan,
        records: list[ActionRecord],
    ) -> None:
        self.engine = engine
        self.run = run
        self.plan = plan
        self.clock = engine.clock
        self.state = RunState.load(plan, records)
        self.variables = RunVariables(run.variables)
        self.scope = RunScope(
            run_id=run.id,
            workflow=run.workflow,
            trigger=run.trigger,
            parameters=_parameters(plan.definition, version),
            plan=plan,
            state=self.state,
            variables=self.variables,
            clock=engine.clock,
            app_settings=engine.app_settings,
        )
        self.pending = RunUpdate(run.id)
        self.starts: list[tuple[str, str]] = []
        self.tasks: dict[tuple[str, str], asyncio.Task[None]] = {}
        self.results: asyncio.Queue[_Finished | _Cancel | _LeaseLost] = asyncio.Queue()
        self.lease_until: datetime | None = None  # when this run's lease ends, as last renewed
        self.lease_lost = False
        self.finished = False
        self.ended: RunRecord | None = None
        self.reply: JSONObject | None = None  # a Succeeded Response's outputs, told once committed
        self.reply_told = False
        # A Request fire not written yet (`Engine.execute_fired`): the first commit writes it.
        self.fire: TriggerFire | None = None
        self.durable: asyncio.Future[None] | None = None
        self.uncommitted_rounds = 0

    # -- the loop ------------------------------------------------------------------------------------
    async def drive(self) -> RunRecord:
        """Run to the end; the ended run as committed."""
        for record in list(self.state.records.values()):
            action = self.plan.definition.all_actions.get(record.name)
            if record.status == RUNNING and action is not None and action.type not in CONTAINER_TYPES:
                self.starts.append(record.key)  # it was running when its process died: run it again
        self.apply(decide_all(self.plan, self.state))
        try:
            while not self.finished:
                if self.starts:
                    await self._round()
                    continue
                if self._has_pending():
                    await self._flush()
                    continue
                if not self.tasks:
                    # Nothing runs and nothing can start: the definition is stuck (a runAfter cycle).
                    self.complete_run(
                        FAILED, {"code": "InvalidTemplate", "message": "The run cannot make progress."}
                    )
                    break
                await self._await_results()
            await self._flush()
        finally:
            for task in self.tasks.values():
                task.cancel()
        assert self.ended is not None  # the loop ends only once the run has ended
        return self.ended

    async def _round(self) -> None:
        fence = self.engine.fence
        if fence is not None and not fence.allows(self.run):
            raise RunFencedError(f"run '{self.run.id}' (epoch {self.run.epoch}): the location stepped down")
        self._check_lease()
        batch, self.starts = self.starts, []
        launch: list[tuple[ActionDef, ActionRecord]] = []
        for name, repetition in batch:
            if self.finished:
                break
            await self.begin(name, repetition, launch)
        self.uncommitted_rounds += 1
        if (
            launch
            or self.uncommitted_rounds >= MAX_UNCOMMITTED_ROUNDS
            or len(self.pending.actions) >= MAX_UNCOMMITTED_RECORDS
        ):
            await self._flush()  # what was begun is durable before anything starts outside
        for action, record in launch:
            if not self.finished:
                self.tasks[record.key] = asyncio.get_running_loop().create_task(self._execute(action, record))

    async def _await_results(self) -> None:
        first = await self.results.get()
        items = [first]
        while not self.results.empty():
            items.append(self.results.get_nowait())
        for item in items:
            if self.finished:
                return
            if isinstance(item, _LeaseLost):
                self._check_lease()  # raises: the lease is lost
                continue
            if isinstance(item, _Cancel):
                self.terminate(CANCELLED, None)
                return
            name, repetition, running, result = item
            self.tasks.pop((name, repetition), None)
            self.finish(running, result)

    def request_cancel(self) -> None:
        self.results.put_nowait(_CANCEL)

    def lose_lease(self) -> None:
        """Told by the renewer that another process holds the run now."""
        if not self.lease_lost:
            self.lease_lost = True
            self.results.put_nowait(_LEASE_LOST)

    def _check_lease(self) -> None:
        """Raise `RunLeaseLostError` unless the run is still ours: before any action starts and any
        commit. Costs a clock read; the store is asked only when the lease is lost or its renewal is
        overdue by a whole period on this clock (this process stalled, or the store was unreachable),
        since then another process may have taken the run over."""
        if not self.lease_lost and self.lease_until is not None:
            margin = timedelta(seconds=self.engine.lease_seconds / 3)
            if self.clock.now() >= self.lease_until - margin:
                renewed = self.engine.confirm_lease(self.run.id)
                if renewed is None:
                    self.lease_lost = True
                else:
                    self.lease_until = renewed
        if self.lease_lost:
            _log.warning("run %s: its lease was taken over; this process stops driving it", self.run.id)
            raise RunLeaseLostError(f"run '{self.run.id}': its lease lapsed and another process took it over")

    def _has_pending(self) -> bool:
        pending = self.pending
        return bool(pending.actions) or pending.variables is not None or pending.status is not None

    async def _flush(self) -> None:
        if not self._has_pending() and self.fire is None:
            return
        self._check_lease()
        update, self.pending = self.pending, RunUpdate(self.run.id)
        self.uncommitted_rounds = 0
        if self.fire is not None:
            await self._write_fire(self.fire, update)
        else:
            await self.engine.commit(update)
        if self.reply is not None and not self.reply_told:
            self.reply_told = True
            self.engine.tell_reply(self.run.id, self.reply, update.status or RUNNING)

    async def _write_fire(self, fire: TriggerFire, update: RunUpdate) -> None:
        """The first commit of a run not written yet: its fire, carrying the run as `update` leaves
        it and `update`'s action records."""
        self.fire = None
        assert self.durable is not None
        with_steps = TriggerFire(
            fire.event,
            [update.applied_to(self.run)],
            fire.occurrence_key,
            fire.state,
            list(update.actions),
        )
        try:
            await self.engine.fire(with_steps)
        except BaseException as error:
            _settle(self.durable, error)
            raise
        _settle(self.durable, None)

    # -- commands ------------------------------------------------------------------------------------
    def record(self, record: ActionRecord) -> None:
        self.state.put(record)
        self.pending.actions.append(record)

    def apply(self, commands: Sequence[Command]) -> None:
        queue: deque[Command] = deque(commands)
        while queue and not self.finished:
            command = queue.popleft()
            if isinstance(command, StartAction):
                if self.state.status(command.name, command.repetition) is None:
                    # A placeholder so that further decisions see it as begun (never committed).
                    self.state.put(ActionRecord(self.run.id, command.name, command.repetition, WAITING))
                    self.starts.append((command.name, command.repetition))
            elif isinstance(command, SkipAction):
                skipped = self.plan.action(command.name)
                if self.state.status(command.name, command.repetition) is None and skipped.type not in (
                    "Foreach",
                    "Until",
                ):
                    for _, children in skipped.child_lists():
                        self.skip_tree(
                            children, command.repetition, f"its container '{command.name}' was skipped"
                        )
                if self.state.status(command.name, command.repetition) is None:
                    now = self.clock.now()
                    self.record(
                        ActionRecord(
                            self.run.id,
                            command.name,
                            command.repetition,
                            SKIPPED,
                            start_time=now,
                            end_time=now,
                            code="ActionSkipped",
                            error={
                                "code": "ActionConditionFailed",
                                "message": f"The execution of template action '{command.name}' is skipped: "
                                "the 'runAfter' condition for it is not satisfied.",
                            },
                        )
                    )
            elif isinstance(command, CompleteAction):
                current = self.state.records.get((command.name, command.repetition))
                if current is None or current.status != RUNNING:
                    continue
                code = "ActionFailed" if command.status == FAILED else None
                self.record(
                    replace(
                        current,
                        status=command.status,
                        error=command.error,
                        end_time=self.clock.now(),
                        code=code,
                    )
                )
                queue.extend(decide_after(self.plan, self.state, command.name, command.repetition))
            elif isinstance(command, CompleteIteration):
                apply_iteration(self.state, command)
                queue.extend(decide_after_iteration(self.plan, self.state, command.loop, command.repetition))
            elif isinstance(command, EvaluateUntil):
                queue.extend(self.evaluate_until(command))
            elif isinstance(command, CompleteRun):
                self.complete_run(command.status, command.error)

    # -- beginning actions ---------------------------------------------------------------------------
    async def begin(self, name: str, repetition: str, launch: list[tuple[ActionDef, ActionRecord]]) -> None:
        action = self.plan.action(name)
        previous = self.state.records.get((name, repetition))
        attempts = (previous.attempts if previous is not None else 0) + 1
        now = self.clock.now()
        running = ActionRecord(self.run.id, name, repetition, RUNNING, attempts=attempts, start_time=now)
        if action.type in CONTAINER_TYPES:
            self.open(action, running)
        elif action.type == "Terminate":
            self.terminate_action(action, running)
        elif action.type in INSTANT_TYPES:
            self.state.put(running)
            result = await self._run_executor(action, running)
            self.finish(running, result)
        else:
            self.record(running)
            launch.append((action, running))

    def open(self, action: ActionDef, running: ActionRecord) -> None:
        """Evaluate a container's expression and record it Running with its bookkeeping."""
        context = RunContext(self.scope, running.repetition)
        raw = action.raw
        state: JSONObject = {"opened": True}
        inputs: JSON = None
        try:
            if action.type == "If":
                holds = condition_holds(raw.get("expression"), context)
                state["branch"] = "actions" if holds else "else"
                inputs = {"expressionResult": holds}
            elif action.type == "Switch":
                value = evaluate(raw.get("expression"), context)
                state["branch"] = "default"
                for case in action.cases.values():
                    if case_matches(value, case.value):
                        state["branch"] = case.name
                        break
                inputs = {"expressionValue": value}
            elif action.type == "Foreach":
                items = evaluate(raw.get("foreach"), context)
                if not isinstance(items, list):
                    kind = type_name(items)
                    raise ExpressionError(
                        f"The result of the evaluation of 'foreach' expression '{raw.get('foreach')}' is of "
                        f"type '{kind}'. The result must be a valid array."
                    )
                inputs = items
                state["count"] = len(items)
                state["concurrency"] = self._foreach_concurrency(action)
            elif action.type == "Until":
                state["iteration"] = 0
        except ExpressionError as error:
            self.record(
                replace(
                    running,
                    status=FAILED,
                    end_time=self.clock.now(),
                    code="InvalidTemplate",
                    error={"code": "InvalidTemplate", "message": error.message},
                )
            )
            self.apply(decide_after(self.plan, self.state, running.name, running.repetition))
            return
        self.record(replace(running, inputs=inputs, state=state))
        if action.type in ("If", "Switch"):
            # Logic Apps shows the actions of the branches not taken as Skipped.
            for branch, children in action.child_lists():
                if branch != state.get("branch"):
                    self.skip_tree(children, running.repetition, "the branch was not taken")
        self.apply(open_container(self.plan, self.state, running.name, running.repetition))

    def skip_tree(self, actions: Mapping[str, ActionDef], repetition: str, why: str) -> None:
        """Record actions (and what non-loop containers among them hold) Skipped."""
        now = self.clock.now()
        for name, action in actions.items():
            if self.state.status(name, repetition) is not None:
                continue
            error = {
                "code": "ActionSkipped",
                "message": f"The execution of template action '{name}' is skipped: {why}.",
            }
            self.record(
                ActionRecord(
                    self.run.id,
                    name,
                    repetition,
                    SKIPPED,
                    start_time=now,
                    end_time=now,
                    code="ActionSkipped",
                    error=error,
                )
            )
            if action.type not in ("Foreach", "Until"):
                for _, children in action.child_lists():
                    self.skip_tree(children, repetition, f"its container '{action.name}' was skipped")

    def _foreach_concurrency(self, action: ActionDef) -> int:
        if "sequential" in action.operation_options:
            return 1
        parent = action.parent
        while parent is not None:  # Logic Apps runs nested Foreach iterations one at a time
            outer = self.plan.action(parent)
            if outer.type == "Foreach":
                return 1
            parent = outer.parent
        concurrency = action.runtime_configuration.get("concurrency")
        repetitions = concurrency.get("repetitions") if isinstance(concurrency, dict) else None
        if isinstance(repetitions, int) and not isinstance(repetitions, bool):
            return max(1, min(MAX_FOREACH_CONCURRENCY, repetitions))
        return DEFAULT_FOREACH_CONCURRENCY

    def evaluate_until(self, command: EvaluateUntil) -> list[Command]:
        record = self.state.records.get((command.loop, command.repetition))
        if record is None or record.status != RUNNING:
            return []
        action = self.plan.action(command.loop)
        inner = iteration_key(command.repetition, command.loop, command.index)
        context = RunContext(self.scope, inner)
        error: JSONObject | None = None
        try:
            done = condition_holds(action.raw.get("expression"), context)
            limit = action.raw.get("limit")
            limit = evaluate(limit, context) if isinstance(limit, dict) else {}
            count = int(limit.get("count", UNTIL_DEFAULT_COUNT))
            timeout = parse_duration(limit.get("timeout", UNTIL_DEFAULT_TIMEOUT))
        except (ExpressionError, ValueError, TypeError) as failure:
            message = failure.message if isinstance(failure, ExpressionError) else str(failure)
            error = {"code": "InvalidTemplate", "message": message}
            done, count, timeout = True, 0, 0.0
        started = record.start_time or self.clock.now()
        elapsed = (self.clock.now() - started).total_seconds()
        if done or command.index + 1 >= count or elapsed >= timeout:
            status = FAILED if error is not None else command.status
            if status == FAILED and error is None:
                error = {
                    "code": "ActionFailed",
                    "message": "An action failed. No dependent actions succeeded.",
                }
            return [CompleteAction(command.loop, command.repetition, status, error)]
        self.record(replace(record, state={**record.state, "iteration": command.index + 1}))
        return open_container(self.plan, self.state, command.loop, command.repetition)

    # -- executing actions ---------------------------------------------------------------------------
    async def _run_executor(self, action: ActionDef, running: ActionRecord) -> ActionResult:
        executor = EXECUTORS.get(action.type)
        if executor is None:
            return ActionResult.failed(
                f"The action type '{action.type}' is not supported by pairflow.", "ActionTypeNotSupported"
            )
        context = _ExecutorContext(self, action, running.repetition, running.attempts)
        try:
            limit = _action_timeout(action)
            if limit is None:
                return await executor(context)
            return await self._within(limit, executor(context))
        except PairflowError as error:
            return ActionResult.failed(error.message)
        except Exception as error:  # an executor's bug fails its action, not the engine
            return ActionResult.failed(
                f"The action failed unexpectedly: {type(error).__name__}: {error}", "InternalError"
            )

    async def _within(self, seconds: float, work: Awaitable[ActionResult]) -> ActionResult:
        """The executor's result, or TimedOut once `seconds` pass on the run's clock (`limit.timeout`)."""
        task = asyncio.ensure_future(work)
        timer = asyncio.ensure_future(self.clock.sleep(seconds))
        try:
            await asyncio.wait({task, timer}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            timer.cancel()
        if task.done():
            return task.result()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return ActionResult(
            status=Status.TIMED_OUT,
            error={
                "code": "ActionTimedOut",
                "message": f"The action did not complete within {seconds:g} seconds.",
            },
            code="ActionTimedOut",
        )

    async def _execute(self, action: ActionDef, running: ActionRecord) -> None:
        result = await self._run_executor(action, running)
        self.results.put_nowait((running.name, running.repetition, running, result))

    def finish(self, running: ActionRecord, result: ActionResult) -> None:
        """Record an executor's result, then decide what follows."""
        if self.finished:
            return
        action = self.plan.action(running.name)
        # Built directly: `dataclasses.replace` costs more than the rest of finishing an instant action.
        done = ActionRecord(
            running.run_id,
            running.name,
            running.repetition,
            str(result.status),
            running.attempts,
            result.inputs,
            result.outputs,
            result.error,
            result.code,
            running.start_time,
            self.clock.now(),
            running.tracked_properties,
            running.state,
        )
        if result.retry_history:
            done.state = {**done.state, "retryHistory": list(result.retry_history)}
        tracked = action.raw.get("trackedProperties")
        if tracked is not None:
            context = RunContext(self.scope, running.repetition, current=action_result(done))
            try:
                value = evaluate(tracked, context)
                done.tracked_properties = value if isinstance(value, dict) else {"value": value}
            except ExpressionError as error:
                done.tracked_properties = {"error": error.message}
        self.record(done)
        if action.type == "Response" and done.status == SUCCEEDED and isinstance(done.outputs, dict):
            self.reply = done.outputs
        if self.variables.changed:
            self.pending.variables = self.variables.snapshot()
            self.variables.changed = False
        self.apply(decide_after(self.plan, self.state, running.name, running.repetition))

    # -- ending --------------------------------------------------------------------------------------
    def terminate_action(self, action: ActionDef, running: ActionRecord) -> None:
        """Terminate: record it Succeeded and end the run with the status it names."""
        try:
            inputs = evaluate(action.inputs, RunContext(self.scope, running.repetition))
        except ExpressionError as failure:
            self.finish(running, ActionResult.failed(failure.message, "InvalidTemplate"))
            return
        inputs = inputs if isinstance(inputs, dict) else {}
        status = str(inputs.get("runStatus", FAILED))
        status = {"succeeded": SUCCEEDED, "failed": FAILED, "cancelled": CANCELLED}.get(
            status.lower(), FAILED
        )
        error: JSONObject | None = None
        if status == FAILED:
            raw_error = inputs.get("runError")
            error = {"code": "Terminated", "message": "The run was terminated."}
            if isinstance(raw_error, dict):
                error.update({k: v for k, v in raw_error.items() if k in ("code", "message")})
        self.record(replace(running, status=SUCCEEDED, inputs=inputs, end_time=self.clock.now()))
        self.terminate(status, error)

    def terminate(self, status: str, error: JSONObject | None) -> None:
        """End the run now: actions in progress end Cancelled, nothing else starts."""
        now = self.clock.now()
        for task in self.tasks.values():
            task.cancel()
        self.tasks.clear()
        for record in list(self.state.records.values()):
            if record.status == RUNNING:
                self.record(replace(record, status=CANCELLED, end_time=now, code="Cancelled"))
        for key in [key for key, record in self.state.records.items() if record.status == WAITING]:
            del self.state.records[key]
        self.starts.clear()
        self.complete_run(status, error)

    def complete_run(self, status: str, error: JSONObject | None) -> None:
        if self.finished:
            return
        outputs: JSONObject = {}
        context = RunContext(self.scope, "")
        for name, spec in self.plan.definition.outputs.items():
            value = spec.get("value") if isinstance(spec, dict) else None
            try:
                outputs[name] = evaluate(value, context)
            except ExpressionError as failure:
                if status == SUCCEEDED:
                    status = FAILED
                    error = {
                        "code": "InvalidTemplate",
                        "message": f"The workflow output '{name}': {failure.message}",
                    }
        response: JSONObject | None = None
        for record in self.state.records.values():
            action = self.plan.definition.all_actions.get(record.name)
            if action is not None and action.type == "Response" and record.status == SUCCEEDED:
                response = record.outputs if isinstance(record.outputs, dict) else None
                break
        if error is not None and "action" in error:
            error = {"code": error.get("code"), "message": error.get("message"), "action": error["action"]}
        self.pending.status = status
        self.pending.error = error
        self.pending.outputs = outputs
        self.pending.response = response
        self.pending.ended_at = self.clock.now()
        self.pending.release_owner = self.engine.owner  # the last commit also frees the lease
        self.pending.variables = self.variables.snapshot()
        self.finished = True
        ended = self.run.copy()
        ended.status, ended.outputs, ended.error, ended.response = status, outputs, error, response
        ended.ended_at, ended.variables = self.pending.ended_at, self.pending.variables
        ended.owner, ended.lease_until = None, None
        self.ended = ended
