"""The dispatcher: which committed runs execute now, which wait, and telling callers their reply.

Owns executing runs in the background of one event loop. A workflow whose trigger sets
`runtimeConfiguration.concurrency.runs` executes at most that many runs at once; the others wait in
a per-workflow queue of at most `maximumWaitingRuns` (admission is checked before a run is
created, so a full queue answers 429 rather than losing a committed run). All workflows together
execute at most `max_concurrent_runs` runs.

Also owns `wait_reply`: the engine tells the dispatcher (`Engine.on_reply`) when a run's Response
record is committed and when the run ends; callers waiting for that run are woken. Stopping
cancels the runs still executing after a grace period without recording anything: they stay
Running in the store and the next `start` (here or in another process) resumes them.

Sharing a store with other processes: every `sweep_seconds` (a third of the engine's lease) the
sweeper claims runs nobody executes — a lease expired, or no owner — with `Store.claim_runs`, one
atomic claim per run, and executes them. A caller waiting here for a run another process executes
(this one's execution was taken over) is answered from the store: at once when the store announces
replies (`Store.watch_runs`, PostgreSQL's LISTEN/NOTIFY; this dispatcher announces the replies of the
runs it took over), else by reading the store again every `REMOTE_POLL_SECONDS`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pairflow.definition.model import build_definition
from pairflow.engine.clock import Clock, SystemClock
from pairflow.engine.runner import Engine, RunLeasedError, owner_is_dead
from pairflow.errors import PairflowError, StoreError
from pairflow.jsontypes import JSONObject
from pairflow.store.records import ActionRecord, RunRecord, TriggerFire

_log = logging.getLogger(__name__)

RUNNING = "Running"
SUCCEEDED = "Succeeded"
DEFAULT_MAX_CONCURRENT_RUNS = 200  # runs executing at once in this process, all workflows together
# Logic Apps' documented ceiling for waiting runs; used when a trigger limits concurrency without
# saying how many may wait.
DEFAULT_MAXIMUM_WAITING_RUNS = 100
MAX_CONCURRENCY_RUNS = 100  # Logic Apps' upper bound for runtimeConfiguration.concurrency.runs
# How often a caller waiting for a run another process executes reads the store again: often when
# the store cannot announce replies, rarely (in case an announcement was lost) when it can.
REMOTE_POLL_SECONDS = 0.2
REMOTE_POLL_ANNOUNCED_SECONDS = 2.0


class TooManyWaitingRunsError(PairflowError):
    """The workflow's queue of waiting runs is full; try again later."""


@dataclass(frozen=True)
class RunReply:
    """What an HTTP caller of a run is answered: the Response's outputs (or None) and the run status."""

    response: JSONObject | None
    status: str


@dataclass(frozen=True)
class RunLimits:
    """A workflow's trigger concurrency: None runs means unlimited (no queue)."""

    runs: int | None
    waiting: int


UNLIMITED = RunLimits(None, DEFAULT_MAXIMUM_WAITING_RUNS)


@dataclass(frozen=True)
class FiredRun:
    """A Request run executing before its fire is written (`Dispatcher.start_fired`)."""

    fire: TriggerFire
    durable: asyncio.Future[None]  # settles once the fire is written (or with why it was not)
    reply: asyncio.Future[RunReply | None] | None  # its caller's reply, when one was wanted


def run_limits(definition: JSONObject) -> RunLimits:
    """Read `runtimeConfiguration.concurrency` of the definition's (first) trigger."""
    triggers = definition.get("triggers")
    if not isinstance(triggers, dict) or not triggers:
        return UNLIMITED
    trigger = next(iter(triggers.values()))
    config = trigger.get("runtimeConfiguration") if isinstance(trigger, dict) else None
    concurrency = config.get("concurrency") if isinstance(config, dict) else None
    if not isinstance(concurrency, dict):
        return UNLIMITED
    runs = concurrency.get("runs")
    waiting = concurrency.get("maximumWaitingRuns")
    limit = (
        max(1, min(MAX_CONCURRENCY_RUNS, runs))
        if isinstance(runs, int) and not isinstance(runs, bool)
        else None
    )
    most = (
        max(0, waiting)
        if isinstance(waiting, int) and not isinstance(waiting, bool)
        else DEFAULT_MAXIMUM_WAITING_RUNS
    )
    return RunLimits(limit, most)


class _Lane:
    """One workflow's executing count and waiting queue."""

    __slots__ = ("executing", "limits", "version", "waiting")

    def __init__(self, limits: RunLimits, version: int) -> None:
        self.limits = limits
        self.version = version
        self.executing = 0
        self.waiting: deque[RunRecord] = deque()

    def has_room(self) -> bool:
        return self.limits.runs is None or self.executing < self.limits.runs


class Dispatcher:
    """Executes committed runs in the background, within each workflow's concurrency limit."""

    def __init__(
        self,
        engine: Engine,
        *,
        max_concurrent_runs: int = DEFAULT_MAX_CONCURRENT_RUNS,
        sweep_seconds: float | None = None,
    ) -> None:
        """`sweep_seconds`: real seconds between claims of runs nobody executes (default: a third of
        the engine's lease, so a dead process's runs continue within about 1⅓ leases)."""
        self._engine = engine
        self._max_concurrent = max(1, max_concurrent_runs)
        self._slots = asyncio.Semaphore(self._max_concurrent)
        self._sweep_seconds = sweep_seconds if sweep_seconds is not None else engine.lease_seconds / 3
        self._lanes: dict[str, _Lane] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._waiters: dict[str, list[asyncio.Future[RunReply | None]]] = {}
        self._limits: dict[tuple[str, int], RunLimits] = {}
        self._admitting: dict[str, int] = {}  # runs admitted and being committed, not submitted yet
        self._resuming: asyncio.Task[None] | None = None
        self._adopted: set[str] = set()  # runs executing here that another process started
        self._listening: asyncio.Task[None] | None = None
        self._polling: asyncio.Task[None] | None = None
        self._stopping = False
        engine.on_reply = self._on_reply

    # -- public API ----------------------------------------------------------------------------------
    async def start(self) -> None:
        """Resume, in the background, every unfinished run this process can take; then keep taking
        the runs whose process died (their lease expired)."""
        self._stopping = False
        loop = asyncio.get_running_loop()
        self._resuming = loop.create_task(self._resume_and_sweep(), name="dispatcher sweeper")

    def submit(self, run: RunRecord) -> None:
        """Execute a just-committed run (no action records yet) now or when its workflow has room."""
        self._enqueue(run, fresh=True)

    def start_fired(self, fire: TriggerFire, *, want_reply: bool) -> FiredRun | None:
        """Execute the one run of a Request `fire` now, its first commit writing the fire
        (`Engine.execute_fired`: one transaction for the run and its first steps). The caller waits
        for `durable` before answering, then for `fired_reply`, registered here already since the
        reply may be told as soon as the fire is written. None when the run could not start at
        once (its workflow's concurrency is full, every slot is taken, or the dispatcher stops):
        the caller then writes the fire itself and `submit`s the run."""
        if len(fire.runs) != 1 or self._stopping or self._slots.locked():
            return None
        run = fire.runs[0]
        lane = self._lane(run)
        if not lane.has_room():
            return None
        loop = asyncio.get_running_loop()
        reply = self._expect_reply(run.id) if want_reply else None
        fired = FiredRun(fire, loop.create_future(), reply)
        self._launch(lane, run, fresh=True, fire=fired)
        return fired

    async def fired_reply(self, fired: FiredRun, timeout: float) -> RunReply | None:
        """`wait_reply` for a run started by `start_fired` with `want_reply`."""
        assert fired.reply is not None
        try:
            return await self._within(fired.reply, timeout)
        finally:
            self._forget_reply(fired.fire.runs[0].id, fired.reply)

    def forget_fired(self, fired: FiredRun) -> None:
        """The caller of a `start_fired` run stopped waiting (an error, a disconnect)."""
        if fired.reply is not None:
            self._forget_reply(fired.fire.runs[0].id, fired.reply)

    def check_admission(self, workflow: str) -> None:
        """Raise `TooManyWaitingRunsError` when a new run of `workflow` could not even wait.

        Runs admitted earlier and still being committed (`admitting`) count as if submitted."""
        lane = self._lanes.get(workflow)
        if lane is None or lane.limits.runs is None:
            return
        ahead = self._admitting.get(workflow, 0)
        room = max(0, lane.limits.runs - lane.executing)
        if ahead < room:
            return  # it executes at once
        waiting = len(lane.waiting) + ahead - room
        if waiting >= lane.limits.waiting:
            raise TooManyWaitingRunsError(
                f"workflow '{workflow}': {waiting} runs are waiting already, the trigger's "
                f"maximumWaitingRuns is {lane.limits.waiting}"
            )

    @contextlib.contextmanager
    def admitting(self, workflow: str) -> Iterator[None]:
        """Hold the place of an admitted run of `workflow` until it is submitted: its commit awaits
        (shared with other callers), and the admission checks meanwhile must count it."""
        self._admitting[workflow] = self._admitting.get(workflow, 0) + 1
        try:
            yield
        finally:
            left = self._admitting[workflow] - 1
            if left:
                self._admitting[workflow] = left
            else:
                del self._admitting[workflow]

    def waiting_count(self, workflow: str) -> int:
        lane = self._lanes.get(workflow)
        return len(lane.waiting) if lane is not None else 0

    def executing_count(self, workflow: str | None = None) -> int:
        if workflow is None:
            return len(self._tasks)
        lane = self._lanes.get(workflow)
        return lane.executing if lane is not None else 0

    async def wait_reply(self, run_id: str, timeout: float) -> RunReply | None:
        """The run's reply once its Response is committed or it ended; None after `timeout` seconds."""
        future = self._expect_reply(run_id)
        try:
            if run_id not in self._tasks and not self._is_queued(run_id):
                early = self._reply_from_store(run_id)
                if early is not None:
                    return early
                self._poll_remote()  # another process executes it
            return await self._within(future, timeout)
        finally:
            self._forget_reply(run_id, future)

    def _expect_reply(self, run_id: str) -> asyncio.Future[RunReply | None]:
        future: asyncio.Future[RunReply | None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(run_id, []).append(future)
        return future

    def _forget_reply(self, run_id: str, future: asyncio.Future[RunReply | None]) -> None:
        waiters = self._waiters.get(run_id)
        if waiters is not None and future in waiters:
            waiters.remove(future)
            if not waiters:
                del self._waiters[run_id]

    async def stop(self, grace: float) -> None:
        """Start nothing more; after `grace` seconds cancel the runs still executing.

        A cancelled run keeps its committed records and its Running status: resuming it later
        re-executes only the actions that had not committed a result.
        """
        self._stopping = True
        for task in (self._resuming, self._listening, self._polling):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._resuming = self._listening = self._polling = None
        for lane in self._lanes.values():
            lane.waiting.clear()
        tasks = list(self._tasks.values())
        if tasks:
            # The grace period is the engine clock's time, like every wait of a run.
            everything = asyncio.gather(*tasks, return_exceptions=True)
            await _within(everything, self._engine.clock, max(0.0, grace))
            for task in tasks:
                task.cancel()
            await everything

    # -- internals -----------------------------------------------------------------------------------
    async def _resume_and_sweep(self) -> None:
        self._resume()
        while True:
            await asyncio.sleep(self._sweep_seconds)  # real time: leases expire by the store's clocks
            self.sweep()

    def _resume(self) -> None:
        """Every unfinished run that is ours, unowned, expired or held by a process gone from this
        host; the ones live processes hold are left to them without asking the store."""
        engine = self._engine
        try:
            unfinished = engine.store.unfinished_runs()
        except StoreError as error:
            _log.error("cannot list unfinished runs: %s", error.message)
            return
        now = engine.clock.now()
        for run in unfinished:
            live = run.lease_until is not None and run.lease_until > now
            if run.owner is not None and run.owner != engine.owner and live and not owner_is_dead(run.owner):
                continue
            if run.id not in self._tasks and not self._is_queued(run.id):
                self._enqueue(run, fresh=False)

    def sweep(self) -> int:
        """Claim the runs nobody executes (as many as this process has room for) and execute them;
        returns how many were claimed."""
        engine = self._engine
        room = self._max_concurrent - len(self._tasks)
        if room <= 0 or self._stopping:
            return 0
        now = engine.clock.now()
        until = now + timedelta(seconds=engine.lease_seconds)
        try:
            claimed = engine.store.claim_runs(engine.owner, now, until, room)
        except StoreError as error:
            _log.error("cannot claim runs: %s", error.message)
            return 0
        for run in claimed:
            if run.id in self._tasks or self._is_queued(run.id):
                continue  # ours already (its lease had lapsed while it waited or ran)
            if self._stopping:
                with contextlib.suppress(StoreError):
                    engine.store.release_run(run.id, engine.owner)
                continue
            _log.info("run %s of %s: taken over, its lease had expired", run.id, run.workflow)
            self._enqueue(run, fresh=False)
        return len(claimed)

    def _enqueue(self, run: RunRecord, *, fresh: bool) -> None:
        if self._stopping:
            return  # committed and Running: the next start resumes it
        lane = self._lane(run)
        if lane.has_room():
            self._launch(lane, run, fresh=fresh)
        else:
            lane.waiting.append(run)

    def _lane(self, run: RunRecord) -> _Lane:
        lane = self._lanes.get(run.workflow)
        if lane is None:
            lane = self._lanes[run.workflow] = _Lane(self._limits_of(run), run.version)
        elif run.version > lane.version:
            lane.limits, lane.version = self._limits_of(run), run.version
        return lane

    def _limits_of(self, run: RunRecord) -> RunLimits:
        key = (run.workflow, run.version)
        limits = self._limits.get(key)
        if limits is None:
            found = self._engine.store.get_workflow(run.workflow, run.version)
            limits = run_limits(found.definition) if found is not None else UNLIMITED
            self._limits[key] = limits
        return limits

    def _launch(self, lane: _Lane, run: RunRecord, *, fresh: bool, fire: FiredRun | None = None) -> None:
        lane.executing += 1
        task = asyncio.get_running_loop().create_task(self._execute(run, fresh, fire))
        self._tasks[run.id] = task
        task.add_done_callback(lambda _: self._finished(lane, run.id))

    def _finished(self, lane: _Lane, run_id: str) -> None:
        self._tasks.pop(run_id, None)
        lane.executing -= 1
        while lane.waiting and lane.has_room() and not self._stopping:
            # Read back from the store: the run may have been cancelled while it waited.
            self._launch(lane, lane.waiting.popleft(), fresh=False)

    async def _execute(self, run: RunRecord, fresh: bool, fire: FiredRun | None = None) -> None:
        async with self._slots:
            try:
                if fire is not None:
                    await self._engine.execute_fired(fire.fire, fire.durable)
                elif fresh:
                    # The run was just committed by its trigger: nothing to load back.
                    await self._engine._execute(run, fresh=True)
                else:
                    # A caller waiting for it may be in the process that started it: announce its reply.
                    self._adopted.add(run.id)
                    await self._engine.execute(run.id)
            except RunLeasedError:
                if run.id in self._waiters:
                    self._poll_remote()  # another process executes it: its callers here still wait
            except PairflowError as error:
                _log.error("run %s of %s could not execute: %s", run.id, run.workflow, error.message)
            finally:
                self._adopted.discard(run.id)

    def _is_queued(self, run_id: str) -> bool:
        return any(queued.id == run_id for lane in self._lanes.values() for queued in lane.waiting)

    def _on_reply(self, run_id: str, response: JSONObject | None, status: str) -> None:
        if run_id in self._adopted:
            try:
                self._engine.store.announce_runs([run_id])
            except StoreError as error:  # its callers elsewhere find the reply by reading the store
                _log.warning("reply of run %s not announced: %s", run_id, error.message)
        self._wake(run_id, RunReply(response, status))

    def _wake(self, run_id: str, reply: RunReply) -> None:
        waiters = self._waiters.pop(run_id, None)
        for future in waiters or ():
            if not future.done():
                future.set_result(reply)

    def _remote_waits(self) -> list[str]:
        """The runs callers wait for here that this process does not execute."""
        waits = self._waiters
        return [run_id for run_id in waits if run_id not in self._tasks and not self._is_queued(run_id)]

    def _check_remote(self, run_id: str) -> None:
        try:
            reply = self._reply_from_store(run_id)
        except PairflowError as error:
            _log.warning("reply of run %s not readable: %s", run_id, error.message)
            return
        if reply is not None:
            self._wake(run_id, reply)

    def _announced(self, run_id: str) -> None:
        """Another process committed a reply of `run_id` (`Store.watch_runs`)."""
        if run_id in self._waiters and run_id not in self._tasks:
            self._check_remote(run_id)

    def _poll_remote(self) -> None:
        """Read the store for the replies of runs executed elsewhere until no caller waits for one."""
        loop = asyncio.get_running_loop()
        store = self._engine.store
        if store.announces and self._listening is None:
            # Listening from the first such wait on (rare: the common case executes here), so that a
            # process that never waits for another's run holds no listening connection.
            self._listening = loop.create_task(store.watch_runs(self._announced), name="reply listener")
        if self._polling is None or self._polling.done():
            self._polling = loop.create_task(self._remote_poll(), name="reply poller")

    async def _remote_poll(self) -> None:
        every = REMOTE_POLL_ANNOUNCED_SECONDS if self._engine.store.announces else REMOTE_POLL_SECONDS
        while remote := self._remote_waits():
            for run_id in remote:
                self._check_remote(run_id)
            await asyncio.sleep(every)

    def _reply_from_store(self, run_id: str) -> RunReply | None:
        """For a run not executing here: its reply if it ended or committed a Response already."""
        run = self._engine.store.get_run(run_id)
        if run is None:
            return None
        if run.status != RUNNING:
            return RunReply(run.response, run.status)
        found = self._engine.store.get_workflow(run.workflow, run.version)
        if found is None:
            return None
        definition = build_definition(found.definition)
        actions = definition.all_actions
        names = frozenset(name for name, action in actions.items() if action.type == "Response")
        if not names:
            return None
        response = _committed_response(self._engine.store.load_actions(run_id), names)
        return RunReply(response, RUNNING) if response is not None else None

    async def _within(self, future: asyncio.Future[RunReply | None], timeout: float) -> RunReply | None:
        clock = self._engine.clock
        if isinstance(clock, SystemClock):
            # A timer that answers None, cheaper on the hot path than a cancelling timeout scope.
            timer = asyncio.get_running_loop().call_later(timeout, _answer_none, future)
            try:
                return await future
            finally:
                timer.cancel()
        await _within(future, clock, timeout)
        return future.result() if future.done() else None


def _answer_none(future: asyncio.Future[RunReply | None]) -> None:
    if not future.done():
        future.set_result(None)


async def _within(future: asyncio.Future[Any], clock: Clock, seconds: float) -> None:
    """Wait until `future` is done or `seconds` of `clock` time passed, whichever comes first."""
    sleeper: asyncio.Future[Any] = asyncio.ensure_future(clock.sleep(seconds))
    waited: list[asyncio.Future[Any]] = [future, sleeper]
    try:
        await asyncio.wait(waited, return_when=asyncio.FIRST_COMPLETED)
    finally:
        sleeper.cancel()


def _committed_response(records: list[ActionRecord], names: frozenset[str]) -> JSONObject | None:
    """The outputs of a Succeeded Response among a run's committed records, if any."""
    for record in records:
        if record.name in names and record.status == SUCCEEDED and isinstance(record.outputs, dict):
            return record.outputs
    return None


__all__ = [
    "DEFAULT_MAXIMUM_WAITING_RUNS",
    "Dispatcher",
    "RunLimits",
    "RunReply",
    "TooManyWaitingRunsError",
    "run_limits",
]
