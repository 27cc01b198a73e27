"""Replication, the sending half: this location ships the runs it executes (run record, action
records, the workflow version they ran) and, while active, its active-passive workflows' trigger
state to every peer, so that a peer activated by a failover resumes them (pairflow.continuity.replica
is the receiving half; docs/continuity.md, "Replication").

How changes are found: the engine tells `Shipper.notify` the run ids of every commit batch and of
every run it creates (`Engine.on_committed`); nothing is polled on the hot path. Each peer keeps its
own `Pending` set of run ids: the ids a commit names while a batch is in flight coalesce, so a run
is shipped with its latest state however often it committed meanwhile, and a batch is at most
`batch_runs` runs. A batch that fails goes back to the front of the set and is retried with
exponential backoff; once the peer answers again, everything unfinished and everything changed
since its acknowledged watermark (the store document `replication:peer:<name>`) is shipped again:
the receiver's import is idempotent. The same catch-up runs when this process starts.

A peer that holds a higher epoch refuses the batch (409); this location then adopts that epoch and
steps down (`on_refused`), and drops the batch: the runs are the other location's now.

With `sync`, a Request call waits (`acknowledged`, at most `sync_timeout`) until at least one peer
has stored its new run, so the run survives the loss of this location's disk; on timeout the call
is answered anyway and `syncFallbacks` counts it. While no peer answers (every peer's last batch
failed) a call does not wait at all: it is counted and answered at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx

from pairflow.continuity.lease import headers
from pairflow.continuity.replica_codec import action_json, origin_of, run_json, version_json, version_key
from pairflow.engine.clock import Clock
from pairflow.engine.context import iso
from pairflow.errors import StoreError
from pairflow.jsontypes import JSON, JSONObject
from pairflow.store.base import Store

_log = logging.getLogger(__name__)

REPLICATE_PATH = "/api/continuity/replicate"
MODES = ("async", "sync", "off")
BATCH_RUNS = 100  # runs per POST at most
LINGER = 0.2  # seconds an async shipper lets commits coalesce before it ships
SYNC_TIMEOUT = 2.0  # seconds a Request call waits for a peer's acknowledgement in sync mode
BACKOFF_FIRST, BACKOFF_MAX = 0.2, 5.0  # seconds between retries of a failing peer
TRIGGER_EVERY = 1.0  # seconds between looks at the trigger states to ship
WATERMARK_EVERY = 5.0  # seconds between writes of a peer's watermark document
WATERMARK_MARGIN = timedelta(seconds=1)  # a commit is noticed a little after its records' times
RESYNC_LIMIT = 10000  # runs of each ended status looked at by one catch-up
ACKED_REMEMBERED = 10000  # run ids whose acknowledgement a late `acknowledged` call still finds
TIMEOUT = 10.0  # seconds one POST may take
_EPOCH_START = datetime(1970, 1, 1, tzinfo=UTC)
Refused = Callable[[int, str], Awaitable[None]]


def watermark_key(peer: str) -> str:
    return f"replication:peer:{peer}"


class Pending:
    """Run ids waiting to be shipped to one peer, oldest first, each with the time it first waited
    (pure). A id added again keeps its place and time: it is shipped once, with its latest state."""

    def __init__(self) -> None:
        self._ids: OrderedDict[str, datetime] = OrderedDict()

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, run_ids: Iterable[str], at: datetime) -> None:
        for run_id in run_ids:
            if run_id not in self._ids:
                self._ids[run_id] = at

    def take(self, limit: int) -> list[tuple[str, datetime]]:
        """The oldest `limit` ids, removed."""
        taken: list[tuple[str, datetime]] = []
        while self._ids and len(taken) < limit:
            taken.append(self._ids.popitem(last=False))
        return taken

    def restore(self, items: Sequence[tuple[str, datetime]]) -> None:
        """Put a failed batch back in front, keeping the earlier time of an id added meanwhile."""
        for run_id, at in reversed(items):
            earlier = min(at, self._ids.pop(run_id, at))
            self._ids[run_id] = earlier
            self._ids.move_to_end(run_id, last=False)

    def oldest(self) -> datetime | None:
        return next(iter(self._ids.values()), None)


def watermark(
    oldest_pending: datetime | None, now: datetime, margin: timedelta = WATERMARK_MARGIN
) -> datetime:
    """Every change committed before this instant has been acknowledged (pure): the first time an
    id still waiting was noticed, or now, less the margin between a commit and its notice."""
    return (oldest_pending if oldest_pending is not None and oldest_pending < now else now) - margin


def changed_since(store: Store, since: datetime | None, limit: int = RESYNC_LIMIT) -> list[str]:
    """Ids of the runs a catch-up ships: every unfinished run, and the runs created or ended at or
    after `since` (all runs, up to `limit` per status, when None). Built from the store's existing
    queries; it runs only when a peer comes back or this process starts."""
    found: dict[str, None] = {run.id: None for run in store.unfinished_runs()}
    for status in ("Succeeded", "Failed", "Cancelled"):
        for run in store.list_runs_filtered(status=status, limit=limit):
            changed = since is None or run.created_at >= since
            if changed or (run.ended_at is not None and since is not None and run.ended_at >= since):
                found[run.id] = None
    return list(found)


@dataclass
class _Peer:
    name: str
    url: str
    pending: Pending = field(default_factory=Pending)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    versions: set[str] = field(default_factory=set)  # version keys this peer acknowledged
    states: dict[tuple[str, str], JSONObject] = field(default_factory=dict)  # trigger states it holds
    failures: int = 0
    up: bool = True  # its last batch was acknowledged (optimistic until one fails)
    shipped: int = 0  # runs acknowledged
    batches: int = 0
    last_error: str = ""
    watermark: datetime | None = None
    saved_at: datetime | None = None
    task: asyncio.Task[None] | None = None


@dataclass(frozen=True, slots=True)
class _Batch:
    items: list[tuple[str, datetime]]
    body: JSONObject
    run_ids: list[str]
    versions: list[str]
    states: dict[tuple[str, str], JSONObject]


class Shipper:
    """Ships this location's runs and trigger state to its peers (see the module docstring)."""

    def __init__(
        self,
        store: Store,
        *,
        name: str,
        peers: Mapping[str, str],
        http: httpx.AsyncClient,
        clock: Clock,
        epoch: Callable[[], int],
        acting: Callable[[], bool],
        trigger_states: Callable[[], list[JSONObject]],
        on_refused: Refused,
        api_key: str | None = None,
        sync: bool = False,
        batch_runs: int = BATCH_RUNS,
        linger: float = LINGER,
        sync_timeout: float = SYNC_TIMEOUT,
    ) -> None:
        self.store = store
        self.name = name
        self.http = http
        self.clock = clock
        self.epoch = epoch
        self.acting = acting
        self.trigger_states = trigger_states
        self.on_refused = on_refused
        self.api_key = api_key
        self.sync = sync
        self.batch_runs = max(1, batch_runs)
        self.linger = 0.0 if sync else linger
        self.sync_timeout = sync_timeout
        self.sync_fallbacks = 0
        self._peers = {peer: _Peer(peer, url.rstrip("/")) for peer, url in peers.items()}
        self._waiters: dict[str, list[asyncio.Future[None]]] = {}
        self._acked: deque[str] = deque(maxlen=ACKED_REMEMBERED)
        self._acked_set: set[str] = set()

    # -- what the engine and the Request path call ---------------------------------------------------
    def notify(self, run_ids: Sequence[str]) -> None:
        """Runs were created or committed: ship them (cheap; called on the commit path)."""
        if not self._peers or not run_ids:
            return
        now = self.clock.now()
        for peer in self._peers.values():
            peer.pending.add(run_ids, now)
            peer.wake.set()

    async def acknowledged(self, run_id: str, timeout: float | None = None) -> bool:
        """Wait until a peer stored the run (sync mode); False, counted, after `timeout` seconds."""
        if not self._peers or run_id in self._acked_set:
            return True
        if not any(peer.up for peer in self._peers.values()):
            self.sync_fallbacks += 1  # no peer answers: waiting would only delay every caller
            return False
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(run_id, []).append(future)
        try:
            await asyncio.wait_for(future, self.sync_timeout if timeout is None else timeout)
            return True
        except TimeoutError:
            self.sync_fallbacks += 1
            return False
        finally:
            waiters = self._waiters.get(run_id)
            if waiters is not None and future in waiters:
                waiters.remove(future)
                if not waiters:
                    del self._waiters[run_id]

    def status(self) -> JSONObject:
        return {
            "mode": "sync" if self.sync else "async",
            "syncFallbacks": self.sync_fallbacks,
            "peers": {
                peer.name: {
                    "url": peer.url,
                    "pending": len(peer.pending),
                    "shippedRuns": peer.shipped,
                    "batches": peer.batches,
                    "failures": peer.failures,
                    "lastError": peer.last_error or None,
                    "watermark": iso(peer.watermark),
                }
                for peer in self._peers.values()
            },
        }

    # -- lifecycle -----------------------------------------------------------------------------------
    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        for peer in self._peers.values():
            peer.task = loop.create_task(self._run(peer), name=f"replication to {peer.name}")

    async def stop(self) -> None:
        for peer in self._peers.values():
            if peer.task is not None:
                peer.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await peer.task
                peer.task = None

    async def flush(self, timeout: float) -> bool:
        """Wait until nothing waits to be shipped to any peer (or `timeout` seconds); True when empty."""
        deadline = asyncio.get_running_loop().time() + timeout
        while any(len(peer.pending) for peer in self._peers.values()):
            if asyncio.get_running_loop().time() >= deadline:
                return False
            await asyncio.sleep(0.02)
        return True

    # -- the loop of one peer ------------------------------------------------------------------------
    async def _run(self, peer: _Peer) -> None:
        self._catch_up(peer)
        backoff = 0.0
        while True:
            if not len(peer.pending):
                peer.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(peer.wake.wait(), TRIGGER_EVERY)
            if self.linger and len(peer.pending) < self.batch_runs:
                await self.clock.sleep(self.linger)
            try:
                shipped = await self._ship(peer)
            except StoreError as error:
                shipped, peer.last_error = False, f"store: {error.message}"
                _log.error("replication to %s: %s", peer.name, error.message)
            peer.up = shipped
            if shipped:
                if backoff:
                    _log.warning("replication to %s resumed: catching up", peer.name)
                    self._catch_up(peer)
                backoff = 0.0
                continue
            peer.failures += 1
            backoff = min(BACKOFF_MAX, backoff * 2 if backoff else BACKOFF_FIRST)
            await self.clock.sleep(backoff)

    def _catch_up(self, peer: _Peer) -> None:
        """Queue everything unfinished and everything changed since the peer's watermark."""
        try:
            found = self.store.get_meta(watermark_key(peer.name))
            since = None
            if found is not None:
                text = found[0].get("watermark")
                since = datetime.fromisoformat(text.replace("Z", "+00:00")) if isinstance(text, str) else None
            ids = changed_since(self.store, since)
        except (StoreError, ValueError) as error:
            _log.error("replication to %s: catch-up not possible: %s", peer.name, error)
            return
        if ids:
            peer.pending.restore([(run_id, since or _EPOCH_START) for run_id in ids])
            peer.wake.set()

    def _batch(self, peer: _Peer) -> _Batch | None:
        items = peer.pending.take(self.batch_runs)
        runs: list[JSON] = []
        run_ids: list[str] = []
        versions: dict[str, JSON] = {}
        try:
            for run_id, _ in items:
                run = self.store.get_run(run_id)
                if run is None or origin_of(run.owner) is not None:
                    continue  # a replica belongs to its origin: never shipped onwards
                key = version_key(run.workflow, run.version)
                if key not in peer.versions and key not in versions:
                    found = self.store.get_workflow(run.workflow, run.version)
                    if found is not None:
                        versions[key] = version_json(found)
                actions: list[JSON] = [action_json(a) for a in self.store.load_actions(run_id)]
                runs.append({"run": run_json(run), "actions": actions})
                run_ids.append(run_id)
        except StoreError:
            peer.pending.restore(items)
            raise
        states = self._changed_states(peer)
        if not runs and not states:
            return None
        body: JSONObject = {
            "location": self.name,
            "epoch": self.epoch(),
            "sentAt": iso(self.clock.now()),
            "versions": versions,
            "runs": runs,
            "triggers": [{"workflow": w, "trigger": t, "state": s} for (w, t), s in states.items()],
        }
        return _Batch(items, body, run_ids, list(versions), states)

    def _changed_states(self, peer: _Peer) -> dict[tuple[str, str], JSONObject]:
        if not self.acting():
            return {}
        changed: dict[tuple[str, str], JSONObject] = {}
        for item in self.trigger_states():
            workflow, trigger, state = item.get("workflow"), item.get("trigger"), item.get("state")
            if (
                isinstance(workflow, str)
                and isinstance(trigger, str)
                and isinstance(state, dict)
                and peer.states.get((workflow, trigger)) != state
            ):
                changed[(workflow, trigger)] = state
        return changed

    async def _ship(self, peer: _Peer) -> bool:
        """One batch to the peer; False when it must be retried later."""
        batch = self._batch(peer)
        if batch is None:
            self._settle([], peer)
            return True
        epoch = batch.body["epoch"]
        try:
            answer = await self.http.post(
                peer.url + REPLICATE_PATH,
                json=batch.body,
                headers=headers(self.api_key, epoch if isinstance(epoch, int) else None),
                timeout=TIMEOUT,
            )
            data = answer.json()
        except (httpx.HTTPError, ValueError) as error:
            peer.pending.restore(batch.items)
            peer.last_error = f"{type(error).__name__}: {error}"
            return False
        if answer.status_code == 409 and isinstance(data, dict) and data.get("accepted") is False:
            higher = data.get("epoch")
            peer.last_error = str(data.get("reason") or "refused")
            if isinstance(higher, int) and not isinstance(higher, bool) and higher > self.epoch():
                await self.on_refused(higher, peer.name)
            return False  # dropped: the runs belong to the location with the higher epoch
        if answer.status_code != 200 or not isinstance(data, dict) or data.get("accepted") is not True:
            peer.pending.restore(batch.items)
            peer.last_error = f"HTTP {answer.status_code}: {str(data)[:200]}"
            return False
        need = data.get("needVersions")
        missing = {str(key) for key in need} if isinstance(need, list) else set()
        peer.versions |= set(batch.versions)
        peer.versions -= missing
        redo = [(run_id, at) for run_id, at in batch.items if _needs(self.store, run_id, missing)]
        if redo:
            peer.pending.restore(redo)
        peer.states.update(batch.states)
        peer.batches += 1
        acked = [run_id for run_id in batch.run_ids if run_id not in {r for r, _ in redo}]
        peer.shipped += len(acked)
        peer.last_error = ""
        self._settle(acked, peer)
        return True

    def _settle(self, run_ids: Sequence[str], peer: _Peer) -> None:
        """Wake the sync waiters of acknowledged runs; move the peer's watermark now and then."""
        for run_id in run_ids:
            if self.sync and run_id not in self._acked_set:
                if len(self._acked) == self._acked.maxlen:
                    self._acked_set.discard(self._acked[0])
                self._acked.append(run_id)
                self._acked_set.add(run_id)
            for future in self._waiters.pop(run_id, ()):
                if not future.done():
                    future.set_result(None)
        now = self.clock.now()
        peer.watermark = watermark(peer.pending.oldest(), now)
        if peer.saved_at is None or (now - peer.saved_at).total_seconds() >= WATERMARK_EVERY:
            try:
                self.store.put_meta(watermark_key(peer.name), {"watermark": iso(peer.watermark)})
                peer.saved_at = now
            except StoreError as error:
                _log.error("replication to %s: watermark not saved: %s", peer.name, error.message)


def _needs(store: Store, run_id: str, missing: set[str]) -> bool:
    if not missing:
        return False
    run = store.get_run(run_id)
    return run is not None and version_key(run.workflow, run.version) in missing
